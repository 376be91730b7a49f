"""The project lifecycle: draft → submitted → returned / approved → published → running → finished
(or withdrawn / deleted), with classes (班期), lecturers and schedules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import (
    CreditCategory,
    Stage,
    Subject,
    SubjectCategory,
    TrainingField,
    TrainingFormat,
    TrainingLevel,
    join_codes,
)
from peixun.core.errors import Conflict, DomainError, InvalidInput
from peixun.core.scopes import Actor, require
from peixun.orgs.models import Region
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import get_window, require_any_open, require_open

from .. import rules, signals
from ..conversion import compute_credits
from ..models import Lecturer, Project, ProjectClass, ProjectEvent, ProjectLecturer, Quota, RegionCap, StaffMember
from ._common import (
    S,
    clean_text,
    event,
    lock_project,
    notify_institution,
    province_region,
    require_responsible,
    require_status,
)

E = ProjectEvent.Kind

# Fields an institution fills in (besides classes and lecturers).
PROJECT_FIELDS = (
    "name",
    "theme",
    "target_stages",
    "target_subjects",
    "target_regions",
    "rural_only",
    "other_conditions",
    "field",
    "subject_category",
    "level",
    "region",
    "credit_category",
    "credit_level",
    "format",
    "days",
    "hours_offline",
    "hours_online",
    "goals",
    "content",
    "fee_total",
    "fee_training",
    "fee_accommodation",
    "fee_meals",
    "leader",
    "is_b_certificate",
    "is_order_project",
)
_CHOICES = {
    "field": TrainingField,
    "subject_category": SubjectCategory,
    "level": TrainingLevel,
    "credit_category": CreditCategory,
    "format": TrainingFormat,
}
_DECIMALS = ("hours_offline", "hours_online", "fee_total", "fee_training", "fee_accommodation", "fee_meals")


def _decimal(value: Any, field_name: str, maximum: Decimal = Decimal("9999999.99")) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter a number."), details={"field": field_name}) from None
    if not number.is_finite():
        raise InvalidInput(_("Enter a number."), details={"field": field_name})
    if number < 0:
        raise InvalidInput(_("The number may not be negative."), details={"field": field_name})
    if number > maximum:
        raise InvalidInput(
            _("The number is too large (at most %(max)s).") % {"max": maximum}, details={"field": field_name}
        )
    return number.quantize(Decimal("0.01")) if maximum > 10000 else number.quantize(Decimal("0.1"))


def hours_value(value: Any, field_name: str) -> Decimal:
    """学时: non-negative, at most 9999.9, to one decimal."""
    return _decimal(value, field_name, maximum=Decimal("9999.9"))


def _codes(values: Iterable[str] | str, choices, field_name: str) -> str:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v]
    values = list(values or [])
    valid = set(choices.values)
    if any(v not in valid for v in values):
        raise InvalidInput(_("Choose valid options."), details={"field": field_name})
    return join_codes(values)


def responsible_region(level: str, region: Region | None) -> Region:
    """National and provincial projects: the province; city projects: the city; county projects: the county."""
    if level in rules.PROVINCE_WIDE_LEVELS:
        return province_region()
    if level == TrainingLevel.SCHOOL:
        raise InvalidInput(
            _("School-level training is school-based training (校本研修); record it there, not as a project."),
            details={"field": "level"},
        )
    wanted = Region.Level.CITY if level == TrainingLevel.CITY else Region.Level.COUNTY
    if region is None or region.level != wanted:
        raise InvalidInput(
            _("Choose the city whose bureau reviews this city-level project.")
            if wanted == Region.Level.CITY
            else _("Choose the county whose bureau reviews this county-level project."),
            details={"field": "region"},
        )
    return region


def _apply(project: Project, data: dict[str, Any]) -> list[Region] | None:
    """Validate and set fields; returns the target regions to set after saving (None: unchanged)."""
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), details={"field": sorted(unknown)[0]})
    # An order project stays with the county that ordered it (see below).
    fixed = project.region if project.pk and project.is_order_project and project.region_id else None
    targets = None
    for key, value in data.items():
        if key in _CHOICES:
            if value not in _CHOICES[key].values:
                raise InvalidInput(_("Choose a valid option."), details={"field": key})
            setattr(project, key, value)
        elif key in ("hours_offline", "hours_online"):
            setattr(project, key, hours_value(value, key))
        elif key in _DECIMALS:
            setattr(project, key, _decimal(value, key))
        elif key == "target_stages":
            project.target_stages = _codes(value, Stage, key)
        elif key == "target_subjects":
            project.target_subjects = _codes(value, Subject, key)
        elif key == "target_regions":
            targets = list(value or [])
        elif key == "days":
            try:
                project.days = int(value or 0)
            except (TypeError, ValueError):
                raise InvalidInput(_("Enter a number."), details={"field": "days"}) from None
            if project.days < 0 or project.days > 366:
                raise InvalidInput(_("Enter the number of days."), details={"field": "days"})
        elif key == "leader":
            if value is not None and value.institution_id != project.institution_id:
                raise InvalidInput(
                    _("The project leader must be on the staff of the applying institution."),
                    details={"field": "leader"},
                )
            project.leader = value
        elif key in ("rural_only", "is_b_certificate", "is_order_project"):
            setattr(project, key, bool(value))
        elif key == "region":
            project.region = value
        else:
            setattr(project, key, clean_text(value))
    if "fee_total" not in data and any(k in data for k in ("fee_training", "fee_accommodation", "fee_meals")):
        project.fee_total = project.fee_training + project.fee_accommodation + project.fee_meals
    for name in ("name", "theme", "other_conditions", "credit_level", "goals"):
        limit = Project._meta.get_field(name).max_length
        if len(getattr(project, name) or "") > limit:
            raise InvalidInput(
                _("At most %(n)s characters.") % {"n": limit}
                if name != "goals"
                else _("The goals may be at most 200 characters (now %(n)s).") % {"n": len(project.goals)},
                details={"field": name},
            )
    if project.format == TrainingFormat.FACE_TO_FACE:
        project.hours_online = Decimal("0")
    elif project.format == TrainingFormat.ONLINE:
        project.hours_offline = Decimal("0")
    fees = project.fee_training + project.fee_accommodation + project.fee_meals
    if fees != project.fee_total:
        raise InvalidInput(
            _("The fee components must add up to the total fee; nothing may be charged beyond them."),
            details={"field": "fee_total"},
        )
    given = data.get("region", project.region if project.region_id else None)
    if project.is_order_project:
        # An order project is reviewed and published by the county that ordered it (SPEC §5), whatever
        # its level; once created that never changes (forms send no region for province-wide levels).
        region = given if given is not None else fixed
        if region is None or region.level != Region.Level.COUNTY or (fixed is not None and region != fixed):
            raise InvalidInput(
                _("An order project belongs to the county that ordered it."), details={"field": "region"}
            )
        project.region = region
    else:
        project.region = responsible_region(project.level, given)
    if targets is not None and project.level in rules.LOCAL_LEVELS:
        outside = [r.name for r in targets if not r.path.startswith(project.region.path)]
        if outside:
            raise InvalidInput(
                _("A local project may only target regions inside %(region)s (not %(outside)s).")
                % {"region": project.region.name, "outside": "、".join(outside)},
                details={"field": "target_regions"},
            )
    project.credits, project.credits_online = compute_credits(project)
    return targets


def _new_code(term: Term, institution) -> str:
    n = Project.objects.filter(term=term, institution=institution).count() + 1
    while True:
        code = f"{term.code}-{institution.code}-{n:03d}"
        if not Project.objects.filter(code=code).exists():
            return code
        n += 1


@transaction.atomic
def project_create(*, actor: Actor, term: Term, **data: Any) -> Project:
    """An institution starts a draft (any time until the term's application window closes)."""
    require(actor, "catalog.project.apply")
    institution = actor.institution
    kind = WindowKind.ORDER_APPLY if data.get("is_order_project") else WindowKind.PROJECT_APPLY
    window = get_window(term, kind)
    if window is None or timezone.now() >= window.ends_at:
        require_open(term, kind)  # raises with the window's dates
    for required in ("name", "field", "subject_category", "level", "credit_category", "format"):
        if not data.get(required):
            raise InvalidInput(_("This field is required."), details={"field": required})
    project = Project(
        term=term, institution=institution, created_by=actor.user, status=S.DRAFT, code=_new_code(term, institution)
    )
    data.setdefault("theme", data.get("name", ""))
    targets = _apply(project, data)
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        project.code = _new_code(term, institution) + "b"
        project.save()
    if targets:
        project.target_regions.set(targets)
    event(project, E.CREATED, actor)
    audit_record(actor, "catalog.project.create", project, summary=project.name, after=snapshot(project))
    return project


@transaction.atomic
def project_update(*, actor: Actor, project: Project, **changes: Any) -> Project:
    """Edit a draft or a returned project. Published projects change only through change requests."""
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project,
        *rules.EDITABLE_STATUSES,
        message=_("Only drafts and returned projects can be edited; after publication submit a change request."),
    )
    before = snapshot(project)
    targets = _apply(project, changes)
    project.save()
    if targets is not None:
        project.target_regions.set(targets)
    event(project, E.UPDATED, actor)
    audit_record(actor, "catalog.project.update", project, summary=project.name, before=before, after=snapshot(project))
    return project


