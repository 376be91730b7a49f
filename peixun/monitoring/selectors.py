"""Reads of quality monitoring, each scoped to the actor.

``pass_rates`` comes from the results app (approved results only).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import ChangeRequest, LecturerCheck, Project, ProjectClass
from peixun.core.errors import InvalidInput
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor, get_visible, require, visible
from peixun.enrollment.models import Enrollment
from peixun.orgs.models import Institution
from peixun.roster.models import Teacher
from peixun.terms.models import Term

from .models import MisconductReport, Rating, SpotCheck, SpotCheckAttachment

# --- figures from the other apps ------------------------------------------------------------


def trainee_in_class(teacher: Teacher, project_class: ProjectClass) -> bool:
    """Is the teacher on the class roster (a confirmed enrollment, 复核)?"""
    return Enrollment.objects.roster(project_class).filter(teacher=teacher).exists()


def enrolment_rates(*, term: Term, institution_ids: list[int]) -> dict[int, float | None]:
    """Seats taken / seats offered over each institution's classes of published projects in the term.

    ``ProjectClass.seats_taken`` is maintained by the enrollment service; None (“—”) without classes.
    """
    rows = (
        ProjectClass.objects.filter(
            project__term=term,
            project__institution_id__in=institution_ids,
            project__status__in=PUBLIC_PROJECT_STATUSES,
        )
        .values("project__institution_id")
        .annotate(taken=Sum("seats_taken"), capacity=Sum("capacity"))
    )
    rates: dict[int, float | None] = dict.fromkeys(institution_ids)
    for row in rows:
        if row["capacity"]:
            rates[row["project__institution_id"]] = row["taken"] / row["capacity"]
    return rates


def pass_rates(*, term: Term, institution_ids: list[int]) -> dict[int, float | None]:
    """Pass rate per institution in the term: passed / registered results of approved sheets (成绩登记).

    None (shown as “—”) for an institution without approved results in the term.
    """
    from peixun.results.selectors import pass_rates as results_pass_rates

    return results_pass_rates(term=term, institution_ids=institution_ids)


# --- classes ---------------------------------------------------------------------------------


def class_list(
    *,
    actor: Actor,
    term_id: int | None = None,
    institution_id: int | None = None,
    query: str = "",
    when: str = "",
) -> QuerySet[ProjectClass]:
    """Classes of published projects: every class for the monitor, the institution's own for an institution.

    ``when``: "running" (today between its dates), "started" (started already), "upcoming".
    """
    require(actor, "monitoring.class.view")
    qs = visible(
        actor,
        ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES).select_related(
            "project", "project__institution", "project__term"
        ),
    )
    if actor.role == Role.INSTITUTION:
        qs = qs.filter(project__institution=actor.institution)
    if term_id:
        qs = qs.filter(project__term_id=term_id)
    if institution_id:
        qs = qs.filter(project__institution_id=institution_id)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(project__name__icontains=query) | Q(project__code__istartswith=query) | Q(place__icontains=query)
        )
    today = timezone.localdate()
    if when == "running":
        qs = qs.filter(starts_on__lte=today, ends_on__gte=today)
    elif when == "started":
        qs = qs.filter(starts_on__lte=today)
    elif when == "upcoming":
        qs = qs.filter(starts_on__gt=today)
    return qs.annotate(spot_check_count=Count("spot_checks")).order_by("-starts_on", "project__code", "number")


def class_get(*, actor: Actor, class_id: int) -> ProjectClass:
    qs = ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES).select_related(
        "project", "project__institution", "project__term", "project__region"
    )
    if actor.role == Role.INSTITUTION:
        qs = qs.filter(project__institution=actor.institution)
    return get_visible(actor, qs, pk=class_id)


# --- spot checks -----------------------------------------------------------------------------


def spot_check_list(
    *,
    actor: Actor,
    term_id: int | None = None,
    institution_id: int | None = None,
    class_id: int | None = None,
    status: str = "",
    rating: int | str | None = None,
    method: str = "",
    query: str = "",
) -> QuerySet[SpotCheck]:
    """``status`` is a SpotCheck.Status value, or "pending" (open or answered) or "overdue"."""
    require(actor, "monitoring.spotcheck.view")
    qs = visible(
        actor,
        SpotCheck.objects.select_related(
            "project_class", "project_class__project", "project_class__project__institution", "recorded_by"
        ),
    )
    if term_id:
        qs = qs.filter(project_class__project__term_id=term_id)
    if institution_id:
        qs = qs.filter(project_class__project__institution_id=institution_id)
    if class_id:
        qs = qs.filter(project_class_id=class_id)
    if status == "pending":
        qs = qs.filter(status__in=SpotCheck.OPEN_STATUSES)
    elif status == "overdue":
        qs = qs.filter(status=SpotCheck.Status.OPEN, follow_up_due__lt=timezone.localdate())
    elif status in SpotCheck.Status.values:
        qs = qs.filter(status=status)
    if rating and str(rating).isdigit():
        qs = qs.filter(rating=int(rating))
    if method:
        qs = qs.filter(method=method)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(project_class__project__name__icontains=query)
            | Q(project_class__project__code__istartswith=query)
            | Q(project_class__project__institution__name__icontains=query)
            | Q(findings__icontains=query)
        )
    return qs.order_by("-checked_on", "-id")


def spot_check_get(*, actor: Actor, spot_check_id: int) -> SpotCheck:
    require(actor, "monitoring.spotcheck.view")
    return get_visible(
        actor,
        SpotCheck.objects.select_related(
            "project_class",
            "project_class__project",
            "project_class__project__institution",
            "project_class__project__region",
            "project_class__project__term",
            "recorded_by",
            "responded_by",
            "closed_by",
        ),
        pk=spot_check_id,
    )


def attachment_get(*, actor: Actor, spot_check: SpotCheck, attachment_id: int) -> SpotCheckAttachment:
    require(actor, "monitoring.spotcheck.view")
    return get_visible(actor, SpotCheckAttachment.objects.filter(spot_check=spot_check), pk=attachment_id)


# --- misconduct reports ----------------------------------------------------------------------


def misconduct_list(
    *,
    actor: Actor,
    term_id: int | None = None,
    institution_id: int | None = None,
    kind: str = "",
    pending: bool = False,
    query: str = "",
) -> QuerySet[MisconductReport]:
    """``pending``: not yet acknowledged by the actor's side (school or county; by either for others)."""
    require(actor, "monitoring.misconduct.view")
    qs = visible(
        actor,
        MisconductReport.objects.select_related(
            "project_class",
            "project_class__project",
            "project_class__project__institution",
            "teacher",
            "school",
            "school__county",
        ),
    )
    if term_id:
        qs = qs.filter(project_class__project__term_id=term_id)
    if institution_id:
        qs = qs.filter(project_class__project__institution_id=institution_id)
    if kind:
        qs = qs.filter(kind=kind)
    if pending:
        qs = qs.filter(_pending_q(actor))
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(teacher__name__icontains=query)
            | Q(school__name__icontains=query)
            | Q(project_class__project__name__icontains=query)
            | Q(project_class__project__code__istartswith=query)
        )
    return qs.order_by("-reported_at", "-id")


