"""Course selection API: every step of SPEC §6 (select, withdraw, review, 复核, 扩班, rosters), scoped.

Selection is idempotent: send the same ``request_key`` (or an ``Idempotency-Key`` header) when
retrying and the enrollment the first request created is returned. A busy database answers 503
``{code: "busy"}``: nothing changed, retry.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from ninja import Header, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from peixun.core.api_types import ClassRefOut, Id
from peixun.core.errors import InvalidInput
from peixun.core.masking import mask_national_id
from peixun.core.scopes import require

from . import selectors, services
from .models import ClassExpansion, Enrollment
from .services._common import actor_teacher

router = Router(tags=["enrollment"])
S = Enrollment.State
BulkIds = Annotated[list[Id], Field(min_length=1, max_length=services.review.BULK_MAX)]


# --- schemas ----------------------------------------------------------------------------------------


class EventOut(Schema):
    to_state: str
    from_state: str
    at: datetime
    note: str


class EnrollmentOut(ClassRefOut):
    id: int
    state: str
    state_label: str
    round: int
    starts_on: date
    ends_on: date
    place: str
    teacher_id: int
    teacher_name: str
    waitlist_rank: int | None
    reason: str
    free_withdrawal: bool
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_starts_on(obj):
        return obj.project_class.starts_on

    @staticmethod
    def resolve_ends_on(obj):
        return obj.project_class.ends_on

    @staticmethod
    def resolve_place(obj):
        return obj.project_class.place

    @staticmethod
    def resolve_teacher_name(obj):
        return obj.teacher.name

    @staticmethod
    def resolve_waitlist_rank(obj):
        return getattr(obj, "rank", None)


class EnrollmentDetailOut(EnrollmentOut):
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj):
        return list(obj.events.order_by("at", "id"))


class ClassOut(Schema):
    """A class the teacher may select, with seats left and how it would change their credit progress."""

    id: int
    number: int
    project_id: int
    project_name: str
    institution_name: str
    level: str
    format: str
    starts_on: date
    ends_on: date
    place: str
    capacity: int
    seats_left: int
    waitlist_enabled: bool
    fee_total: Decimal
    credits: Decimal
    credit_category: str
    progress_before: Decimal | None
    progress_after: Decimal | None
    progress_required: Decimal | None
    my_state: str | None


class ManagedClassOut(Schema):
    id: int
    number: int
    project_id: int
    project_code: str
    project_name: str
    institution_name: str
    starts_on: date
    ends_on: date
    capacity: int
    seats_taken: int
    waitlist_enabled: bool
    selected: int
    approved: int
    confirmed: int
    waitlisted: int

    @staticmethod
    def resolve_project_code(obj):
        return obj.project.code

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_institution_name(obj):
        return obj.project.institution.name

    @staticmethod
    def resolve_selected(obj):
        return obj.n_selected

    @staticmethod
    def resolve_approved(obj):
        return obj.n_approved

    @staticmethod
    def resolve_confirmed(obj):
        return obj.n_confirmed

    @staticmethod
    def resolve_waitlisted(obj):
        return obj.n_waitlisted


class RosterRowOut(Schema):
    enrollment_id: int
    teacher_id: int
    name: str
    national_id_masked: str
    school: str
    county: str
    stage: str
    subject: str
    round: int
    confirmed_at: datetime | None


class ExpansionOut(Schema):
    id: int
    class_id: int
    project_name: str
    class_number: int
    seats_requested: int
    seats_accepted: int
    reason: str
    status: str
    status_label: str
    capacity_before: int
    promoted: int
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def resolve_class_id(obj):
        return obj.project_class_id

    @staticmethod
    def resolve_project_name(obj):
        return obj.project_class.project.name

    @staticmethod
    def resolve_class_number(obj):
        return obj.project_class.number

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()


class SelectIn(Schema):
    class_id: Id
    request_key: str = Field("", max_length=64)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=300)


class DecideIn(Schema):
    ids: BulkIds
    decision: str = Field(..., description="approve 或 reject")
    reason: str = Field("", max_length=300)


class SkippedOut(Schema):
    id: int
    reason: str


class BulkOut(Schema):
    done: list[EnrollmentOut]
    skipped: list[SkippedOut]
    promoted: list[EnrollmentOut]


class ExpansionIn(Schema):
    class_id: Id
    seats: int = Field(..., ge=1, le=services.EXPANSION_MAX)
    reason: str = Field(..., max_length=300)


class ExpansionDecideIn(Schema):
    seats_accepted: int = Field(..., ge=0, le=services.EXPANSION_MAX)
    note: str = Field("", max_length=300)


def _bulk(result) -> dict:
    return {
        "done": result.done,
        "skipped": [{"id": pk, "reason": why} for pk, why in result.skipped],
        "promoted": result.promoted,
    }


def _loaded(enrollment: Enrollment) -> Enrollment:
    """The enrollment with what the schema shows (read again only if the service did not load it)."""
    cache = enrollment._state.fields_cache
    pc = cache.get("project_class")
    if not ("teacher" in cache and pc is not None and "institution" in pc.project._state.fields_cache):
        rank = getattr(enrollment, "rank", None)
        enrollment = Enrollment.objects.select_related("teacher", "project_class__project__institution").get(
            pk=enrollment.pk
        )
        enrollment.rank = rank
    if getattr(enrollment, "rank", None) is None and enrollment.state == S.WAITLISTED:
        enrollment.rank = services.waitlist_rank(enrollment)
    return enrollment


# --- teacher ------------------------------------------------------------------------------------------


class RoundOut(Schema):
    term_id: int | None
    term: str
    open_round: int | None  # the round open now for this teacher
    next_round: int | None  # else the round that opens next for them
    opens_at: datetime | None  # when it opens for them (their batch's time in a staggered round)
    closes_at: datetime | None
    batch: str | None
    paused: bool
    notice: str  # the officers' notice while the round is paused for this teacher
    server_now: datetime


@router.get(
    "/round", response=RoundOut, summary="选课轮次状态（教师：是否开放、所在批次开放时间、暂停公告、服务器时间）"
)
def round_state(request, term_id: Id | None = None):
    from django.utils import timezone

    actor = request.actor
    require(actor, "enrollment.select")
    teacher = actor_teacher(actor)
    term = selectors.term_for(term_id)
    now = timezone.now()
    state = selectors.round_state(term, now, school=teacher.school)
    window = state.window
    return RoundOut(
        term_id=term.pk if term else None,
        term=term.name if term else "",
        open_round=state.open_round,
        next_round=state.next_round,
        opens_at=state.opens_at,
        closes_at=window.ends_at if window is not None else None,
        batch=state.batch.name if state.batch is not None else None,
        paused=state.pause is not None,
        notice=state.pause.notice if state.pause is not None else "",
        server_now=now,
    )


class WorkOut(Schema):
    """One term's share of what the actor can do now (the home panels' lines)."""

    kind: str  # select (teacher) / review (school) / confirm (institution) / expansion (bureau)
    term_id: int
    term: str
    window: str
    window_label: str
    closes_at: datetime
    count: int  # selections / trainees / requests waiting; the teacher: classes that match them
    open_for_me: bool  # the teacher: their batch has opened and the round is not paused for them
    link: str


@router.get(
    "/work",
    response=list[WorkOut],
    summary="当前可办事项（各学期开放中的：教师可选轮次、学校待审核选课、机构待复核学员、教育局待审批扩班）",
)
def work(request):
    from peixun.core.roles import Role

    actor = request.actor
    if actor.role == Role.TEACHER:
        kind, rows = "select", selectors.selection_work(actor=actor, teacher=actor_teacher(actor))
    elif actor.role == Role.SCHOOL:
        kind, rows = "review", selectors.review_work(actor=actor)
    elif actor.role == Role.INSTITUTION:
        kind, rows = "confirm", selectors.confirm_work(actor=actor)
    elif actor.role in (Role.PROVINCE, Role.CITY, Role.COUNTY):
        kind, rows = "expansion", selectors.expansion_work(actor=actor)
    else:
        return []
    return [
        WorkOut(
            kind=kind,
            term_id=w.term.pk,
            term=w.term.name,
            window=w.window.kind,
            window_label=w.window.get_kind_display(),
            closes_at=w.window.ends_at,
            count=w.count,
            open_for_me=w.rounds is None or (w.rounds.open_round is not None and w.rounds.pause is None),
            link=w.link,
        )
        for w in rows
    ]


@router.get("/classes", response=list[ClassOut], summary="可选班期（教师：符合条件的班期、余量、学分影响）")
@paginate(LimitOffsetPagination)
def selectable(request, term_id: Id | None = None, q: str = "", seats_only: bool = False):
    actor = request.actor
    require(actor, "enrollment.select")
    teacher = actor_teacher(actor)
    term = selectors.term_for(term_id)
    if term is None:
        return []
    qs = selectors.selectable_classes(actor=actor, teacher=teacher, term=term, query=q, seats_only=seats_only)
    return _ClassRows(qs, selectors.CreditPreview(actor, teacher), actor)


class _ClassRows:
    """A lazily-sliced list for the paginator: credit effects are computed only for the page served."""

    def __init__(self, qs, preview, actor):
        self.qs, self.preview = qs, preview
        self.mine = dict(
            selectors.my_enrollments(actor=actor)
            .filter(state__in=Enrollment.ACTIVE)
            .values_list("project_class_id", "state")
        )

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        rows = self.qs[item]
        out = []
        for pc in rows:
            effect = self.preview.effect(pc.project)
            out.append(
                {
                    "id": pc.pk,
                    "number": pc.number,
                    "project_id": pc.project_id,
                    "project_name": pc.project.name,
                    "institution_name": pc.project.institution.name,
                    "level": pc.project.level,
                    "format": pc.project.format,
                    "starts_on": pc.starts_on,
                    "ends_on": pc.ends_on,
                    "place": pc.place,
                    "capacity": pc.capacity,
                    "seats_left": pc.seats_left,
                    "waitlist_enabled": pc.waitlist_enabled,
                    "fee_total": pc.project.fee_total,
                    "credits": effect.credits,
                    "credit_category": effect.category,
                    "progress_before": effect.before,
                    "progress_after": effect.after,
                    "progress_required": effect.required,
                    "my_state": self.mine.get(pc.pk),
                }
            )
        return out


@router.post(
    "/select", response={200: EnrollmentOut}, summary="选课（幂等：重试请带相同 request_key 或 Idempotency-Key）"
)
def select(request, payload: SelectIn, idempotency_key: str = Header("", alias="Idempotency-Key")):
    key = (payload.request_key or idempotency_key or "")[:64]
    # The service reads the class itself (scoped): one query fewer on the rush's hot path.
    enrollment = services.enrollment_select(actor=request.actor, project_class=payload.class_id, request_key=key)
    return _loaded(enrollment)


@router.get("/mine", response=list[EnrollmentOut], summary="我的选课（含候补位次）")
def mine(request, term_id: Id | None = None):
    actor = request.actor
    actor_teacher(actor)
    term = selectors.term_for(term_id) if term_id else None
    rows = selectors.my_enrollments(actor=actor, term=term).select_related("teacher").order_by("-created_at", "-pk")
    return selectors.with_waitlist_ranks(rows[:200])


@router.get("/enrollments/{enrollment_id}", response=EnrollmentDetailOut, summary="选课记录详情（含过程）")
def enrollment_detail(request, enrollment_id: Id):
    e = selectors.enrollment_get(actor=request.actor, enrollment_id=enrollment_id)
    return _loaded(e)


@router.post("/enrollments/{enrollment_id}/withdraw", response=EnrollmentOut, summary="退选（开班前；重大变更后随时）")
def withdraw(request, enrollment_id: Id, payload: WithdrawIn):
    actor = request.actor
    e = selectors.enrollment_get(actor=actor, enrollment_id=enrollment_id)
    return _loaded(services.enrollment_withdraw(actor=actor, enrollment=e, reason=payload.reason))


# --- school review -------------------------------------------------------------------------------------


@router.get("/review", response=list[EnrollmentOut], summary="本校教师选课（校长审核；默认待审核）")
@paginate(LimitOffsetPagination)
def review_list(request, term_id: Id | None = None, state: str = S.SELECTED, round: int | None = None, q: str = ""):  # noqa: A002
    if state and state not in S.values:
        raise InvalidInput("状态无效。", details={"field": "state"})
    return selectors.review_list(
        actor=request.actor, term=selectors.term_for(term_id), state=state, round=round, query=q
    )


@router.post("/review", response=BulkOut, summary="校长审核：通过或不通过（不通过须填理由），可批量")
def review(request, payload: DecideIn):
    result = services.enrollments_review(
        actor=request.actor, enrollments=payload.ids, decision=payload.decision, reason=payload.reason
    )
    return _bulk(result)


# --- institution and bureau -----------------------------------------------------------------------------


@router.get(
    "/manage/classes", response=list[ManagedClassOut], summary="班期选课情况（机构：本机构；教育局：本辖区项目）"
)
@paginate(LimitOffsetPagination)
def managed_classes(request, term_id: Id | None = None, q: str = ""):
    return selectors.class_list(actor=request.actor, term=selectors.term_for(term_id), query=q)


@router.get(
    "/manage/classes/{class_id}/enrollments", response=list[EnrollmentOut], summary="班期的选课记录（含候补顺序）"
)
@paginate(LimitOffsetPagination)
def class_enrollments(request, class_id: Id, state: str = ""):
    if state and state not in S.values:
        raise InvalidInput("状态无效。", details={"field": "state"})
    project_class = selectors.class_get(actor=request.actor, class_id=class_id)
    qs = selectors.class_enrollments(actor=request.actor, project_class=project_class, state=state).select_related(
        "project_class__project__institution"
    )
    return _Ranked(qs)


class _Ranked:
    def __init__(self, qs):
        self.qs = qs

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        return selectors.with_waitlist_ranks(self.qs[item])


@router.get("/manage/classes/{class_id}/roster", response=list[RosterRowOut], summary="班级名单（复核通过的学员）")
def roster(request, class_id: Id):
    project_class = selectors.class_get(actor=request.actor, class_id=class_id)
    return [
        {
            "enrollment_id": e.pk,
            "teacher_id": e.teacher_id,
            "name": e.teacher.name,
            "national_id_masked": mask_national_id(e.teacher.national_id),
            "school": e.teacher.school.name,
            "county": e.teacher.school.county.name,
            "stage": e.teacher.get_stage_display(),
            "subject": e.teacher.get_subject_display(),
            "round": e.round,
            "confirmed_at": e.decided_at,
        }
        for e in selectors.roster(actor=request.actor, project_class=project_class)
    ]


@router.post("/confirm", response=BulkOut, summary="复核：机构确认或不通过（须填理由）学校已审核通过的学员，可批量")
def confirm(request, payload: DecideIn):
    result = services.enrollments_confirm(
        actor=request.actor, enrollments=payload.ids, decision=payload.decision, reason=payload.reason
    )
    return _bulk(result)


@router.get("/expansions", response=list[ExpansionOut], summary="扩班申请（机构：本机构；教育局：待本局审核）")
@paginate(LimitOffsetPagination)
def expansions(request, term_id: Id | None = None, status: str = ""):
    if status and status not in ClassExpansion.Status.values:
        raise InvalidInput("状态无效。", details={"field": "status"})
    return selectors.expansion_list(actor=request.actor, term=selectors.term_for(term_id), status=status)


@router.post("/expansions", response={201: ExpansionOut}, summary="申请扩班（机构，扩班申请时间段内）")
def expansion_request(request, payload: ExpansionIn):
    actor = request.actor
    require(actor, "enrollment.expansion.request")
    project_class = selectors.class_get(actor=actor, class_id=payload.class_id)
    x = services.expansion_request(actor=actor, project_class=project_class, seats=payload.seats, reason=payload.reason)
    return 201, x


@router.post(
    "/expansions/{expansion_id}/decide", response=ExpansionOut, summary="审核扩班（主管教育局：全部、部分同意或不同意）"
)
def expansion_decide(request, expansion_id: Id, payload: ExpansionDecideIn):
    actor = request.actor
    x = selectors.expansion_get(actor=actor, expansion_id=expansion_id)
    return services.expansion_decide(actor=actor, expansion=x, seats_accepted=payload.seats_accepted, note=payload.note)


def _now():
    return timezone.now()


# The fair allocation mode's endpoints: /api/enrollment/allocation/...
from .api_allocation import router as allocation_router  # noqa: E402

router.add_router("/allocation", allocation_router)