def _apply_kinds(project: Project) -> tuple[str, ...]:
    if project.is_order_project:
        return (WindowKind.ORDER_APPLY,)
    return (WindowKind.PROJECT_APPLY,)


@transaction.atomic
def project_submit(*, actor: Actor, project: Project, now: datetime | None = None) -> Project:
    """申报: checks the window and every rule (quota, scope, qualifications, leader, online share)."""
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(project, S.DRAFT, S.RETURNED)
    signals.project_submitting.send(sender=Project, project=project, actor=actor)
    if project.status == S.DRAFT:
        require_any_open(project.term, _apply_kinds(project), now)
    else:  # a returned project is revised and resubmitted while applications or reviews are open
        require_any_open(project.term, (*_apply_kinds(project), WindowKind.PROJECT_REVIEW), now)
    # Serialise competing submissions on the things they count: quota row, region cap, the leader.
    if project.level in rules.PROVINCE_WIDE_LEVELS:
        Quota.objects.get_or_create(
            term=project.term,
            institution=project.institution,
            defaults={"limit": rules.default_quota(project.institution, project.term)},
        )
        Quota.objects.select_for_update().filter(term=project.term, institution=project.institution).first()
    else:
        RegionCap.objects.select_for_update().filter(term=project.term, region_id=project.region_id).first()
    if project.leader_id:
        list(StaffMember.objects.select_for_update().filter(national_id=project.leader.national_id).order_by("pk"))
    project.credits, project.credits_online = compute_credits(project)
    problems = rules.submission_problems(project)
    if problems:
        first = problems[0]
        details = dict(first.details or {})
        details["problems"] = [p.message for p in problems]
        raise type(first)(first.message, code=first.code, details=details)
    resubmitted = project.status == S.RETURNED
    project.status = S.SUBMITTED
    project.submitted_at = timezone.now()
    project.save()
    event(project, E.SUBMITTED, actor, data={"resubmitted": resubmitted})
    audit_record(actor, "catalog.project.submit", project, summary=project.name, after={"status": project.status})
    return project


