"""Quality monitoring API: spot checks, misconduct reports and the institution scorecard (all scoped)."""

from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import ClassRefOut, Id
from peixun.core.errors import NotFound
from peixun.core.masking import mask_national_id
from peixun.core.scopes import require

from . import selectors, services
from .exports import scorecard_term

router = Router(tags=["monitoring"])


# --- spot checks -----------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    side: str
    url: str


class SpotCheckOut(ClassRefOut):
    id: int
    checked_on: date
    method: str
    rating: int
    rating_label: str
    findings: str
    follow_up_required: bool
    follow_up_due: date | None
    status: str
    overdue: bool
    response: str
    responded_at: datetime | None
    closed_at: datetime | None
    close_note: str
    recorded_at: datetime

    @staticmethod
    def resolve_rating_label(obj):
        return obj.get_rating_display()

    @staticmethod
    def resolve_overdue(obj):
        return obj.is_overdue(timezone.localdate())


class SpotCheckDetailOut(SpotCheckOut):
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj):
        return [
            {
                "id": a.pk,
                "name": a.name,
                "size": a.size,
                "side": a.side,
                "url": reverse("monitoring:attachment_download", args=[obj.pk, a.pk]),
            }
            for a in obj.attachments.all()
        ]


class SpotCheckIn(Schema):
    class_id: Id
    checked_on: date
    method: str
    rating: int
    findings: str
    follow_up_required: bool = False
    follow_up_due: date | None = None


class AnswerIn(Schema):
    response: str


class CloseIn(Schema):
    note: str = ""


@router.get("/spot-checks", response=list[SpotCheckOut], summary="质量抽查记录（按权限范围）")
@paginate(LimitOffsetPagination)
def spot_checks(
    request,
    term_id: Id | None = None,
    institution_id: Id | None = None,
    class_id: Id | None = None,
    status: str = "",
    rating: int | None = None,
    method: str = "",
    q: str = "",
):
    return selectors.spot_check_list(
        actor=request.actor,
        term_id=term_id,
        institution_id=institution_id,
        class_id=class_id,
        status=status,
        rating=rating,
        method=method,
        query=q,
    )


@router.get("/spot-checks/{spot_check_id}", response=SpotCheckDetailOut, summary="抽查记录详情")
def spot_check(request, spot_check_id: Id):
    return selectors.spot_check_get(actor=request.actor, spot_check_id=spot_check_id)


@router.post("/spot-checks", response={201: SpotCheckDetailOut}, summary="记录抽查（质量监测）")
def spot_check_record(request, payload: SpotCheckIn):
    project_class = selectors.class_get(actor=request.actor, class_id=payload.class_id)
    data = payload.dict(exclude={"class_id"})
    created = services.spot_check_record(actor=request.actor, project_class=project_class, **data)
    return 201, selectors.spot_check_get(actor=request.actor, spot_check_id=created.pk)


@router.post("/spot-checks/{spot_check_id}/answer", response=SpotCheckDetailOut, summary="培训机构答复抽查意见")
def spot_check_answer(request, spot_check_id: Id, payload: AnswerIn):
    found = selectors.spot_check_get(actor=request.actor, spot_check_id=spot_check_id)
    services.spot_check_answer(actor=request.actor, spot_check=found, response=payload.response)
    return selectors.spot_check_get(actor=request.actor, spot_check_id=spot_check_id)


@router.post("/spot-checks/{spot_check_id}/close", response=SpotCheckDetailOut, summary="关闭整改跟进（质量监测）")
def spot_check_close(request, spot_check_id: Id, payload: CloseIn):
    found = selectors.spot_check_get(actor=request.actor, spot_check_id=spot_check_id)
    services.spot_check_close(actor=request.actor, spot_check=found, note=payload.note)
    return selectors.spot_check_get(actor=request.actor, spot_check_id=spot_check_id)


# --- misconduct reports ----------------------------------------------------------------------


class MisconductOut(ClassRefOut):
    id: int
    teacher_name: str
    teacher_national_id: str  # always masked
    school_id: int
    school_name: str
    county_name: str
    kind: str
    kind_label: str
    description: str
    starts_on: date
    ends_on: date
    reported_at: datetime
    school_acknowledged_at: datetime | None
    school_note: str
    county_acknowledged_at: datetime | None
    county_note: str

    @staticmethod
    def resolve_teacher_name(obj):
        return obj.teacher.name

    @staticmethod
    def resolve_teacher_national_id(obj):
        return mask_national_id(obj.teacher.national_id)

    @staticmethod
    def resolve_school_name(obj):
        return obj.school.name

    @staticmethod
    def resolve_county_name(obj):
        return obj.school.county.name

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_school_acknowledged_at(obj):
        return obj.school_ack_at

    @staticmethod
    def resolve_school_note(obj):
        return obj.school_ack_note

    @staticmethod
    def resolve_county_acknowledged_at(obj):
        return obj.county_ack_at

    @staticmethod
    def resolve_county_note(obj):
        return obj.county_ack_note