def _pending_q(actor: Actor) -> Q:
    if actor.role == Role.SCHOOL:
        return Q(school_ack_at__isnull=True)
    if actor.role == Role.COUNTY:
        return Q(county_ack_at__isnull=True)
    return Q(school_ack_at__isnull=True) | Q(county_ack_at__isnull=True)


def misconduct_get(*, actor: Actor, report_id: int) -> MisconductReport:
    require(actor, "monitoring.misconduct.view")
    return get_visible(
        actor,
        MisconductReport.objects.select_related(
            "project_class",
            "project_class__project",
            "project_class__project__institution",
            "teacher",
            "school",
            "school__county",
            "reported_by",
            "school_ack_by",
            "county_ack_by",
        ),
        pk=report_id,
    )


def trainee_get(*, national_id: str, name: str) -> Teacher:
    """The teacher with exactly this ID number and name (an institution knows both from its trainee list).

    Used only to file a report: it answers with one teacher or an error, never a list.
    """
    national_id = (national_id or "").strip().upper()
    name = (name or "").strip()
    teacher = None
    if national_id and name:
        teacher = (
            Teacher.objects.select_related("school", "school__county")
            .filter(national_id=national_id, name=name)
            .first()
        )
    if teacher is None:
        raise InvalidInput(_("No teacher has this ID number and name."), details={"field": "national_id"})
    return teacher