@transaction.atomic
def project_withdraw(*, actor: Actor, project: Project, reason: str = "") -> Project:
    """The institution withdraws a draft or an application not yet approved (it stops counting)."""
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(project, S.DRAFT, S.SUBMITTED, S.RETURNED)
    before = project.status
    project.status = S.WITHDRAWN
    project.save(update_fields=["status", "updated_at"])
    event(project, E.WITHDRAWN, actor, note=clean_text(reason))
    audit_record(
        actor,
        "catalog.project.withdraw",
        project,
        summary=clean_text(reason),
        before={"status": before},
        after={"status": project.status},
    )
    return project


@transaction.atomic
def order_project_close(*, actor: Actor, project: Project, reason: str) -> Project:
    """The ordering county closes an order project it did not choose (or whose order it cancelled).

    The institution's draft stops there (withdrawn, never counted); the reason is the county's remark.
    """
    require(actor, "catalog.project.review", project)
    require_responsible(actor, project)
    project = lock_project(project)
    if not project.is_order_project:
        raise Conflict(_("Only order projects are closed by their county."))
    require_status(project, S.DRAFT, S.SUBMITTED, S.RETURNED)
    before = project.status
    project.status = S.WITHDRAWN
    project.save(update_fields=["status", "updated_at"])
    event(project, E.WITHDRAWN, actor, note=clean_text(reason))
    audit_record(
        actor,
        "catalog.project.close",
        project,
        summary=clean_text(reason),
        before={"status": before},
        after={"status": project.status},
    )
    return project