class MisconductIn(Schema):
    class_id: Id
    teacher_national_id: str
    teacher_name: str
    kind: str
    description: str
    starts_on: date
    ends_on: date


class AcknowledgeIn(Schema):
    note: str = ""


@router.get("/misconduct-reports", response=list[MisconductOut], summary="培训纪律报告（按权限范围，身份证号脱敏）")
@paginate(LimitOffsetPagination)
def misconduct_reports(
    request,
    term_id: Id | None = None,
    institution_id: Id | None = None,
    kind: str = "",
    pending: bool = False,
    q: str = "",
):
    return selectors.misconduct_list(
        actor=request.actor, term_id=term_id, institution_id=institution_id, kind=kind, pending=pending, query=q
    )


@router.get("/misconduct-reports/{report_id}", response=MisconductOut, summary="培训纪律报告详情")
def misconduct_report(request, report_id: Id):
    return selectors.misconduct_get(actor=request.actor, report_id=report_id)


@router.post("/misconduct-reports", response={201: MisconductOut}, summary="报告学员未完成培训任务（培训机构）")
def misconduct_create(request, payload: MisconductIn):
    project_class = selectors.class_get(actor=request.actor, class_id=payload.class_id)
    teacher = selectors.trainee_get(national_id=payload.teacher_national_id, name=payload.teacher_name)
    report = services.misconduct_report(
        actor=request.actor,
        project_class=project_class,
        teacher=teacher,
        kind=payload.kind,
        description=payload.description,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return 201, selectors.misconduct_get(actor=request.actor, report_id=report.pk)


@router.post(
    "/misconduct-reports/{report_id}/acknowledge", response=MisconductOut, summary="学校或区县教育局确认已知悉"
)
def misconduct_acknowledge(request, report_id: Id, payload: AcknowledgeIn):
    report = selectors.misconduct_get(actor=request.actor, report_id=report_id)
    services.misconduct_acknowledge(actor=request.actor, report=report, note=payload.note)
    return selectors.misconduct_get(actor=request.actor, report_id=report_id)


# --- scorecard -------------------------------------------------------------------------------


class ScorecardRowOut(Schema):
    institution_id: int
    institution_code: str
    institution_name: str
    institution_type: str
    applied: int
    approved: int
    published: int
    changes: int
    classes: int
    late_schedules: int
    spot_checks: int
    average_rating: float | None
    failed_checks: int
    misconduct_reports: int
    lecturer_checks: int
    lecturers_confirmed: int
    lecturers_not_confirmed: int
    enrolment_rate: float | None
    pass_rate: float | None


class ScorecardOut(Schema):
    term_id: int
    term_name: str
    rows: list[ScorecardRowOut]


@router.get("/scorecard", response=ScorecardOut, summary="培训机构质量评分表（省级、质量监测）")
def scorecard(request, term_id: Id | None = None, type: str = "", q: str = "", sort: str = "name"):
    require(request.actor, "monitoring.scorecard.view")
    term = scorecard_term({"term": term_id})
    if term is None:
        raise NotFound(_("The term does not exist."))
    rows = selectors.scorecard(actor=request.actor, term=term, institution_type=type, query=q, sort=sort)
    return {
        "term_id": term.pk,
        "term_name": term.name,
        "rows": [
            {
                "institution_id": r.institution.pk,
                "institution_code": r.institution.code,
                "institution_name": r.institution.name,
                "institution_type": r.institution.type,
                "applied": r.applied,
                "approved": r.approved,
                "published": r.published,
                "changes": r.changes,
                "classes": r.classes,
                "late_schedules": r.late_schedules,
                "spot_checks": r.spot_checks,
                "average_rating": r.average_rating,
                "failed_checks": r.failed_checks,
                "misconduct_reports": r.misconduct_reports,
                "lecturer_checks": r.lecturer_checks,
                "lecturers_confirmed": r.lecturers_confirmed,
                "lecturers_not_confirmed": r.lecturers_not_confirmed,
                "enrolment_rate": r.enrolment_rate,
                "pass_rate": r.pass_rate,
            }
            for r in rows
        ],
    }
