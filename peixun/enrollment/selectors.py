"""Every read of course selection, scoped with ``visible``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import BigIntegerField, Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.catalog.selectors import managed, teacher_match_q
from peixun.core.roles import Role
from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.roster.models import Teacher
from peixun.terms.models import Term, Window, WindowKind
from peixun.terms.windows import batch_for, current_term, get_window, is_open, open_terms, window_page, window_pause
from peixun.terms.windows import open_elsewhere as windows_open_elsewhere

from .models import ClassExpansion, Enrollment, EnrollmentEvent
from .services.eligibility import SELECT_WINDOWS, SELECTABLE_PROJECT_STATUSES, took_part_in_round1
from .services.review import CONFIRM_WINDOWS, REVIEW_WINDOWS

S = Enrollment.State
K = WindowKind


def term_for(term_id: int | None = None, now: datetime | None = None) -> Term | None:
    """The chosen term, else the current one (windows spanning today, else the next)."""
    if term_id:
        term = Term.objects.prefetch_related("windows").filter(pk=term_id).first()
        if term is not None:
            return term
    return current_term(now)


def terms() -> QuerySet[Term]:
    return Term.objects.order_by("-code")


@dataclass
class RoundState:
    """Which selection round is open now, or which opens next (for the teacher's page)."""

    open_round: int | None
    window: object | None  # the open window, else the next selection window
    next_round: int | None
    pause: object | None = None  # the active pause of the open round covering the teacher (RoundPause)
    batch: object | None = None  # the teacher's opening batch of a staggered round (OpeningBatch)

    @property
    def opens_at(self):
        if self.open_round or self.window is None:
            return None
        return self.batch.opens_at if self.batch is not None else self.window.starts_at


def round_state(term: Term | None, now: datetime | None = None, *, school=None) -> RoundState:
    """``school``: the teacher's, for their opening batch and a pause that stops them (None: any pause)."""
    if term is None:
        return RoundState(None, None, None)
    now = now or timezone.now()
    for number, kind in SELECT_WINDOWS.items():
        if is_open(term, kind, now):
            window = get_window(term, kind)
            batch = batch_for(window, school)
            if batch is not None and now < batch.opens_at:  # open, but not yet for this teacher's batch
                return RoundState(None, window, number, batch=batch)
            pause = window_pause(window, school.county if school is not None else None)
            return RoundState(number, window, None, pause, batch)
    for number, kind in SELECT_WINDOWS.items():
        window = get_window(term, kind)
        if window is not None and window.starts_at > now:
            return RoundState(None, window, number)
    return RoundState(None, None, None)


def _selectable(actor: Actor, teacher: Teacher, terms: list[Term]) -> QuerySet[ProjectClass]:
    require(actor, "enrollment.select")
    matching = Project.objects.filter(teacher_match_q(teacher), term__in=terms, status__in=SELECTABLE_PROJECT_STATUSES)
    return visible(
        actor,
        ProjectClass.objects.filter(project__in=matching.values("pk"), starts_on__gt=timezone.localdate()),
    )


def selectable_classes(*, actor: Actor, teacher: Teacher, term: Term, query: str = "", seats_only: bool = False):
    """Classes of the term's published projects that match the teacher and have not started."""
    qs = _selectable(actor, teacher, [term]).select_related("project__institution", "project__term")
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(project__name__icontains=query)
            | Q(project__theme__icontains=query)
            | Q(project__institution__name__icontains=query)
            | Q(place__icontains=query)
        )
    if seats_only:
        qs = qs.filter(seats_taken__lt=F("capacity"))
    return qs.order_by("starts_on", "project_id", "number")


def my_enrollments(*, actor: Actor, term: Term | None = None) -> QuerySet[Enrollment]:
    require(actor, "enrollment.view")
    qs = Enrollment.objects.filter(teacher_id=actor.teacher_id) if actor.teacher_id else Enrollment.objects.none()
    if term is not None:
        qs = qs.filter(project_class__project__term=term)
    return qs.select_related("project_class__project__institution", "project_class__project__term").prefetch_related(
        Prefetch("events", queryset=EnrollmentEvent.objects.order_by("at", "id"))
    )