def _review_kinds(project: Project) -> tuple[str, ...]:
    # Order projects are formally applied Mar 16–17 and reviewed with publication on Mar 18.
    if project.is_order_project:
        return (WindowKind.PROJECT_REVIEW, WindowKind.PUBLICATION)
    return (WindowKind.PROJECT_REVIEW,)


@transaction.atomic
def project_approve(*, actor: Actor, project: Project, note: str = "", now: datetime | None = None) -> Project:
    require(actor, "catalog.project.review", project)
    require_responsible(actor, project)
    project = lock_project(project)
    require_status(project, S.SUBMITTED)
    require_any_open(project.term, _review_kinds(project), now)
    project.status = S.APPROVED
    project.reviewed_at = timezone.now()
    project.reviewed_by = actor.user
    project.return_reason = ""
    project.save()
    event(project, E.APPROVED, actor, note=clean_text(note))
    audit_record(actor, "catalog.project.approve", project, summary=clean_text(note) or project.name)
    notify_institution(
        project,
        _("Project approved: %(name)s") % {"name": project.name},
        _("It will be published in the publication window."),
    )
    return project


@transaction.atomic
def project_return(*, actor: Actor, project: Project, reason: str, now: datetime | None = None) -> Project:
    """Return an application with reasons; the institution revises and resubmits it."""
    require(actor, "catalog.project.review", project)
    require_responsible(actor, project)
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Give the reasons for returning the project."), details={"field": "reason"})
    project = lock_project(project)
    require_status(project, S.SUBMITTED, S.APPROVED)
    require_any_open(project.term, (*_review_kinds(project), WindowKind.PUBLICATION), now)
    before = project.status
    project.status = S.RETURNED
    project.return_reason = reason
    project.reviewed_at = timezone.now()
    project.reviewed_by = actor.user
    project.save()
    event(project, E.RETURNED, actor, note=reason)
    audit_record(
        actor,
        "catalog.project.return",
        project,
        summary=reason,
        before={"status": before},
        after={"status": S.RETURNED},
    )
    notify_institution(project, _("Project returned for revision: %(name)s") % {"name": project.name}, reason)
    return project


@transaction.atomic
def project_publish(*, actor: Actor, project: Project, now: datetime | None = None) -> Project:
    require(actor, "catalog.project.review", project)
    require_responsible(actor, project)
    project = lock_project(project)
    require_status(project, S.APPROVED)
    require_open(project.term, WindowKind.PUBLICATION, now)
    if not project.classes.exists():
        raise Conflict(_("A project without classes cannot be published."))
    project.status = S.PUBLISHED
    project.published_at = timezone.now()
    project.save()
    event(project, E.PUBLISHED, actor)
    audit_record(actor, "catalog.project.publish", project, summary=project.name)
    notify_institution(
        project,
        _("Project published: %(name)s") % {"name": project.name},
        _("Publish each class's detailed schedule at least %(days)s days before it starts.")
        % {"days": project.term.schedule_lead_days},
    )
    return project


