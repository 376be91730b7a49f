"""Writes of quality monitoring: spot checks (record, answer, close) and misconduct reports (file, acknowledge)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.accounts.models import User
from peixun.catalog.models import ProjectClass
from peixun.core.audit import audit_record, snapshot
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor, require
from peixun.core.services import notify
from peixun.roster.models import Teacher

from .models import MisconductReport, Rating, SpotCheck, SpotCheckAttachment
from .selectors import trainee_in_class

ATTACHMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx"}
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_UPLOAD = 5
TEXT_MAX = 4000


def _users_holding(role: str, **scope) -> list[User]:
    """Active users with an active grant of ``role`` on exactly this scope (school / region / institution)."""
    filters = {f"grants__{key}": value for key, value in scope.items()}
    return list(
        User.objects.filter(is_active=True, grants__is_active=True, grants__role=role, **filters)
        .distinct()
        .order_by("pk")
    )


def _clean_text(value: str, *, field: str, message: str, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, details={"field": field})
    if len(value) > limit:
        raise InvalidInput(_("At most %(limit)s characters, please.") % {"limit": limit}, details={"field": field})
    return value


def _check_attachments(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    files = [f for f in files if f]
    if len(files) > ATTACHMENTS_PER_UPLOAD:
        raise InvalidInput(
            _("Attach at most %(n)s files at a time.") % {"n": ATTACHMENTS_PER_UPLOAD}, details={"field": "attachments"}
        )
    for upload in files:
        if PurePath(upload.name or "").suffix.lower() not in ATTACHMENT_EXTENSIONS:
            raise InvalidInput(
                _("%(name)s: only PDF, image, Word and Excel files can be attached.") % {"name": upload.name},
                details={"field": "attachments"},
            )
        if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
            raise InvalidInput(
                _("%(name)s is larger than 10 MB.") % {"name": upload.name}, details={"field": "attachments"}
            )
    return files


def _save_attachments(actor: Actor, spot_check: SpotCheck, files: list[UploadedFile], side: str) -> None:
    for upload in files:
        name = PurePath(upload.name or "attachment").name[:200]
        attachment = SpotCheckAttachment(
            spot_check=spot_check, side=side, name=name, size=upload.size or 0, uploaded_by=actor.user
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()


def _require_published(project_class: ProjectClass) -> None:
    if project_class.project.status not in PUBLIC_PROJECT_STATUSES:
        raise Conflict(_("Only classes of published projects can be monitored."))


# --- spot checks -----------------------------------------------------------------------------


@transaction.atomic
def spot_check_record(
    *,
    actor: Actor,
    project_class: ProjectClass,
    checked_on: date,
    method: str,
    findings: str,
    rating: int,
    follow_up_required: bool = False,
    follow_up_due: date | None = None,
    attachments: Iterable[UploadedFile] = (),
) -> SpotCheck:
    """The quality monitor records a check of a class; the institution is notified."""
    require(actor, "monitoring.spotcheck.record", project_class)
    _require_published(project_class)
    today = timezone.localdate()
    if method not in SpotCheck.Method.values:
        raise InvalidInput(_("Choose how the class was checked."), details={"field": "method"})
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in Rating.values:
        raise InvalidInput(_("Choose a rating."), details={"field": "rating"})
    findings = _clean_text(findings, field="findings", message=_("Describe the findings."))
    if checked_on is None or checked_on > today:
        raise InvalidInput(_("The date of the check cannot be in the future."), details={"field": "checked_on"})
    if method == SpotCheck.Method.ON_SITE and not (project_class.starts_on <= checked_on <= project_class.ends_on):
        raise InvalidInput(
            _("An on-site check happens while the class runs (%(start)s to %(end)s).")
            % {"start": project_class.starts_on.isoformat(), "end": project_class.ends_on.isoformat()},
            details={"field": "checked_on"},
        )
    if rating == Rating.FAIL and not follow_up_required:
        raise InvalidInput(
            _("A class rated Fail needs a follow-up from the institution."), details={"field": "follow_up_required"}
        )
    if follow_up_required:
        if follow_up_due is None:
            raise InvalidInput(_("Set the date the follow-up is due."), details={"field": "follow_up_due"})
        if follow_up_due < today:
            raise InvalidInput(_("The follow-up cannot be due in the past."), details={"field": "follow_up_due"})
    else:
        follow_up_due = None
    files = _check_attachments(attachments)

    spot_check = SpotCheck.objects.create(
        project_class=project_class,
        checked_on=checked_on,
        method=method,
        findings=findings,
        rating=rating,
        follow_up_required=follow_up_required,
        follow_up_due=follow_up_due,
        status=SpotCheck.Status.OPEN if follow_up_required else SpotCheck.Status.NO_FOLLOW_UP,
        recorded_by=actor.user,
    )
    _save_attachments(actor, spot_check, files, SpotCheckAttachment.Side.MONITOR)
    project = project_class.project
    audit_record(
        actor,
        "monitoring.spotcheck.record",
        spot_check,
        summary=f"{project.code} 第{project_class.number}期: {spot_check.get_rating_display()}",
        after=snapshot(spot_check),
    )
    if follow_up_required:
        title = _("Spot check of %(project)s: a follow-up is due by %(due)s") % {
            "project": project.name,
            "due": follow_up_due.isoformat(),
        }
    else:
        title = _("Spot check of %(project)s: findings recorded") % {"project": project.name}
    notify(
        _users_holding(Role.INSTITUTION, institution=project.institution_id),
        title=title,
        body=findings[:500],
        link=reverse("monitoring:spotcheck_detail", args=[spot_check.pk]),
        kind="monitoring.spotcheck",
    )
    return spot_check


@transaction.atomic
def spot_check_answer(
    *, actor: Actor, spot_check: SpotCheck, response: str, attachments: Iterable[UploadedFile] = ()
) -> SpotCheck:
    """The class's institution answers the findings (and may revise its answer until the follow-up is closed)."""
    require(actor, "monitoring.spotcheck.answer", spot_check)
    spot_check = SpotCheck.objects.select_for_update().select_related("project_class__project").get(pk=spot_check.pk)
    if spot_check.status == SpotCheck.Status.CLOSED:
        raise Conflict(_("This follow-up has been closed; it can no longer be answered."))
    response = _clean_text(response, field="response", message=_("Write the institution's answer."))
    files = _check_attachments(attachments)
    before = snapshot(spot_check, ["status", "response"])
    spot_check.response = response
    spot_check.responded_at = timezone.now()
    spot_check.responded_by = actor.user
    if spot_check.status == SpotCheck.Status.OPEN:
        spot_check.status = SpotCheck.Status.ANSWERED
    spot_check.save(update_fields=["response", "responded_at", "responded_by", "status"])
    _save_attachments(actor, spot_check, files, SpotCheckAttachment.Side.INSTITUTION)
    audit_record(
        actor,
        "monitoring.spotcheck.answer",
        spot_check,
        summary=spot_check.project_class.project.code,
        before=before,
        after=snapshot(spot_check, ["status", "response"]),
    )
    notify(
        [spot_check.recorded_by],
        title=_("%(institution)s answered your spot check of %(project)s")
        % {"institution": actor.institution.name, "project": spot_check.project_class.project.name},
        body=response[:500],
        link=reverse("monitoring:spotcheck_detail", args=[spot_check.pk]),
        kind="monitoring.spotcheck",
    )
    return spot_check