def with_waitlist_ranks(enrollments) -> list[Enrollment]:
    """Set ``rank`` (place in the queue now, in the order of joining) on the waitlisted ones: one query
    per class waited on."""
    rows = list(enrollments)
    waiting = [e for e in rows if e.state == S.WAITLISTED]
    queues: dict[int, list[int]] = {}
    for class_id in {e.project_class_id for e in waiting}:
        queues[class_id] = list(
            Enrollment.objects.filter(project_class_id=class_id, state=S.WAITLISTED).values_list("pk", flat=True)
        )
    for e in rows:
        e.rank = None
        if e in waiting:
            e.rank = sum(1 for pk in queues[e.project_class_id] if pk <= e.pk)
    return rows


def enrollment_get(*, actor: Actor, enrollment_id: int) -> Enrollment:
    require(actor, "enrollment.view")
    return get_visible(
        actor,
        Enrollment.objects.select_related("teacher__school", "project_class__project__institution"),
        pk=enrollment_id,
    )


@dataclass
class CreditEffect:
    category: str
    credits: Decimal
    before: Decimal | None = None
    after: Decimal | None = None
    required: Decimal | None = None
    exempt: bool = False

    @property
    def fills_gap(self) -> bool:
        return self.required is not None and self.before is not None and self.before < self.required


class CreditPreview:
    """How a class would change the teacher's credit progress: one standing, then per project arithmetic."""

    def __init__(self, actor: Actor, teacher: Teacher):
        from peixun.credits import selectors as credit_selectors

        self.rules = credit_selectors.active_rules()
        try:
            self.standing, _rows = credit_selectors.teacher_standing(
                actor=actor, teacher=teacher, rules=self.rules, upcoming=credit_selectors.upcoming_classes(teacher)
            )
        except Exception:  # noqa: BLE001  (no policy or no access: show the project's credits only)
            self.standing = None

    def effect(self, project: Project) -> CreditEffect:
        from peixun.credits.engine import convert_hours
        from peixun.credits.policy import category_label

        credits, _online = convert_hours(
            self.rules,
            category=project.credit_category,
            level=project.credit_level or project.level,
            fmt=project.format,
            hours_offline=project.hours_offline,
            hours_online=project.hours_online,
        )
        code = self.rules.effective_category(project.credit_category)
        cs = self.standing.category(code) if self.standing is not None else None
        if cs is None:
            return CreditEffect(category=category_label(project.credit_category), credits=credits)
        before = cs.counted + cs.transferred_in + cs.upcoming
        after = before + credits * getattr(self.rules.category(code), "weight", Decimal(1))
        if cs.cap is not None:
            after = min(after, cs.cap)
        return CreditEffect(
            category=cs.label,
            credits=credits,
            before=before,
            after=after,
            required=cs.required or None,
            exempt=self.standing.exempt,
        )


# --- the home panels: what is actionable now, in every term whose window for it is open ----------------


@dataclass
class TermWork:
    """One term's share of a home panel: its open window, the count of things to do, the page to do them."""

    term: Term
    window: Window
    count: int
    link: str
    rounds: RoundState | None = None  # the teacher's panel: the round, its batch and pause


def _per_term(qs: QuerySet, term_path: str, kinds, role: str, extra: str = "", now=None) -> list[TermWork]:
    """``qs`` (already scoped to the actor) counted per term among the terms where a window of ``kinds`` is
    open now; terms with nothing to do are left out. Two queries for the terms, one for the counts."""
    opened = open_terms(kinds, now)
    if not opened:
        return []
    counts = dict(
        qs.filter(**{f"{term_path}__in": [t.pk for t, _w in opened]})
        .order_by()
        .values_list(term_path)
        .annotate(n=Count("pk"))
    )
    return [
        TermWork(term, window, counts[term.pk], window_page(term, window.kind, role) + extra)
        for term, window in opened
        if counts.get(term.pk)
    ]