@dataclass
class BulkResult:
    done: list[Project] = field(default_factory=list)
    failed: list[tuple[Project, str]] = field(default_factory=list)


BULK_ACTIONS = ("approve", "return", "publish")


@transaction.atomic
def projects_bulk_review(
    *, actor: Actor, projects: Iterable[Project], action: str, reason: str = "", now: datetime | None = None
) -> BulkResult:
    """Approve, return or publish many projects; each succeeds or fails on its own (with its reason)."""
    require(actor, "catalog.project.review")
    if action not in BULK_ACTIONS:
        raise InvalidInput(_("Unknown action."), details={"field": "action"})
    if action == "return" and not clean_text(reason):
        raise InvalidInput(_("Give the reasons for returning the project."), details={"field": "reason"})
    result = BulkResult()
    for project in projects:
        try:
            with transaction.atomic():
                if action == "approve":
                    done = project_approve(actor=actor, project=project, note=reason, now=now)
                elif action == "return":
                    done = project_return(actor=actor, project=project, reason=reason, now=now)
                else:
                    done = project_publish(actor=actor, project=project, now=now)
        except DomainError as exc:
            result.failed.append((project, exc.message))
        else:
            result.done.append(done)
    return result


def _class_span(project: Project) -> tuple[date | None, date | None]:
    span = project.classes.aggregate(first=Min("starts_on"), last=Max("ends_on"))
    return span["first"], span["last"]


@transaction.atomic
def project_start(*, actor: Actor | None, project: Project, today: date | None = None) -> Project:
    """Published → running once its first class has started (the institution, or the daily sweep)."""
    if actor is not None:
        require(actor, "catalog.project.run", project)
    project = lock_project(project)
    require_status(project, S.PUBLISHED)
    today = today or timezone.localdate()
    first, _last = _class_span(project)
    if first is None or today < first:
        raise Conflict(
            _("Training has not started yet; the first class starts on %(date)s.")
            % {"date": first.isoformat() if first else "—"}
        )
    project.status = S.RUNNING
    project.save(update_fields=["status", "updated_at"])
    event(project, E.STARTED, actor)
    audit_record(actor, "catalog.project.start", project, summary=project.name)
    return project


@transaction.atomic
def project_finish(*, actor: Actor | None, project: Project, today: date | None = None) -> Project:
    """Running → finished once its last class has ended (results are registered after)."""
    if actor is not None:
        require(actor, "catalog.project.run", project)
    project = lock_project(project)
    require_status(project, S.RUNNING)
    today = today or timezone.localdate()
    _first, last = _class_span(project)
    if last is None or today < last:
        raise Conflict(
            _("Training is not over yet; the last class ends on %(date)s.")
            % {"date": last.isoformat() if last else "—"}
        )
    project.status = S.FINISHED
    project.save(update_fields=["status", "updated_at"])
    event(project, E.FINISHED, actor)
    audit_record(actor, "catalog.project.finish", project, summary=project.name)
    return project


def projects_advance(*, today: date | None = None) -> dict[str, int]:
    """The daily sweep (``manage.py catalog_advance``): start and finish projects by their class dates."""
    today = today or timezone.localdate()
    counts = {"started": 0, "finished": 0}
    for project in Project.objects.filter(status=S.PUBLISHED, classes__starts_on__lte=today).distinct():
        project_start(actor=None, project=project, today=today)
        counts["started"] += 1
    finished_ids = (
        Project.objects.filter(status=S.RUNNING).exclude(classes__ends_on__gte=today).values_list("pk", flat=True)
    )
    for project in Project.objects.filter(pk__in=list(finished_ids)):
        if project.classes.exists():
            project_finish(actor=None, project=project, today=today)
            counts["finished"] += 1
    return counts


