"""Fair allocation API (mounted at /api/enrollment/allocation/): preferences, runs, outcomes, verify."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from peixun.catalog.models import ProjectClass
from peixun.core.api_types import Id
from peixun.core.errors import InvalidInput, NotFound
from peixun.terms.models import Term

from . import selectors_allocation as sel
from .models import AllocationResult
from .services import allocation as services

router = Router(tags=["enrollment: fair allocation"])


def _term(term_id: int) -> Term:
    term = Term.objects.filter(pk=term_id).first()
    if term is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    return term


class PreferenceOut(Schema):
    rank: int
    class_id: int
    class_number: int
    project_id: int
    project_name: str
    institution_name: str
    starts_on: date
    ends_on: date
    place: str


class PreferencesOut(Schema):
    term_id: int
    wanted: int
    max_preferences: int
    preferences: list[PreferenceOut]


def _prefs_out(request, term: Term) -> PreferencesOut:
    plist, prefs = sel.my_preferences(actor=request.actor, term=term)
    return PreferencesOut(
        term_id=term.pk,
        wanted=plist.wanted if plist else 1,
        max_preferences=services.MAX_PREFERENCES,
        preferences=[
            PreferenceOut(
                rank=p.rank,
                class_id=p.project_class_id,
                class_number=p.project_class.number,
                project_id=p.project_class.project_id,
                project_name=p.project_class.project.name,
                institution_name=p.project_class.project.institution.name,
                starts_on=p.project_class.starts_on,
                ends_on=p.project_class.ends_on,
                place=p.project_class.place,
            )
            for p in prefs
        ],
    )


class PreferenceIn(Schema):
    class_id: Id


class ReorderIn(Schema):
    class_ids: list[Id] = Field(max_length=50)


class WantedIn(Schema):
    wanted: int = Field(ge=0, le=1000)


@router.get("/terms/{term_id}/preferences", response=PreferencesOut, summary="我的志愿（教师）")
def my_preferences(request, term_id: Id):
    return _prefs_out(request, _term(term_id))


@router.post("/terms/{term_id}/preferences", response={201: PreferencesOut}, summary="添加志愿（教师，检查选课资格）")
def preference_add(request, term_id: Id, payload: PreferenceIn):
    term = _term(term_id)
    klass = ProjectClass.objects.filter(pk=payload.class_id, project__term=term).first()
    if klass is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    services.preference_add(actor=request.actor, project_class=klass)
    return 201, _prefs_out(request, term)


@router.put("/terms/{term_id}/preferences/order", response=PreferencesOut, summary="调整志愿顺序（教师）")
def preference_reorder(request, term_id: Id, payload: ReorderIn):
    term = _term(term_id)
    services.preference_reorder(actor=request.actor, term=term, class_ids=list(payload.class_ids))
    return _prefs_out(request, term)


@router.put("/terms/{term_id}/preferences/wanted", response=PreferencesOut, summary="设置希望获得的课程数（教师）")
def preference_wanted(request, term_id: Id, payload: WantedIn):
    term = _term(term_id)
    services.preference_set_wanted(actor=request.actor, term=term, wanted=payload.wanted)
    return _prefs_out(request, term)


@router.delete("/terms/{term_id}/preferences/{class_id}", response=PreferencesOut, summary="删除志愿（教师）")
def preference_remove(request, term_id: Id, class_id: Id):
    term = _term(term_id)
    services.preference_remove(actor=request.actor, term=term, project_class_id=class_id)
    return _prefs_out(request, term)


class RunOut(Schema):
    id: int
    term_id: int
    round: int
    status: str
    seed: str  # a 63-bit integer as text (JavaScript numbers lose digits beyond 2^53)
    score: str
    school_share_cap: int | None
    counts: dict
    inputs_digest: str
    results_digest: str
    message: str
    job_id: int | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_seed(obj):
        return str(obj.seed)


class RunIn(Schema):
    term_id: Id
    seed: int | None = Field(default=None, ge=0, le=services.MAX_SEED)


@router.get("/runs", response=list[RunOut], summary="名额分配记录")
@paginate(LimitOffsetPagination)
def runs(request, term_id: Id | None = None):
    term = _term(term_id) if term_id else None
    return sel.run_list(actor=request.actor, term=term)


@router.post("/runs", response={202: RunOut}, summary="开始名额分配（省级，选课时段结束后；后台任务）")
def run_start(request, payload: RunIn):
    run = services.allocation_start(actor=request.actor, term=_term(payload.term_id), seed=payload.seed)
    return 202, run


@router.get("/runs/{run_id}", response=RunOut, summary="名额分配详情")
def run(request, run_id: Id):
    return sel.run_get(actor=request.actor, run_id=run_id)


class ResultOut(Schema):
    teacher_id: int
    teacher_name: str
    school_id: int
    class_id: int
    project_name: str
    rank: int
    outcome: str
    outcome_label: str
    reason: str
    score: Decimal
    lottery: int
    cutoff_score: Decimal | None
    cutoff_lottery: int | None
    school_count: int | None
    school_limit: int | None
    enrollment_id: int | None

    @staticmethod
    def resolve_teacher_name(obj):
        return obj.teacher.name

    @staticmethod
    def resolve_class_id(obj):
        return obj.project_class_id

    @staticmethod
    def resolve_project_name(obj):
        return obj.project_class.project.name

    @staticmethod
    def resolve_outcome_label(obj):
        return str(obj.get_outcome_display())


@router.get("/runs/{run_id}/results", response=list[ResultOut], summary="分配结果及原因（按角色范围）")
@paginate(LimitOffsetPagination)
def results(request, run_id: Id, outcome: str = "", school_id: Id | None = None, q: str = ""):
    found = sel.run_get(actor=request.actor, run_id=run_id)
    if outcome and outcome not in AllocationResult.Outcome.values:
        raise InvalidInput(_("Unknown outcome."), details={"field": "outcome"})
    return sel.results(actor=request.actor, run=found, outcome=outcome, school_id=school_id, q=q[:50])


class VerifyOut(Schema):
    same: bool
    inputs_intact: bool
    recorded_digest: str
    recomputed_digest: str
    stored_digest: str
    differences: list[dict]


@router.post("/runs/{run_id}/verify", response=VerifyOut, summary="按记录的种子和输入重新计算并比对（不写入）")
def verify(request, run_id: Id):
    found = sel.run_get(actor=request.actor, run_id=run_id)
    return services.allocation_verify(actor=request.actor, run=found)


class ExportIn(Schema):
    format: Literal["xlsx", "csv"] = "xlsx"
    outcome: str = ""
    school_id: Id | None = None
    q: str = Field("", max_length=50)


class ExportJobOut(Schema):
    job_id: int
    status: str
    total: int
    status_url: str


@router.post(
    "/runs/{run_id}/export",
    response={202: ExportJobOut},
    summary="导出分配结果（xlsx 或 csv，按角色范围，身份证号脱敏；后台任务，完成后从任务下载）",
)
def export(request, run_id: Id, payload: ExportIn):
    from django.urls import reverse

    from peixun.core.exports import export_job

    found = sel.run_get(actor=request.actor, run_id=run_id)
    if payload.outcome and payload.outcome not in AllocationResult.Outcome.values:
        raise InvalidInput(_("Unknown outcome."), details={"field": "outcome"})
    params = {"run": str(found.pk), "outcome": payload.outcome, "school": str(payload.school_id or ""), "q": payload.q}
    job = export_job(request.actor, "enrollment.allocation", params, fmt=payload.format)
    return 202, {
        "job_id": job.pk,
        "status": job.status,
        "total": job.total,
        "status_url": reverse("api:job", args=[job.pk]),
    }
