"""Reports API: the dashboards' figures as JSON, teacher lists, and exports started as background jobs.

Every endpoint is scoped like the pages: a node outside the actor's scope is a 404.
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import InvalidInput
from peixun.core.masking import mask_national_id
from peixun.credits import selectors as credit_selectors

from . import selectors
from .certificates_api import router as certificates_router
from .exports import show_full_id

router = Router(tags=["reports"])


def _node(request, region_id: int | None, school_id: int | None) -> selectors.Node:
    return selectors.node_get(request.actor, region_id=region_id, school_id=school_id)


class NodeOut(Schema):
    kind: str
    id: int
    name: str


class CategoryFigureOut(Schema):
    code: str
    label: str
    average: Decimal
    met: int
    share_met: float
    year: Decimal


class CompletionRowOut(Schema):
    id: int | None
    name: str = ""
    teachers: int
    exempt: int
    compliant: int
    on_track: int
    at_risk: int
    share_compliant: float
    share_at_risk: float
    missing_projected: Decimal
    by_category: list[CategoryFigureOut]


class CategoryOut(Schema):
    code: str
    label: str
    minimum: Decimal


class TrendOut(Schema):
    year: int
    label: str
    credits: dict[str, Decimal]


class DashboardOut(Schema):
    node: NodeOut
    row_kind: str
    cycle: int
    cycle_label: str
    school_year: int
    categories: list[CategoryOut]
    rows: list[CompletionRowOut]
    total: CompletionRowOut
    trend: list[TrendOut]


def _row(r: dict) -> dict:
    return {**r, "id": r.get("id"), "name": r.get("name", ""), "by_category": r["by_category"]}


@router.get("/dashboard", response=DashboardOut, summary="统计看板：按下一级区域/学校/教师与类别的达标情况和周期趋势")
def dashboard(request, region_id: Id | None = None, school_id: Id | None = None):
    node = _node(request, region_id, school_id)
    data = selectors.completion(request.actor, node)
    return {
        "node": {"kind": node.kind, "id": node.pk, "name": node.name},
        "row_kind": data["kind"],
        "cycle": data["cycle"],
        "cycle_label": data["cycle_label"],
        "school_year": data["year"],
        "categories": [{**c, "label": str(c["label"])} for c in data["categories"]],
        "rows": [_row(r) for r in data["rows"]],
        "total": _row({**data["total"], "name": node.name}),
        "trend": data["trend"],
    }


class SuggestionOut(Schema):
    class_id: int
    project_id: int
    project: str
    starts_on: str
    credits: Decimal
    seats_left: int


class TeacherStandingOut(Schema):
    teacher_id: int
    name: str
    national_id: str
    school_id: int
    school: str
    status: str
    counted: dict[str, Decimal]
    projected: dict[str, Decimal]
    missing_now: Decimal
    missing_projected: Decimal
    open_classes: int
    suggestions: list[SuggestionOut]


class _StandingPage:
    """The SQL-paged teacher list (``selectors.TeacherPages``) as ninja paginates it: each slice fetches
    its teachers and what the at-risk ones could still take in a few queries."""

    def __init__(self, actor, pages: selectors.TeacherPages, rules):
        self.actor, self.pages, self.rules = actor, pages, rules

    def __len__(self) -> int:
        return self.pages.count()

    def __getitem__(self, key):
        lines = self.pages[key]
        teachers = selectors.teachers_by_id([line.standing.teacher_id for line in lines])
        classes = selectors.open_classes(self.rules) if any(ln.standing.status == "at_risk" for ln in lines) else []
        full = show_full_id(self.actor)
        out = []
        for line in lines:
            s = line.standing
            t = teachers[s.teacher_id]
            count, first = selectors.suggestions(t, s, classes, self.rules) if s.status == "at_risk" else (0, [])
            out.append(
                {
                    "teacher_id": t.pk,
                    "name": t.name,
                    "national_id": t.national_id if full else mask_national_id(t.national_id),
                    "school_id": t.school_id,
                    "school": t.school.name,
                    "status": s.status,
                    "counted": s.counted,
                    "projected": s.projected,
                    "missing_now": s.missing_now,
                    "missing_projected": s.missing_projected,
                    "open_classes": count,
                    "suggestions": [
                        {
                            "class_id": oc.klass.pk,
                            "project_id": oc.klass.project_id,
                            "project": oc.klass.project.name,
                            "starts_on": oc.klass.starts_on.isoformat(),
                            "credits": oc.klass.project.credits,
                            "seats_left": oc.seats_left,
                        }
                        for oc in first
                    ],
                }
            )
        return out


@router.get(
    "/teachers", response=list[TeacherStandingOut], summary="教师学分达标列表（status=at_risk 为风险名单），可筛选排序"
)
@paginate(LimitOffsetPagination)
def teachers(
    request,
    region_id: Id | None = None,
    school_id: Id | None = None,
    status: str = "",
    category: str = "",
    q: str = "",
    sort: str = "-missing",
    **kwargs,
):
    node = _node(request, region_id, school_id)
    if status and status not in selectors.STATUSES:
        raise InvalidInput(_("Unknown status."))
    rules = credit_selectors.active_rules()
    sort = sort if sort.lstrip("-") in selectors.ORDER_SQL else "-missing"
    filters = selectors.TeacherFilters(query=q[:50], status=status, category=category[:20], sort=sort)
    pages = selectors.TeacherPages(request.actor, node, filters, rules)
    return _StandingPage(request.actor, pages, rules)


class WindowOut(Schema):
    kind: str
    label: str
    starts_at: datetime
    ends_at: datetime
    is_open: bool


class RoundOut(Schema):
    round: int
    selected: int
    awaiting_review: int
    approved: int
    confirmed: int
    waitlisted: int
    rejected: int
    withdrawn: int


class ProgressOut(Schema):
    term_id: int
    term: str
    applied: int
    pending: int
    returned: int
    approved: int
    published: int
    classes: int
    capacity: int
    taken: int
    fill_rate: float | None
    teachers_selecting: int
    rounds: list[RoundOut]
    windows: list[WindowOut]


@router.get(
    "/progress", response={200: ProgressOut, 204: None}, summary="学期进度：申报、审核、发布、名额、选课轮次与时间窗口"
)
def progress(request, region_id: Id | None = None, school_id: Id | None = None, term_id: Id | None = None):
    node = _node(request, region_id, school_id)
    term = selectors.term_for(term_id)
    data = selectors.term_progress(request.actor, node, term)
    if data is None:
        return 204, None
    return {
        "term_id": term.pk,
        "term": term.name,
        **data["projects"],
        "classes": data["classes"],
        "capacity": data["capacity"],
        "taken": data["taken"],
        "fill_rate": data["fill_rate"],
        "teachers_selecting": data["teachers_selecting"],
        "rounds": data["rounds"],
        "windows": [
            {
                "kind": w.window.kind,
                "label": str(w.label),
                "starts_at": w.window.starts_at,
                "ends_at": w.window.ends_at,
                "is_open": w.is_open,
            }
            for w in data["windows"]
        ],
    }


class CoverageOut(Schema):
    county_id: int
    county: str
    posted: int
    drafts: int
    minimum: int
    missing: int


@router.get("/coverage", response=list[CoverageOut], summary="各区县订单覆盖情况")
def coverage(request, region_id: Id | None = None, term_id: Id | None = None):
    node = _node(request, region_id, None)
    rows = selectors.order_coverage(request.actor, node, selectors.term_for(term_id)) or []
    return [{**r, "county_id": r["county"].pk, "county": r["county"].name} for r in rows]


class QuotaOut(Schema):
    kind: str
    id: int
    name: str
    limit: int | None
    used: int
    left: int | None


@router.get(
    "/quotas", response=list[QuotaOut], summary="限额使用：培训机构项目限额（省级、机构）或本地项目上限（市、区县）"
)
def quotas(request, term_id: Id | None = None):
    return selectors.quota_usage(request.actor, selectors.term_for(term_id)) or []


class InstitutionStatOut(Schema):
    institution_id: int = Field(alias="institution.pk")
    institution: str = Field(alias="institution.name")
    applied: int
    approved: int
    published: int
    changes: int
    classes: int
    late_schedules: int
    spot_checks: int
    enrolment_rate: float | None
    pass_rate: float | None


@router.get(
    "/institutions",
    response=list[InstitutionStatOut],
    summary="培训机构统计（申报、通过、报名率、合格率、变更、课表迟报）",
)
def institutions(request, term_id: Id | None = None, sort: str = "name", q: str = ""):
    return selectors.institution_stats(request.actor, selectors.term_for(term_id), sort=sort, query=q[:50])


EXPORTS = {
    "teachers": "reports.teachers",
    "completion": "reports.completion",
    "progress": "reports.progress",
    "coverage": "reports.coverage",
    "quotas": "reports.quotas",
    "institutions": "reports.institutions",
}


class ExportIn(Schema):
    report: str = Field(description="teachers / completion / progress / coverage / quotas / institutions")
    region_id: Id | None = None
    school_id: Id | None = None
    term_id: Id | None = None
    status: str = ""
    category: str = Field("", max_length=20)
    q: str = Field("", max_length=50)
    format: Literal["xlsx", "csv"] = "xlsx"


class ExportJobOut(Schema):
    job_id: int
    status: str
    total: int
    status_url: str


@router.post("/exports", response={202: ExportJobOut}, summary="导出报表为 Excel（后台任务；完成后从任务下载）")
def export_start(request, payload: ExportIn):
    from django.urls import reverse

    from peixun.core.exports import export_job

    if payload.report not in EXPORTS:
        raise InvalidInput(_("Unknown report."))
    actor = request.actor
    params = {
        "region": payload.region_id or "",
        "school": payload.school_id or "",
        "term": payload.term_id or "",
        "status": payload.status,
        "category": payload.category,
        "q": payload.q,
    }
    job = export_job(actor, EXPORTS[payload.report], params, fmt=payload.format)  # a node outside the scope: 404
    return 202, {
        "job_id": job.pk,
        "status": job.status,
        "total": job.total,
        "status_url": reverse("api:job", args=[job.pk]),
    }


# Credit statements and certificates (issue 8 item 4): their own router, mounted under /api/reports/.
router.add_router("", certificates_router)