# --- classes ----------------------------------------------------------------------------------


def _validate_class(project: Project, starts_on: date, ends_on: date, place: str, capacity: int) -> None:
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise InvalidInput(_("Enter the class dates."), details={"field": "starts_on"})
    if ends_on < starts_on:
        raise InvalidInput(_("A class cannot end before it starts."), details={"field": "ends_on"})
    if not place or len(place) > 200:
        raise InvalidInput(_("Enter the place."), details={"field": "place"})
    if not isinstance(capacity, int) or capacity < 1 or capacity > 2000:
        raise InvalidInput(_("The capacity is a whole number from 1 to 2000."), details={"field": "capacity"})
    window = get_window(project.term, WindowKind.TRAINING)
    if window is not None:
        first = timezone.localdate(window.starts_at)
        last = timezone.localdate(window.ends_at - timedelta(microseconds=1))
        if starts_on < first or ends_on > last:
            raise InvalidInput(
                _("Classes take place within the term's training period (%(first)s to %(last)s).")
                % {"first": first.isoformat(), "last": last.isoformat()},
                details={"field": "starts_on"},
            )


@transaction.atomic
def class_add(
    *,
    actor: Actor,
    project: Project,
    starts_on: date,
    ends_on: date,
    place: str,
    capacity: int,
    waitlist_enabled: bool = True,
) -> ProjectClass:
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project, *rules.EDITABLE_STATUSES, message=_("Classes can be added only to drafts and returned projects.")
    )
    place = clean_text(place)
    _validate_class(project, starts_on, ends_on, place, capacity)
    number = (project.classes.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    project_class = ProjectClass.objects.create(
        project=project,
        number=number,
        starts_on=starts_on,
        ends_on=ends_on,
        place=place,
        capacity=capacity,
        waitlist_enabled=waitlist_enabled,
    )
    audit_record(actor, "catalog.class.add", project_class, summary=str(project_class), after=snapshot(project_class))
    return project_class


@transaction.atomic
def class_update(
    *,
    actor: Actor,
    project_class: ProjectClass,
    starts_on: date,
    ends_on: date,
    place: str,
    capacity: int,
    waitlist_enabled: bool = True,
) -> ProjectClass:
    project = project_class.project
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project,
        *rules.EDITABLE_STATUSES,
        message=_("Only drafts and returned projects can be edited; after publication submit a change request."),
    )
    place = clean_text(place)
    _validate_class(project, starts_on, ends_on, place, capacity)
    before = snapshot(project_class)
    project_class.starts_on, project_class.ends_on = starts_on, ends_on
    project_class.place, project_class.capacity, project_class.waitlist_enabled = place, capacity, waitlist_enabled
    project_class.save()
    audit_record(
        actor,
        "catalog.class.update",
        project_class,
        summary=str(project_class),
        before=before,
        after=snapshot(project_class),
    )
    return project_class


@transaction.atomic
def class_remove(*, actor: Actor, project_class: ProjectClass) -> None:
    project = project_class.project
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project,
        *rules.EDITABLE_STATUSES,
        message=_("Only drafts and returned projects can be edited; after publication submit a change request."),
    )
    before = snapshot(project_class)
    audit_record(actor, "catalog.class.remove", project_class, summary=str(project_class), before=before)
    project_class.delete()