def review_work(*, actor: Actor, now: datetime | None = None) -> list[TermWork]:
    """Selections awaiting the school's review, per term whose review is open (selection or review windows)."""
    qs = review_list(actor=actor, state=S.SELECTED)
    return _per_term(qs, "project_class__project__term", REVIEW_WINDOWS, Role.SCHOOL, now=now)


def confirm_work(*, actor: Actor, now: datetime | None = None) -> list[TermWork]:
    """Approved trainees awaiting the institution's 复核, per term whose 复核 window is open."""
    require(actor, "enrollment.confirm")
    qs = visible(
        actor, Enrollment.objects.filter(project_class__project__institution=actor.institution, state=S.APPROVED)
    )
    return _per_term(qs, "project_class__project__term", CONFIRM_WINDOWS, Role.INSTITUTION, now=now)


def expansion_work(*, actor: Actor, now: datetime | None = None) -> list[TermWork]:
    """扩班 requests awaiting the bureau's decision, per term whose acceptance window is open."""
    qs = _expansions(actor).filter(status=ClassExpansion.Status.PENDING)
    return _per_term(
        qs, "project_class__project__term", (K.EXPAND_ACCEPT,), actor.role, extra="&status=pending", now=now
    )


def selection_work(*, actor: Actor, teacher: Teacher, now: datetime | None = None) -> list[TermWork]:
    """The selection rounds open to the teacher now, per term, with the count of classes that match them and
    have not started (round 2: only terms where they took part in round 1). A term whose round opens in
    batches is listed with the teacher's batch (``rounds``) even before it opens for them."""
    opened = open_terms(SELECT_WINDOWS.values(), now)
    opened = [
        (term, window)
        for term, window in opened
        if window.kind != SELECT_WINDOWS[2] or took_part_in_round1(teacher, term)
    ]
    if not opened:
        return []
    counts = dict(
        _selectable(actor, teacher, [t for t, _w in opened])
        .order_by()
        .values_list("project__term")
        .annotate(n=Count("pk"))
    )
    return [
        TermWork(
            term,
            window,
            counts.get(term.pk, 0),
            window_page(term, window.kind, Role.TEACHER),
            round_state(term, now, school=teacher.school),
        )
        for term, window in opened
    ]


# --- school review ------------------------------------------------------------------------------


def review_list(
    *,
    actor: Actor,
    term: Term | None = None,
    state: str = S.SELECTED,
    round: int | None = None,  # noqa: A002
    query: str = "",
) -> QuerySet[Enrollment]:
    """The school's teachers' selections (default: those awaiting review)."""
    require(actor, "enrollment.review")
    qs = visible(actor, Enrollment.objects.all())
    if actor.role == Role.SCHOOL:
        qs = qs.filter(teacher__school=actor.school)
    if term is not None:
        qs = qs.filter(project_class__project__term=term)
    if state:
        qs = qs.filter(state=state)
    if round in (1, 2):
        qs = qs.filter(round=round)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(teacher__name__icontains=query) | Q(project_class__project__name__icontains=query))
    return qs.select_related("teacher", "project_class__project__institution").order_by("created_at", "pk")


def state_counts(qs: QuerySet[Enrollment]) -> dict[str, int]:
    return dict(qs.order_by().values_list("state").annotate(n=Count("pk")))


# --- classes (institution and bureau) --------------------------------------------------------------


def class_list(*, actor: Actor, term: Term | None = None, query: str = "") -> QuerySet[ProjectClass]:
    """Classes the actor manages (institution: its own; bureau: its region's projects) with enrollment counts."""
    require(actor, "enrollment.roster.view")
    qs = managed(actor, visible(actor, ProjectClass.objects.all()), prefix="project__").filter(
        project__status__in=("published", "running", "finished")
    )
    if term is not None:
        qs = qs.filter(project__term=term)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(project__name__icontains=query) | Q(project__code__iexact=query) | Q(place__icontains=query))
    counts = {
        f"n_{state}": Count("enrollments", filter=Q(enrollments__state=state))
        for state in (S.WAITLISTED, S.SELECTED, S.APPROVED, S.CONFIRMED)
    }
    return (
        qs.select_related("project__institution", "project__term", "project__region")
        .annotate(**counts)
        .order_by("starts_on", "project_id", "number")
    )