@transaction.atomic
def spot_check_close(*, actor: Actor, spot_check: SpotCheck, note: str = "") -> SpotCheck:
    """The monitor closes a follow-up; closing one the institution has not answered needs a note."""
    require(actor, "monitoring.spotcheck.close", spot_check)
    spot_check = SpotCheck.objects.select_for_update().select_related("project_class__project").get(pk=spot_check.pk)
    if spot_check.status == SpotCheck.Status.NO_FOLLOW_UP:
        raise Conflict(_("This spot check has no follow-up to close."))
    if spot_check.status == SpotCheck.Status.CLOSED:
        raise Conflict(_("This follow-up has already been closed."))
    note = (note or "").strip()
    if spot_check.status == SpotCheck.Status.OPEN and not note:
        raise InvalidInput(
            _("The institution has not answered yet: give the reason for closing."), details={"field": "note"}
        )
    if len(note) > 500:
        raise InvalidInput(_("At most %(limit)s characters, please.") % {"limit": 500}, details={"field": "note"})
    before = snapshot(spot_check, ["status"])
    spot_check.status = SpotCheck.Status.CLOSED
    spot_check.closed_at = timezone.now()
    spot_check.closed_by = actor.user
    spot_check.close_note = note
    spot_check.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
    project = spot_check.project_class.project
    audit_record(
        actor,
        "monitoring.spotcheck.close",
        spot_check,
        summary=project.code,
        before=before,
        after=snapshot(spot_check, ["status", "close_note"]),
    )
    notify(
        _users_holding(Role.INSTITUTION, institution=project.institution_id),
        title=_("The follow-up on the spot check of %(project)s has been closed") % {"project": project.name},
        body=note,
        link=reverse("monitoring:spotcheck_detail", args=[spot_check.pk]),
        kind="monitoring.spotcheck",
    )
    return spot_check


