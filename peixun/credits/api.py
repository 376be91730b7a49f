"""Credits API: standings with explanations, the ledger, policies, degree offsets, floor training."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import NotFound
from peixun.roster.models import Teacher
from peixun.roster.selectors import teacher_get

from . import reports, selectors, services

router = Router(tags=["credits"])


class CategoryOut(Schema):
    code: str
    label: str
    earned: Decimal
    counted: Decimal
    required: Decimal
    missing: Decimal
    projected: Decimal
    transferred_in: Decimal
    notes: list[str]


class ExplanationOut(Schema):
    entry_id: int
    earned_on: date
    category: str
    amount: Decimal
    source_type: str
    source_id: int
    counted: Decimal
    status: str
    reasons: list[str]


class YearOut(Schema):
    school_year: int
    credits: Decimal
    required: Decimal
    state: str


class StandingOut(Schema):
    teacher_id: int
    cycle: int
    cycle_start: date
    cycle_end: date
    compliant: bool
    projected_compliant: bool
    at_risk: bool
    exempt: bool
    shortfall: Decimal
    categories: list[CategoryOut]
    total: CategoryOut | None
    years: list[YearOut]
    explanations: list[ExplanationOut]


def _standing_out(teacher_id: int, s) -> StandingOut:
    def cat(c):
        return CategoryOut(
            code=c.code,
            label=str(c.label),
            earned=c.earned,
            counted=c.counted,
            required=c.required,
            missing=c.missing,
            projected=c.projected,
            transferred_in=c.transferred_in,
            notes=[str(n) for n in c.notes],
        )

    return StandingOut(
        teacher_id=teacher_id,
        cycle=s.cycle,
        cycle_start=s.cycle_start,
        cycle_end=s.cycle_end,
        compliant=s.compliant,
        projected_compliant=s.projected_compliant,
        at_risk=s.at_risk,
        exempt=s.exempt,
        shortfall=s.shortfall,
        categories=[cat(c) for c in s.categories],
        total=cat(s.total) if s.total else None,
        years=[
            YearOut(school_year=y.school_year, credits=y.credits, required=y.required, state=y.state) for y in s.years
        ],
        explanations=[
            ExplanationOut(
                entry_id=x.entry.id,
                earned_on=x.entry.earned_on,
                category=x.entry.category,
                amount=x.entry.amount,
                source_type=x.entry.source_type,
                source_id=x.entry.source_id,
                counted=x.counted,
                status=x.status,
                reasons=[str(r) for r in x.reasons],
            )
            for x in s.explanations
        ],
    )


@router.get("/me", response=StandingOut, summary="我的学分（各类别、解释与预测）")
def my_standing(request):
    actor = request.actor
    teacher = Teacher.objects.filter(pk=actor.teacher_id).first() if actor.teacher_id else None
    if teacher is None:
        raise NotFound("当前角色不是教师")
    s, _rows = selectors.teacher_standing(actor=actor, teacher=teacher, upcoming=selectors.upcoming_classes(teacher))
    return _standing_out(teacher.pk, s)


@router.get("/teachers/{teacher_id}", response=StandingOut, summary="某教师的学分情况（按权限范围）")
def teacher_standing(request, teacher_id: Id):
    teacher = teacher_get(actor=request.actor, teacher_id=teacher_id)
    s, _rows = selectors.teacher_standing(actor=request.actor, teacher=teacher)
    return _standing_out(teacher.pk, s)


class LedgerOut(Schema):
    id: int
    teacher_id: int
    cycle: int
    category: str
    level: str
    amount: Decimal
    earned_on: date
    source_type: str
    source_id: int
    project_id: int | None
    reverses_id: int | None
    note: str


@router.get("/ledger", response=list[LedgerOut], summary="学分账目（只增不改；冲销为负数新账目）")
@paginate(LimitOffsetPagination)
def ledger(request, teacher_id: Id | None = None):
    return selectors.ledger_list(actor=request.actor, teacher_id=teacher_id)


class AdjustmentIn(Schema):
    teacher_id: Id
    category: str
    amount: Decimal
    reason: str
    level: str = ""
    earned_on: date | None = None


class AdjustmentOut(Schema):
    id: int
    teacher_id: int
    category: str
    amount: Decimal
    reason: str


@router.post("/adjustments", response={201: AdjustmentOut}, summary="手工调整学分（授权人员，记入审计）")
def adjustment_create(request, payload: AdjustmentIn):
    teacher = teacher_get(actor=request.actor, teacher_id=payload.teacher_id)
    data = payload.dict()
    data.pop("teacher_id")
    return 201, services.adjustment_create(actor=request.actor, teacher=teacher, **data)


class RegionRowOut(Schema):
    id: int
    name: str
    teachers: int
    exempt: int
    compliant: int
    on_track: int
    at_risk: int
    averages: list[Decimal]


class ReportOut(Schema):
    level: str
    cycle: int
    categories: list[dict]
    rows: list[RegionRowOut]


@router.get("/report", response=ReportOut, summary="按地区的学分完成情况（豁免人员不计入）")
def region_report(request):
    from peixun.core.scopes import require

    require(request.actor, "credits.standing.view")
    return reports.region_report(actor=request.actor, rules=selectors.active_rules())


class PolicyOut(Schema):
    id: int
    version: int
    name: str
    preset: str
    status: str
    data: dict


@router.get("/policies", response=list[PolicyOut], summary="学分政策（各版本）")
@paginate(LimitOffsetPagination)
def policies(request):
    return selectors.policy_list(actor=request.actor)


class WhatifJobOut(Schema):
    job_id: int
    status: str
    status_url: str


@router.post(
    "/policies/{policy_id}/whatif", response={202: WhatifJobOut}, summary="假设分析：启动后台任务（草案与现行政策对比）"
)
def policy_whatif_start(request, policy_id: Id):
    from django.urls import reverse

    policy = selectors.policy_get(actor=request.actor, policy_id=policy_id)
    job = services.whatif_start(actor=request.actor, policy=policy)
    return 202, {"job_id": job.pk, "status": job.status, "status_url": reverse("api:job", args=[job.pk])}


@router.get("/policies/{policy_id}/whatif", summary="假设分析结果：草案与现行政策下各区县达标/风险人数（最近一次任务）")
def policy_whatif(request, policy_id: Id):
    from django.urls import reverse

    policy = selectors.policy_get(actor=request.actor, policy_id=policy_id)
    job = selectors.whatif_job(actor=request.actor, policy=policy)
    if job is None:
        raise NotFound(_("No comparison has been run for this policy yet."))
    result = job.result.get("comparison") if job.status == job.Status.SUCCEEDED else None
    return {
        "job_id": job.pk,
        "status": job.status,
        "status_url": reverse("api:job", args=[job.pk]),
        "outdated": selectors.whatif_outdated(job, policy),
        "rows": [
            {
                "county": r["name"],
                "teachers": r["teachers"],
                "compliant_active": r["before"]["compliant"],
                "compliant_draft": r["after"]["compliant"],
                "at_risk_active": r["before"]["at_risk"],
                "at_risk_draft": r["after"]["at_risk"],
            }
            for r in (result or {}).get("rows", [])
        ],
        "totals": (result or {}).get("totals", {}),
    }


class PolicyActivatedOut(PolicyOut):
    job_id: int
    job_status: str
    status_url: str


@router.post(
    "/policies/{policy_id}/activate",
    response=PolicyActivatedOut,
    summary="启用政策（审计；账目不改写，后台任务重新计算，status_url 查看进度）",
)
def policy_activate(request, policy_id: Id):
    from django.urls import reverse

    policy = selectors.policy_get(actor=request.actor, policy_id=policy_id)
    policy = services.policy_activate(actor=request.actor, policy=policy)
    job = selectors.activation_job(actor=request.actor, policy=policy)
    return {
        **{field: getattr(policy, field) for field in PolicyOut.model_fields},
        "job_id": job.pk,
        "job_status": job.status,
        "status_url": reverse("api:job", args=[job.pk]),
    }


class DegreeOut(Schema):
    id: int
    teacher_id: int
    degree: str
    institution_name: str
    obtained_on: date
    status: str
    credits: Decimal
    decision_note: str


@router.get("/degrees", response=list[DegreeOut], summary="学历冲抵申请")
@paginate(LimitOffsetPagination)
def degrees(request, status: str = ""):
    return selectors.degree_offset_list(actor=request.actor, status=status)


class ReviewIn(Schema):
    approve: bool
    note: str = ""


@router.post("/degrees/{offset_id}/review", response=DegreeOut, summary="审核学历冲抵（区县）")
def degree_review(request, offset_id: Id, payload: ReviewIn):
    offset = selectors.degree_offset_get(actor=request.actor, offset_id=offset_id)
    return services.degree_offset_review(actor=request.actor, offset=offset, approve=payload.approve, note=payload.note)


class FloorOut(Schema):
    id: int
    county_id: int
    name: str
    school_year: int
    credits_per_teacher: Decimal
    status: str


@router.get("/floor", response=list[FloorOut], summary="托底培训方案")
@paginate(LimitOffsetPagination)
def floor(request):
    return selectors.floor_list(actor=request.actor)