def class_get(*, actor: Actor, class_id: int) -> ProjectClass:
    require(actor, "enrollment.roster.view")
    qs = managed(actor, visible(actor, ProjectClass.objects.all()), prefix="project__")
    return get_visible(
        actor, qs.select_related("project__institution", "project__term", "project__region"), pk=class_id
    )


def class_enrollments(*, actor: Actor, project_class: ProjectClass, state: str = "") -> QuerySet[Enrollment]:
    qs = visible(actor, Enrollment.objects.filter(project_class=project_class))
    if state:
        qs = qs.filter(state=state)
    # The waitlist last, in the order of joining (the id).
    waiting = Case(When(state=S.WAITLISTED, then=F("pk")), default=Value(0), output_field=BigIntegerField())
    return qs.select_related("teacher__school__county").order_by(waiting, "created_at", "pk")


def roster(*, actor: Actor, project_class: ProjectClass) -> QuerySet[Enrollment]:
    """The confirmed class roster (复核 done), by school then name."""
    require(actor, "enrollment.roster.view")
    return (
        visible(actor, Enrollment.objects.roster(project_class))
        .select_related("teacher__school__county")
        .order_by("teacher__school__code", "teacher__name", "pk")
    )


def _expansions(actor: Actor) -> QuerySet[ClassExpansion]:
    require(actor, "enrollment.roster.view")
    qs = visible(actor, ClassExpansion.objects.all())
    if actor.role in (Role.PROVINCE, Role.CITY, Role.COUNTY):
        # a bureau decides the projects it is responsible for
        qs = qs.filter(project_class__project__region=actor.region)
    return qs


def expansion_list(*, actor: Actor, term: Term | None = None, status: str = "") -> QuerySet[ClassExpansion]:
    qs = _expansions(actor)
    if term is not None:
        qs = qs.filter(project_class__project__term=term)
    if status:
        qs = qs.filter(status=status)
    return (
        qs.select_related(
            "project_class__project__institution", "project_class__project__region", "requested_by", "decided_by"
        )
        .annotate(
            waitlisted=Count("project_class__enrollments", filter=Q(project_class__enrollments__state=S.WAITLISTED))
        )
        .order_by("-requested_at", "-pk")
    )


def expansion_get(*, actor: Actor, expansion_id: int) -> ClassExpansion:
    require(actor, "enrollment.roster.view")
    return get_visible(actor, ClassExpansion.objects.select_related("project_class__project"), pk=expansion_id)


def seat_mismatches() -> list[tuple[int, int, int, int]]:
    """Classes whose counter disagrees with their seat-holding rows or exceeds capacity:
    (class id, capacity, seats_taken, seat-holding rows). Empty when the invariant holds."""
    rows = ProjectClass.objects.annotate(
        holding=Count("enrollments", filter=Q(enrollments__state__in=Enrollment.SEAT_HOLDING))
    ).values_list("pk", "capacity", "seats_taken", "holding")
    return [r for r in rows if r[2] != r[3] or r[2] > r[1]]


def window_label(kind: str) -> str:
    return str(K(kind).label)


def no_term_message() -> str:
    return _("No term has been set up yet.")


def stage_windows(term: Term | None, kinds) -> list:
    """The term's windows of ``kinds`` with whether each is open now (for the pages' window notes)."""
    if term is None:
        return []
    now = timezone.now()
    out = []
    for kind in kinds:
        window = get_window(term, kind)
        if window is not None:
            window.is_open = window.starts_at <= now < window.ends_at
            window.is_over = now >= window.ends_at
            out.append(window)
    return out


def open_elsewhere(term: Term | None, kinds) -> list[tuple[Term, Window]]:
    """Other terms where one of ``kinds`` is open now (the step pages link to them)."""
    return windows_open_elsewhere(term, kinds)


def any_open(term: Term | None, kinds) -> bool:
    return term is not None and any(is_open(term, kind) for kind in kinds)