# --- home panels -----------------------------------------------------------------------------


def follow_ups_open(*, actor: Actor) -> QuerySet[SpotCheck]:
    """The monitor's follow-ups not yet closed: answered ones (to close) first, then by due date."""
    return spot_check_list(actor=actor, status="pending").order_by("-status", "follow_up_due", "id")


def findings_awaiting_answer(*, actor: Actor) -> QuerySet[SpotCheck]:
    return spot_check_list(actor=actor, status=SpotCheck.Status.OPEN).order_by("follow_up_due", "id")


def misconduct_unacknowledged(*, actor: Actor) -> QuerySet[MisconductReport]:
    return misconduct_list(actor=actor, pending=True)


# --- institution scorecard ------------------------------------------------------------------


@dataclass
class ScorecardRow:
    institution: Institution
    applied: int = 0
    approved: int = 0
    published: int = 0
    changes: int = 0
    classes: int = 0
    late_schedules: int = 0
    spot_checks: int = 0
    average_rating: float | None = None
    failed_checks: int = 0
    misconduct_reports: int = 0
    lecturer_checks: int = 0
    lecturers_confirmed: int = 0
    lecturers_not_confirmed: int = 0
    enrolment_rate: float | None = None
    pass_rate: float | None = None


SCORECARD_SORTS = (
    "name",
    "applied",
    "approved",
    "published",
    "changes",
    "late_schedules",
    "spot_checks",
    "average_rating",
    "misconduct_reports",
    "lecturer_checks",
    "lecturers_not_confirmed",
    "enrolment_rate",
    "pass_rate",
)

_APPLIED = ("submitted", "returned", "approved", "published", "running", "finished")
_APPROVED = ("approved", "published", "running", "finished")


def schedule_is_late(*, starts_on: date, published_at, lead_days: int, today: date) -> bool:
    """Published after ``starts_on − lead_days`` (a local date), or still missing once the class has started."""
    if published_at is None:
        return starts_on <= today
    return timezone.localdate(published_at) > starts_on - timedelta(days=lead_days)


def scorecard(
    *,
    actor: Actor,
    term: Term,
    institution_type: str = "",
    query: str = "",
    sort: str = "name",
    today: date | None = None,
) -> list[ScorecardRow]:
    """Per institution in ``term``: projects, changes, late schedules, checks, reports, lecturer sampling, rates.

    A fixed number of queries whatever the number of institutions.
    """
    require(actor, "monitoring.scorecard.view")
    today = today or timezone.localdate()
    institutions = visible(actor, Institution.objects.all())
    if institution_type:
        institutions = institutions.filter(type=institution_type)
    query = (query or "").strip()
    if query:
        institutions = institutions.filter(Q(name__icontains=query) | Q(code__istartswith=query))
    with_projects = Project.objects.filter(term=term).values("institution_id")
    institutions = institutions.filter(Q(is_active=True) | Q(pk__in=with_projects))
    return scorecard_rows(term=term, institutions=institutions, sort=sort, today=today)


