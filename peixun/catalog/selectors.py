"""Every read of the catalog app, scoped with ``visible``."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from peixun.core.roles import BUREAU_ROLES, Role
from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.orgs.models import Institution, Region
from peixun.roster.models import Teacher
from peixun.terms.models import Term

from . import rules
from .models import (
    ChangeRequest,
    Lecturer,
    LecturerCheck,
    Project,
    ProjectClass,
    ProjectEvent,
    ProjectLecturer,
    StaffMember,
)

S = Project.Status
CATALOG_STATUSES = (S.PUBLISHED, S.RUNNING)


def managed(actor: Actor, qs: QuerySet, prefix: str = "") -> QuerySet:
    """Narrow a scoped queryset from 'may see' (which includes every published project) to 'manages':
    an institution's own projects, a bureau's or expert's region subtree, everything for the province."""
    if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER):
        return qs.filter(**{f"{prefix}institution": actor.institution}) if actor.institution else qs.none()
    if actor.role in (Role.CITY, Role.COUNTY, Role.EXPERT):
        return qs.filter(**{f"{prefix}region__path__startswith": actor.region.path}) if actor.region else qs.none()
    if actor.role in (Role.PROVINCE, Role.MONITOR):
        return qs
    return qs.none()


def _with_class_stats(qs: QuerySet[Project]) -> QuerySet[Project]:
    return qs.annotate(
        class_count=Count("classes"),
        seats_total=Coalesce(Sum("classes__capacity"), 0),
        seats_taken_total=Coalesce(Sum("classes__seats_taken"), 0),
        first_start=Min("classes__starts_on"),
        last_end=Max("classes__ends_on"),
    ).annotate(seats_left=F("seats_total") - F("seats_taken_total"))


def _region_targets_q(region: Region) -> Q:
    """Projects open to teachers of ``region``: untargeted, or targeting it, an ancestor or a descendant."""
    ancestor_ids = [int(pk) for pk in region.path.strip("/").split("/") if pk]
    through = Project.target_regions.through.objects
    hits = through.filter(Q(region_id__in=ancestor_ids) | Q(region__path__startswith=region.path)).values("project_id")
    targeted = through.values("project_id")
    return Q(pk__in=hits) | ~Q(pk__in=targeted)


def teacher_match_q(teacher: Teacher) -> Q:
    """Projects whose target conditions the teacher meets (学段, 学科, region, rural-only)."""
    q = Q(target_stages="") | Q(target_stages__contains=f",{teacher.stage},")
    q &= Q(target_subjects="") | Q(target_subjects__contains=f",{teacher.subject},")
    q &= _region_targets_q(teacher.school.county)
    if not (teacher.school.is_rural or teacher.school.is_remote):
        q &= Q(rural_only=False)
    return q


def catalog_list(
    *,
    actor: Actor,
    query: str = "",
    term_id: int | None = None,
    stage: str = "",
    subject: str = "",
    field: str = "",
    level: str = "",
    format: str = "",
    region_id: int | None = None,
    institution_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    seats_only: bool = False,
    teacher: Teacher | None = None,
    sort: str = "",
) -> QuerySet[Project]:
    """Published and running projects, searchable and filterable, with seats left."""
    qs = visible(actor, Project.objects.filter(status__in=CATALOG_STATUSES))
    if term_id:
        qs = qs.filter(term_id=term_id)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(theme__icontains=query) | Q(code__iexact=query))
    if stage:
        qs = qs.filter(Q(target_stages="") | Q(target_stages__contains=f",{stage},"))
    if subject:
        qs = qs.filter(Q(target_subjects="") | Q(target_subjects__contains=f",{subject},"))
    if field:
        qs = qs.filter(field=field)
    if level:
        qs = qs.filter(level=level)
    if format:
        qs = qs.filter(format=format)
    if region_id:
        region = Region.objects.filter(pk=region_id).first()
        if region is not None:
            qs = qs.filter(_region_targets_q(region))
    if institution_id:
        qs = qs.filter(institution_id=institution_id)
    if date_from or date_to:
        classes = ProjectClass.objects.filter(project=OuterRef("pk"))
        if date_from:
            classes = classes.filter(starts_on__gte=date_from)
        if date_to:
            classes = classes.filter(starts_on__lte=date_to)
        qs = qs.filter(Exists(classes))
    if teacher is not None:
        qs = qs.filter(teacher_match_q(teacher))
    if seats_only:
        qs = qs.filter(Exists(ProjectClass.objects.filter(project=OuterRef("pk"), seats_taken__lt=F("capacity"))))
    qs = _with_class_stats(qs.select_related("institution", "term", "region"))
    order = {"start": ("first_start", "pk"), "credits": ("-credits", "pk"), "name": ("name", "pk")}.get(
        sort, ("first_start", "pk")
    )
    return qs.order_by(*order)