@transaction.atomic
def class_schedule_publish(*, actor: Actor, project_class: ProjectClass, schedule: str) -> ProjectClass:
    """Publish (or revise) a class's detailed schedule; due Term.schedule_lead_days before the class starts."""
    project = project_class.project
    require(actor, "catalog.project.run", project)
    require_status(project, S.APPROVED, S.PUBLISHED, S.RUNNING)
    schedule = (schedule or "").strip()
    if not schedule:
        raise InvalidInput(_("Enter the detailed schedule."), details={"field": "schedule"})
    project_class = ProjectClass.objects.select_for_update().get(pk=project_class.pk)
    project_class.project = project
    before = {"schedule": project_class.schedule, "published_at": project_class.schedule_published_at}
    first_time = project_class.schedule_published_at is None
    project_class.schedule = schedule
    if first_time:
        project_class.schedule_published_at = timezone.now()
        project_class.schedule_published_late = project_class.schedule_is_late()
    project_class.save(update_fields=["schedule", "schedule_published_at", "schedule_published_late"])
    late = project_class.schedule_published_late
    event(
        project,
        E.SCHEDULE,
        actor,
        note=_("Class %(number)s") % {"number": project_class.number},
        data={"class": project_class.pk, "late": late, "revised": not first_time},
    )
    audit_record(
        actor,
        "catalog.class.schedule",
        project_class,
        summary=str(project_class) + (" (late)" if late else ""),
        before=before,
        after={"schedule": schedule},
    )
    return project_class


# --- lecturers ----------------------------------------------------------------------------------


def lecturer_get_or_create(
    *, actor: Actor, name: str, organisation: str, title: str, expertise: str, phone: str, email: str = ""
) -> Lecturer:
    """The expert database: the same person (name, organisation, phone) is entered once."""
    values = {
        "name": clean_text(name),
        "organisation": clean_text(organisation),
        "title": clean_text(title),
        "expertise": clean_text(expertise),
        "phone": clean_text(phone),
    }
    for key, value in values.items():
        if not value:
            raise InvalidInput(
                _("Enter the lecturer's %(field)s.") % {"field": str(Lecturer._meta.get_field(key).verbose_name)},
                details={"field": key},
            )
        if len(value) > Lecturer._meta.get_field(key).max_length:
            raise InvalidInput(
                _("At most %(n)s characters.") % {"n": Lecturer._meta.get_field(key).max_length}, details={"field": key}
            )
    lecturer, created = Lecturer.objects.get_or_create(
        name=values["name"],
        organisation=values["organisation"],
        phone=values["phone"],
        defaults={
            "title": values["title"],
            "expertise": values["expertise"],
            "email": clean_text(email),
            "created_by_institution": actor.institution,
        },
    )
    if created:
        audit_record(actor, "catalog.lecturer.create", lecturer, summary=str(lecturer), after=snapshot(lecturer))
    return lecturer


@transaction.atomic
def lecturer_add(
    *,
    actor: Actor,
    project: Project,
    name: str,
    organisation: str,
    title: str,
    expertise: str,
    phone: str,
    email: str = "",
    topic: str = "",
) -> ProjectLecturer:
    """Enter a lecturer with the project (into the expert database if new)."""
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project,
        *rules.EDITABLE_STATUSES,
        message=_("Only drafts and returned projects can be edited; after publication submit a change request."),
    )
    lecturer = lecturer_get_or_create(
        actor=actor, name=name, organisation=organisation, title=title, expertise=expertise, phone=phone, email=email
    )
    if ProjectLecturer.objects.filter(project=project, lecturer=lecturer).exists():
        raise Conflict(_("This lecturer is already on the project."), details={"field": "name"})
    link = ProjectLecturer.objects.create(project=project, lecturer=lecturer, topic=clean_text(topic)[:100])
    audit_record(actor, "catalog.project.lecturer_add", project, summary=str(lecturer), after={"lecturer": lecturer.pk})
    return link


@transaction.atomic
def lecturer_remove(*, actor: Actor, project: Project, lecturer: Lecturer) -> None:
    require(actor, "catalog.project.apply", project)
    project = lock_project(project)
    require_status(
        project,
        *rules.EDITABLE_STATUSES,
        message=_("Only drafts and returned projects can be edited; after publication submit a change request."),
    )
    deleted, _rows = ProjectLecturer.objects.filter(project=project, lecturer=lecturer).delete()
    if not deleted:
        raise Conflict(_("This lecturer is not on the project."))
    audit_record(
        actor, "catalog.project.lecturer_remove", project, summary=str(lecturer), before={"lecturer": lecturer.pk}
    )