def scorecard_rows(*, term: Term, institutions: QuerySet[Institution], sort: str = "name", today: date | None = None):
    """The scorecard rows of ``institutions`` (already scoped by the caller) in a fixed number of queries."""
    today = today or timezone.localdate()
    rows = {i.pk: ScorecardRow(institution=i) for i in institutions.order_by("code")}
    ids = list(rows)
    if not ids:
        return []

    projects = Project.objects.filter(term=term, institution_id__in=ids)
    published_q = Q(status__in=PUBLIC_PROJECT_STATUSES) | Q(published_at__isnull=False)
    for r in projects.values("institution_id").annotate(
        applied=Count("pk", filter=Q(status__in=_APPLIED) | Q(submitted_at__isnull=False)),
        approved=Count("pk", filter=Q(status__in=_APPROVED) | published_q),
        published=Count("pk", filter=published_q),
    ):
        row = rows[r["institution_id"]]
        row.applied, row.approved, row.published = r["applied"], r["approved"], r["published"]

    for r in (
        ChangeRequest.objects.filter(
            project__term=term, project__institution_id__in=ids, status=ChangeRequest.Status.APPROVED
        )
        .values("project__institution_id")
        .annotate(n=Count("pk"))
    ):
        rows[r["project__institution_id"]].changes = r["n"]

    classes = ProjectClass.objects.filter(
        project__term=term, project__institution_id__in=ids, project__status__in=PUBLIC_PROJECT_STATUSES
    ).values_list("project__institution_id", "starts_on", "schedule_published_at")
    for institution_id, starts_on, published_at in classes:
        row = rows[institution_id]
        row.classes += 1
        if schedule_is_late(
            starts_on=starts_on, published_at=published_at, lead_days=term.schedule_lead_days, today=today
        ):
            row.late_schedules += 1

    for r in (
        SpotCheck.objects.filter(project_class__project__term=term, project_class__project__institution_id__in=ids)
        .values("project_class__project__institution_id")
        .annotate(n=Count("pk"), avg=Avg("rating"), failed=Count("pk", filter=Q(rating=Rating.FAIL)))
    ):
        row = rows[r["project_class__project__institution_id"]]
        row.spot_checks, row.average_rating, row.failed_checks = r["n"], float(r["avg"]), r["failed"]

    for r in (
        MisconductReport.objects.filter(
            project_class__project__term=term, project_class__project__institution_id__in=ids
        )
        .values("project_class__project__institution_id")
        .annotate(n=Count("pk"))
    ):
        rows[r["project_class__project__institution_id"]].misconduct_reports = r["n"]

    not_confirmed = (LecturerCheck.Result.NOT_CONFIRMED, LecturerCheck.Result.UNREACHABLE)
    for r in (
        LecturerCheck.objects.filter(project__term=term, project__institution_id__in=ids)
        .values("project__institution_id")
        .annotate(
            n=Count("pk"),
            confirmed=Count("pk", filter=Q(result=LecturerCheck.Result.CONFIRMED)),
            failed=Count("pk", filter=Q(result__in=not_confirmed)),
        )
    ):
        row = rows[r["project__institution_id"]]
        row.lecturer_checks, row.lecturers_confirmed, row.lecturers_not_confirmed = (
            r["n"],
            r["confirmed"],
            r["failed"],
        )

    for institution_id, rate in enrolment_rates(term=term, institution_ids=ids).items():
        rows[institution_id].enrolment_rate = rate
    for institution_id, rate in pass_rates(term=term, institution_ids=ids).items():
        rows[institution_id].pass_rate = rate

    return sort_scorecard(list(rows.values()), sort)


def sort_scorecard(rows: list[ScorecardRow], sort: str) -> list[ScorecardRow]:
    """Sort by a column (``-`` for descending); empty values (None) always last."""
    key = (sort or "name").lstrip("-")
    if key not in SCORECARD_SORTS:
        key, sort = "name", "name"
    descending = sort.startswith("-")
    if key == "name":
        return sorted(rows, key=lambda r: r.institution.code, reverse=descending)
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.institution.code), reverse=descending)
    return present + sorted(missing, key=lambda r: r.institution.code)


def scorecard_totals(rows: list[ScorecardRow]) -> dict[str, int | float | None]:
    totals: dict[str, int | float | None] = defaultdict(int)
    for row in rows:
        for name in (
            "applied",
            "approved",
            "published",
            "changes",
            "classes",
            "late_schedules",
            "spot_checks",
            "failed_checks",
            "misconduct_reports",
            "lecturer_checks",
            "lecturers_confirmed",
            "lecturers_not_confirmed",
        ):
            totals[name] += getattr(row, name)
    rated = [(r.average_rating, r.spot_checks) for r in rows if r.average_rating is not None]
    weight = sum(n for _, n in rated)
    totals["average_rating"] = sum(a * n for a, n in rated) / weight if weight else None
    return dict(totals)


def terms(*, actor: Actor) -> QuerySet[Term]:
    """Terms are the same for every role (the filter choices of the monitoring lists)."""
    return Term.objects.order_by("-code")