def catalog_get(*, actor: Actor, project_id: int) -> Project:
    """A project's public page (published/running/finished, or in the actor's scope)."""
    qs = Project.objects.select_related("institution", "term", "region", "leader").prefetch_related(
        "target_regions",
        Prefetch("classes", queryset=ProjectClass.objects.order_by("number")),
        Prefetch("projectlecturer_set", queryset=ProjectLecturer.objects.select_related("lecturer").order_by("pk")),
    )
    return get_visible(actor, qs, pk=project_id)


def project_list(
    *,
    actor: Actor,
    query: str = "",
    term_id: int | None = None,
    status: str = "",
    institution_id: int | None = None,
    level: str = "",
    format: str = "",
    field: str = "",
    responsible: bool = False,
    include_drafts: bool | None = None,
) -> QuerySet[Project]:
    """Management list: the institution's own projects, a bureau's review list, everything for the province.

    Bureaus do not see institutions' drafts unless asked for them.
    """
    require(actor, "catalog.project.manage_list")
    qs = managed(actor, visible(actor, Project.objects.all()))
    if include_drafts is None:
        include_drafts = actor.role not in BUREAU_ROLES
    if not include_drafts:
        qs = qs.exclude(status=S.DRAFT)
    if responsible and actor.region is not None:
        qs = qs.filter(region=actor.region)
    if term_id:
        qs = qs.filter(term_id=term_id)
    if status:
        qs = qs.filter(status=status)
    if institution_id:
        qs = qs.filter(institution_id=institution_id)
    if level:
        qs = qs.filter(level=level)
    if format:
        qs = qs.filter(format=format)
    if field:
        qs = qs.filter(field=field)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query) | Q(institution__name__icontains=query))
    checks = LecturerCheck.objects.filter(project=OuterRef("pk"))
    qs = _with_class_stats(qs.select_related("institution", "term", "region", "leader")).annotate(
        has_checks=Exists(checks),
        pending_changes=Count(
            "change_requests", filter=Q(change_requests__status=ChangeRequest.Status.PENDING), distinct=True
        ),
    )
    return qs.order_by("-updated_at", "-pk")


def project_get(*, actor: Actor, project_id: int) -> Project:
    """The management view of one project, with everything its page shows."""
    qs = Project.objects.select_related("institution", "term", "region", "leader", "reviewed_by").prefetch_related(
        "target_regions",
        "term__windows",
        Prefetch("classes", queryset=ProjectClass.objects.order_by("number")),
        Prefetch("projectlecturer_set", queryset=ProjectLecturer.objects.select_related("lecturer").order_by("pk")),
        Prefetch(
            "lecturer_checks", queryset=LecturerCheck.objects.select_related("lecturer", "drawn_by", "checked_by")
        ),
        Prefetch(
            "change_requests",
            queryset=ChangeRequest.objects.select_related("project_class", "requested_by", "decided_by"),
        ),
        Prefetch("events", queryset=ProjectEvent.objects.select_related("user")),
    )
    return get_visible(actor, qs, pk=project_id)


def class_get(*, actor: Actor, class_id: int) -> ProjectClass:
    return get_visible(
        actor, ProjectClass.objects.select_related("project", "project__term", "project__institution"), pk=class_id
    )