# --- misconduct reports ----------------------------------------------------------------------


@transaction.atomic
def misconduct_report(
    *,
    actor: Actor,
    project_class: ProjectClass,
    teacher: Teacher,
    kind: str,
    description: str,
    starts_on: date,
    ends_on: date,
) -> MisconductReport:
    """An institution reports a trainee of its class; the teacher's school and county bureau are notified."""
    require(actor, "monitoring.misconduct.report", project_class)
    if project_class.project.institution_id != actor.institution.pk:
        raise NotFound(_("The object does not exist or is outside your scope."))
    _require_published(project_class)
    today = timezone.localdate()
    if project_class.starts_on > today:
        raise Conflict(_("This class has not started yet."))
    if kind not in MisconductReport.Kind.values:
        raise InvalidInput(_("Choose what the trainee did."), details={"field": "kind"})
    description = _clean_text(description, field="description", message=_("Describe what happened."))
    if starts_on is None or ends_on is None:
        raise InvalidInput(_("Enter the dates."), details={"field": "starts_on"})
    if ends_on < starts_on:
        raise InvalidInput(_("The end date cannot be before the start date."), details={"field": "ends_on"})
    if ends_on > today:
        raise InvalidInput(_("The dates cannot be in the future."), details={"field": "ends_on"})
    if starts_on < project_class.starts_on or ends_on > project_class.ends_on:
        raise InvalidInput(
            _("The dates must lie within the class's dates (%(start)s to %(end)s).")
            % {"start": project_class.starts_on.isoformat(), "end": project_class.ends_on.isoformat()},
            details={"field": "starts_on"},
        )
    if not trainee_in_class(teacher, project_class):
        raise InvalidInput(_("This teacher is not on the class roster."), details={"field": "national_id"})
    duplicate = _("This incident has already been reported.")
    if MisconductReport.objects.filter(
        project_class=project_class, teacher=teacher, kind=kind, starts_on=starts_on
    ).exists():
        raise Conflict(duplicate)
    try:
        with transaction.atomic():
            report = MisconductReport.objects.create(
                project_class=project_class,
                teacher=teacher,
                school_id=teacher.school_id,
                kind=kind,
                description=description,
                starts_on=starts_on,
                ends_on=ends_on,
                reported_by=actor.user,
            )
    except IntegrityError:  # a concurrent double submission
        raise Conflict(duplicate) from None
    project = project_class.project
    audit_record(
        actor,
        "monitoring.misconduct.report",
        report,
        summary=f"{project.code} 第{project_class.number}期: {teacher.name} {report.get_kind_display()}",
        after=snapshot(report),
    )
    school = teacher.school
    recipients = _users_holding(Role.SCHOOL, school=school.pk) + _users_holding(Role.COUNTY, region=school.county_id)
    notify(
        recipients,
        title=_("Training discipline: %(teacher)s (%(school)s) — %(kind)s")
        % {"teacher": teacher.name, "school": school.name, "kind": report.get_kind_display()},
        body=_("Reported by %(institution)s for the class %(class)s, %(start)s to %(end)s.")
        % {
            "institution": project.institution.name,
            "class": str(project_class),
            "start": starts_on.isoformat(),
            "end": ends_on.isoformat(),
        },
        link=reverse("monitoring:misconduct_detail", args=[report.pk]),
        kind="monitoring.misconduct",
    )
    return report


@transaction.atomic
def misconduct_acknowledge(*, actor: Actor, report: MisconductReport, note: str = "") -> MisconductReport:
    """The teacher's school or county bureau acknowledges the report (each once), with an optional note."""
    require(actor, "monitoring.misconduct.acknowledge", report)
    report = MisconductReport.objects.select_for_update().get(pk=report.pk)
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput(_("At most %(limit)s characters, please.") % {"limit": 500}, details={"field": "note"})
    side = "school" if actor.role == Role.SCHOOL else "county"
    if getattr(report, f"{side}_ack_at") is not None:
        raise Conflict(_("You have already acknowledged this report."))
    setattr(report, f"{side}_ack_at", timezone.now())
    setattr(report, f"{side}_ack_by", actor.user)
    setattr(report, f"{side}_ack_note", note)
    report.save(update_fields=[f"{side}_ack_at", f"{side}_ack_by", f"{side}_ack_note"])
    audit_record(
        actor,
        "monitoring.misconduct.acknowledge",
        report,
        summary=f"{side}: {note}"[:500],
        after={f"{side}_ack_note": note},
    )
    return report