def change_request_list(
    *,
    actor: Actor,
    status: str = "",
    institution_id: int | None = None,
    term_id: int | None = None,
    responsible: bool = False,
) -> QuerySet[ChangeRequest]:
    qs = visible(
        actor,
        ChangeRequest.objects.select_related(
            "project", "project__institution", "project__region", "project_class", "requested_by", "decided_by"
        ),
    )
    if status:
        qs = qs.filter(status=status)
    if institution_id:
        qs = qs.filter(project__institution_id=institution_id)
    if term_id:
        qs = qs.filter(project__term_id=term_id)
    if responsible and actor.region is not None:
        qs = qs.filter(project__region=actor.region)
    return qs.order_by("-requested_at", "-pk")


def change_request_get(*, actor: Actor, change_id: int) -> ChangeRequest:
    return get_visible(
        actor,
        ChangeRequest.objects.select_related(
            "project", "project__institution", "project__region", "project__term", "project_class"
        ),
        pk=change_id,
    )


def change_log(
    *, actor: Actor, term_id: int | None = None, institution_id: int | None = None
) -> QuerySet[ProjectEvent]:
    """Institutions' changes after publication (change requests, corrections, deletions): the province's log."""
    require(actor, "catalog.changelog.view")
    qs = visible(
        actor,
        ProjectEvent.objects.filter(kind__in=ProjectEvent.CHANGE_LOG_KINDS).select_related(
            "project", "project__institution", "user"
        ),
    )
    if term_id:
        qs = qs.filter(project__term_id=term_id)
    if institution_id:
        qs = qs.filter(project__institution_id=institution_id)
    return qs.order_by("-at", "-pk")


def change_log_by_institution(*, actor: Actor, term_id: int | None = None) -> list[dict]:
    """Per institution: change requests (approved / rejected / pending), corrections and deletions."""
    events = change_log(actor=actor, term_id=term_id)
    counts = events.order_by().values("project__institution_id", "kind").annotate(n=Count("id"))
    table: dict[int, dict] = {}
    for row in counts:
        entry = table.setdefault(row["project__institution_id"], dict.fromkeys(ProjectEvent.CHANGE_LOG_KINDS, 0))
        entry[row["kind"]] = row["n"]
    institutions = Institution.objects.filter(pk__in=table).order_by("code")
    return [{"institution": i, **table[i.pk], "total": sum(table[i.pk].values())} for i in institutions]


def late_schedules(
    *, actor: Actor, term: Term, today: date | None = None, institution_id: int | None = None
) -> QuerySet[ProjectClass]:
    """Classes whose detailed schedule is overdue, or was published later than the rule allows."""
    today = today or timezone.localdate()
    overdue_start = today + timedelta(days=term.schedule_lead_days)  # deadline < today ⇔ starts_on < today + lead
    qs = visible(
        actor,
        ProjectClass.objects.filter(
            project__term=term, project__status__in=(S.APPROVED, S.PUBLISHED, S.RUNNING)
        ).select_related("project", "project__institution", "project__term", "project__region"),
    )
    qs = managed(actor, qs, prefix="project__")
    if institution_id:
        qs = qs.filter(project__institution_id=institution_id)
    late = Q(schedule_published_at__isnull=True, starts_on__lt=overdue_start) | Q(schedule_published_late=True)
    return qs.filter(late).order_by("starts_on", "pk")


def schedule_due(
    *, actor: Actor, term: Term, today: date | None = None, within_days: int = 14
) -> QuerySet[ProjectClass]:
    """The institution's classes still without a schedule whose deadline is near (the countdown)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=term.schedule_lead_days + within_days)
    qs = visible(
        actor,
        ProjectClass.objects.filter(
            project__term=term,
            project__status__in=(S.APPROVED, S.PUBLISHED, S.RUNNING),
            schedule_published_at__isnull=True,
            starts_on__gte=today,
            starts_on__lte=horizon,
        ).select_related("project", "project__term"),
    )
    return managed(actor, qs, prefix="project__").order_by("starts_on", "pk")


def staff_list(*, actor: Actor, query: str = "") -> QuerySet[StaffMember]:
    require(actor, "catalog.staff.manage")
    qs = visible(actor, StaffMember.objects.select_related("institution"))
    if query:
        qs = qs.filter(name__icontains=query)
    return qs.order_by("name", "pk")


def staff_get(*, actor: Actor, staff_id: int) -> StaffMember:
    return get_visible(actor, StaffMember.objects.select_related("institution"), pk=staff_id)


def lecturer_list(*, actor: Actor, query: str = "") -> QuerySet[Lecturer]:
    """The expert database."""
    require(actor, "catalog.lecturer.view")
    qs = visible(actor, Lecturer.objects.select_related("created_by_institution")).annotate(
        project_count=Count("projects", distinct=True),
        check_count=Count("checks", distinct=True),
        unconfirmed=Count(
            "checks",
            filter=Q(checks__result__in=(LecturerCheck.Result.NOT_CONFIRMED, LecturerCheck.Result.UNREACHABLE)),
            distinct=True,
        ),
    )
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(organisation__icontains=query) | Q(expertise__icontains=query))
    return qs.order_by("name", "pk")


def lecturer_get(*, actor: Actor, lecturer_id: int) -> Lecturer:
    return get_visible(actor, Lecturer.objects.all(), pk=lecturer_id)


def check_get(*, actor: Actor, check_id: int) -> LecturerCheck:
    return get_visible(actor, LecturerCheck.objects.select_related("project", "lecturer"), pk=check_id)


def sampling_queue(*, actor: Actor, term_id: int | None = None) -> QuerySet[Project]:
    """Projects under review, for experts drawing lecturer samples."""
    require(actor, "catalog.lecturer.sample")
    qs = visible(actor, Project.objects.filter(status__in=(S.SUBMITTED, S.RETURNED, S.APPROVED)))
    if term_id:
        qs = qs.filter(term_id=term_id)
    return (
        qs.select_related("institution", "region")
        .annotate(
            lecturer_count=Count("lecturers", distinct=True),
            drawn=Count("lecturer_checks", distinct=True),
            verified=Count(
                "lecturer_checks",
                filter=~Q(lecturer_checks__result=LecturerCheck.Result.PENDING),
                distinct=True,
            ),
        )
        .order_by("submitted_at", "pk")
    )


def quota_overview(*, actor: Actor, term: Term, institution_id: int | None = None) -> list[rules.QuotaUsage]:
    require(actor, "catalog.quota.view")
    institutions = visible(actor, Institution.objects.filter(is_active=True)).order_by("code")
    if actor.institution is not None:
        institutions = institutions.filter(pk=actor.institution.pk)
    if institution_id:
        institutions = institutions.filter(pk=institution_id)
    return rules.quota_usage(term, institutions)


def status_counts(*, actor: Actor, term: Term) -> dict[str, int]:
    qs = managed(actor, visible(actor, Project.objects.filter(term=term)))
    if actor.role in BUREAU_ROLES:
        qs = qs.exclude(status=S.DRAFT)  # bureaus do not work on institutions' drafts
    rows = qs.order_by().values_list("status").annotate(n=Count("id"))
    return dict(rows)


def region_cap_rows(*, actor: Actor, term: Term) -> list[dict]:
    """Cities and counties the bureau caps (its own region; every one for the province) with use."""
    from .models import RegionCap

    require(actor, "catalog.regioncap.manage")
    regions = visible(actor, Region.objects.exclude(level=Region.Level.PROVINCE)).select_related("parent__parent")
    if actor.role != "province" and actor.region is not None:
        regions = regions.filter(pk=actor.region.pk)
    caps = {c.region_id: c.limit for c in RegionCap.objects.filter(term=term)}
    used = dict(
        Project.objects.filter(rules.counted_q(term), term=term, level__in=rules.LOCAL_LEVELS)
        .order_by()
        .values_list("region_id")
        .annotate(n=Count("id"))
        .values_list("region_id", "n")
    )
    return [{"region": r, "limit": caps.get(r.pk), "used": used.get(r.pk, 0)} for r in regions.order_by("path")]
