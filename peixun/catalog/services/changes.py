"""After publication: change requests, credit-attribute corrections and the soft delete."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import CreditCategory, TrainingFormat
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.scopes import Actor, require
from peixun.terms.models import WindowKind
from peixun.terms.windows import get_window

from ..conversion import ONLINE_SHARE_CAP, compute_credits, convert
from ..models import ChangeRequest, Lecturer, Project, ProjectClass, ProjectEvent, ProjectLecturer
from ..signals import project_change_approved, project_deleted
from ._common import (
    S,
    clean_text,
    event,
    lock_project,
    notify_bureau,
    notify_institution,
    require_responsible,
    require_status,
)
from .projects import hours_value, lecturer_get_or_create

E = ProjectEvent.Kind
K = ChangeRequest.Kind
LIVE_STATUSES = (S.PUBLISHED, S.RUNNING)


def _date(value: Any, field_name: str) -> date:
    try:
        parsed = value if isinstance(value, date) else parse_date(str(value or ""))
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(_("Enter a valid date."), details={"field": field_name})
    return parsed


def _class_of(project: Project, project_class: ProjectClass | None) -> ProjectClass:
    if project_class is None or project_class.project_id != project.pk:
        raise InvalidInput(_("Choose the class the change is for."), details={"field": "project_class"})
    return project_class


def _format_values(project: Project, proposed: dict) -> dict:
    fmt = proposed.get("format")
    if fmt not in TrainingFormat.values:
        raise InvalidInput(_("Choose a valid option."), details={"field": "format"})
    hours_offline = hours_value(proposed.get("hours_offline", project.hours_offline), "hours_offline")
    hours_online = hours_value(proposed.get("hours_online", project.hours_online), "hours_online")
    if fmt == TrainingFormat.ONLINE:
        hours_online, hours_offline = hours_online + hours_offline, Decimal("0")
    elif fmt == TrainingFormat.FACE_TO_FACE:
        hours_offline, hours_online = hours_offline + hours_online, Decimal("0")
    elif not (hours_offline > 0 and hours_online > 0):
        raise InvalidInput(_("A blended project has both offline and online hours."), details={"field": "hours_online"})
    institution = project.institution
    if fmt == TrainingFormat.ONLINE and not institution.may_online:
        raise InvalidInput(_("The institution is not qualified to run online training."), details={"field": "format"})
    if fmt == TrainingFormat.BLENDED and not institution.may_blended:
        raise InvalidInput(_("The institution is not qualified to run blended training."), details={"field": "format"})
    conversion = convert(
        category=project.credit_category,
        level=project.level,
        credit_level=project.credit_level,
        fmt=fmt,
        hours_offline=hours_offline,
        hours_online=hours_online,
    )
    if not conversion.share_ok:
        raise InvalidInput(
            _(
                "In a blended project online credits may be at most %(cap)s%% of the project's credits "
                "(now %(online)s of %(total)s)."
            )
            % {
                "cap": int(ONLINE_SHARE_CAP * 100),
                "online": conversion.online_part,
                "total": conversion.offline_part + conversion.online_part,
            },
            details={"field": "hours_online"},
        )
    return {"format": fmt, "hours_offline": str(hours_offline), "hours_online": str(hours_online)}


def _validate_proposal(
    project: Project, kind: str, proposed: dict, project_class: ProjectClass | None
) -> tuple[dict, dict]:
    """Clean the proposed values; returns (proposed, previous)."""
    proposed = dict(proposed or {})
    if kind == K.FORMAT:
        clean = _format_values(project, proposed)
        previous = {
            "format": project.format,
            "hours_offline": str(project.hours_offline),
            "hours_online": str(project.hours_online),
        }
        if clean == previous:
            raise InvalidInput(_("The proposal is the same as now."), details={"field": "format"})
        return clean, previous
    if kind == K.DATES:
        project_class = _class_of(project, project_class)
        starts_on, ends_on = _date(proposed.get("starts_on"), "starts_on"), _date(proposed.get("ends_on"), "ends_on")
        if ends_on < starts_on:
            raise InvalidInput(_("A class cannot end before it starts."), details={"field": "ends_on"})
        window = get_window(project.term, WindowKind.TRAINING)
        if window is not None:
            last = timezone.localdate(window.ends_at - timedelta(microseconds=1))
            if ends_on > last:
                raise InvalidInput(
                    _("Classes take place within the term's training period (%(first)s to %(last)s).")
                    % {"first": timezone.localdate(window.starts_at).isoformat(), "last": last.isoformat()},
                    details={"field": "ends_on"},
                )
        if starts_on < timezone.localdate():
            raise InvalidInput(_("The new dates cannot be in the past."), details={"field": "starts_on"})
        return (
            {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
            {"starts_on": project_class.starts_on.isoformat(), "ends_on": project_class.ends_on.isoformat()},
        )
    if kind == K.PLACE:
        project_class = _class_of(project, project_class)
        place = clean_text(proposed.get("place"))
        if not place or len(place) > 200:
            raise InvalidInput(_("Enter the place."), details={"field": "place"})
        return {"place": place}, {"place": project_class.place}
    if kind == K.LECTURERS:
        add = []
        items, removals = proposed.get("add") or [], proposed.get("remove") or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items) or not isinstance(removals, list):
            raise InvalidInput(_("Add or remove at least one lecturer."), details={"field": "add"})
        for item in items:
            item = {
                k: clean_text(item.get(k))
                for k in ("name", "organisation", "title", "expertise", "phone", "email", "topic")
            }
            for key in ("name", "organisation", "title", "expertise", "phone"):
                if len(item[key]) > Lecturer._meta.get_field(key).max_length:
                    raise InvalidInput(
                        _("At most %(n)s characters.") % {"n": Lecturer._meta.get_field(key).max_length},
                        details={"field": "add"},
                    )
                if not item[key]:
                    raise InvalidInput(
                        _("Enter the new lecturer's name, organisation, title, expertise and phone."),
                        details={"field": "add"},
                    )
            add.append(item)
        current = set(project.lecturers.values_list("pk", flat=True))
        try:
            remove = [int(pk) for pk in removals]
        except (TypeError, ValueError):
            raise InvalidInput(_("This lecturer is not on the project."), details={"field": "remove"}) from None
        if any(pk not in current for pk in remove):
            raise InvalidInput(_("This lecturer is not on the project."), details={"field": "remove"})
        if not add and not remove:
            raise InvalidInput(_("Add or remove at least one lecturer."), details={"field": "add"})
        if not add and set(remove) == current:
            raise InvalidInput(_("A project keeps at least one lecturer."), details={"field": "remove"})
        names = dict(Lecturer.objects.filter(pk__in=current).values_list("pk", "name"))
        return {"add": add, "remove": remove, "remove_names": [names[pk] for pk in remove]}, {
            "lecturers": [names[pk] for pk in sorted(current)]
        }
    if kind == K.OTHER:
        description = clean_text(proposed.get("description"))
        if not description:
            raise InvalidInput(_("Describe the change."), details={"field": "description"})
        return {"description": description[:1000]}, {}
    raise InvalidInput(_("Choose a valid option."), details={"field": "kind"})


@transaction.atomic
def change_request_create(
    *,
    actor: Actor,
    project: Project,
    kind: str,
    reason: str,
    proposed: dict,
    project_class: ProjectClass | None = None,
) -> ChangeRequest:
    """An institution asks the responsible bureau to change a published project (with the reason)."""
    require(actor, "catalog.project.run", project)
    project = lock_project(project)
    require_status(
        project, *LIVE_STATUSES, message=_("Change requests are for published projects; edit drafts directly.")
    )
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Give the reason for the change."), details={"field": "reason"})
    clean, previous = _validate_proposal(project, kind, proposed, project_class)
    pending = ChangeRequest.objects.filter(project=project, kind=kind, status=ChangeRequest.Status.PENDING)
    if project_class is not None:
        pending = pending.filter(project_class=project_class)
    if pending.exists():
        raise Conflict(_("A change of this kind is already waiting for the bureau's decision."))
    change = ChangeRequest.objects.create(
        project=project,
        project_class=project_class if kind in (K.DATES, K.PLACE) else None,
        kind=kind,
        reason=reason,
        proposed=clean,
        previous=previous,
        is_major=True,
        requested_by=actor.user,
    )
    event(project, E.CHANGE_REQUESTED, actor, note=reason, data={"change_request": change.pk, "kind": kind})
    audit_record(
        actor, "catalog.change.request", change, summary=f"{project.name}: {change.get_kind_display()}", after=clean
    )
    notify_bureau(
        project,
        _("Change request for %(name)s: %(kind)s") % {"name": project.name, "kind": change.get_kind_display()},
        f"{change.summary}\n{reason}",
    )
    return change


def _apply_change(change: ChangeRequest, actor: Actor) -> None:
    project = change.project
    proposed = change.proposed
    if change.kind == K.FORMAT:
        clean = _format_values(project, proposed)  # re-checked: qualifications may have changed since
        project.format = clean["format"]
        project.hours_offline = Decimal(clean["hours_offline"])
        project.hours_online = Decimal(clean["hours_online"])
        project.credits, project.credits_online = compute_credits(project)
        project.save()
    elif change.kind == K.DATES:
        pc = ProjectClass.objects.select_for_update().get(pk=change.project_class_id)
        pc.starts_on, pc.ends_on = _date(proposed["starts_on"], "starts_on"), _date(proposed["ends_on"], "ends_on")
        pc.save(update_fields=["starts_on", "ends_on"])
    elif change.kind == K.PLACE:
        pc = ProjectClass.objects.select_for_update().get(pk=change.project_class_id)
        pc.place = proposed["place"]
        pc.save(update_fields=["place"])
    elif change.kind == K.LECTURERS:
        ProjectLecturer.objects.filter(project=project, lecturer_id__in=proposed.get("remove") or []).delete()
        for item in proposed.get("add") or []:
            topic = item.pop("topic", "")
            lecturer = lecturer_get_or_create(actor=_institution_actor(actor, project), **item)
            ProjectLecturer.objects.get_or_create(project=project, lecturer=lecturer, defaults={"topic": topic[:100]})


def _institution_actor(actor: Actor, project: Project) -> Actor:
    """New lecturers entered through a change are recorded as entered by the project's institution."""
    from dataclasses import replace

    return replace(actor, institution=project.institution)


@transaction.atomic
def change_request_approve(*, actor: Actor, change_request: ChangeRequest, note: str = "") -> ChangeRequest:
    """Apply the change; the institution is told, and ``project_change_approved`` lets the enrollment
    app notify enrolled trainees, who may then withdraw without penalty."""
    project = change_request.project
    require(actor, "catalog.change.decide", project)
    require_responsible(actor, project)
    project = lock_project(project)
    change = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    change.project = project
    if change.status != ChangeRequest.Status.PENDING:
        raise Conflict(_("This change request has already been decided."))
    require_status(project, *LIVE_STATUSES)
    before = snapshot(project)
    _apply_change(change, actor)
    change.status = ChangeRequest.Status.APPROVED
    change.decided_by = actor.user
    change.decided_at = timezone.now()
    change.decision_note = clean_text(note)[:300]
    change.save()
    event(
        project,
        E.CHANGE_APPROVED,
        actor,
        note=change.decision_note or change.reason,
        data={
            "change_request": change.pk,
            "kind": change.kind,
            "proposed": change.proposed,
            "previous": change.previous,
        },
    )
    audit_record(
        actor,
        "catalog.change.approve",
        change,
        summary=f"{project.name}: {change.get_kind_display()}",
        before=before,
        after={"proposed": change.proposed},
    )
    notify_institution(
        project,
        _("Change approved for %(name)s: %(kind)s") % {"name": project.name, "kind": change.get_kind_display()},
        "\n".join(filter(None, [change.summary, change.decision_note])),
    )
    project_change_approved.send(sender=Project, project=project, change_request=change, actor=actor)
    return change


@transaction.atomic
def change_request_reject(*, actor: Actor, change_request: ChangeRequest, note: str) -> ChangeRequest:
    project = change_request.project
    require(actor, "catalog.change.decide", project)
    require_responsible(actor, project)
    note = clean_text(note)
    if not note:
        raise InvalidInput(_("Give the reason for the rejection."), details={"field": "note"})
    change = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if change.status != ChangeRequest.Status.PENDING:
        raise Conflict(_("This change request has already been decided."))
    change.status = ChangeRequest.Status.REJECTED
    change.decided_by = actor.user
    change.decided_at = timezone.now()
    change.decision_note = note[:300]
    change.save()
    event(project, E.CHANGE_REJECTED, actor, note=note, data={"change_request": change.pk, "kind": change.kind})
    audit_record(actor, "catalog.change.reject", change, summary=note)
    notify_institution(
        project,
        _("Change rejected for %(name)s: %(kind)s") % {"name": project.name, "kind": change.get_kind_display()},
        note,
    )
    return change


@transaction.atomic
def project_correct_credits(
    *, actor: Actor, project: Project, credit_category: str, credit_level: str = "", reason: str
) -> Project:
    """The responsible bureau (or the province) corrects a project's credit attributes after approval.

    Credits are recomputed; results already approved are repaired by the results app's
    取消审核 → 审核 (SPEC §7), which reads these attributes again.
    """
    require(actor, "catalog.project.correct_credits", project)
    require_responsible(actor, project, province_may=True)
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Give the reason for the correction."), details={"field": "reason"})
    if credit_category not in CreditCategory.values:
        raise InvalidInput(_("Choose a valid option."), details={"field": "credit_category"})
    credit_level = clean_text(credit_level)
    if len(credit_level) > 20:
        raise InvalidInput(_("At most %(n)s characters.") % {"n": 20}, details={"field": "credit_level"})
    project = lock_project(project)
    require_status(project, S.SUBMITTED, S.APPROVED, S.PUBLISHED, S.RUNNING, S.FINISHED)
    before = {
        "credit_category": project.credit_category,
        "credit_level": project.credit_level,
        "credits": project.credits,
        "credits_online": project.credits_online,
    }
    if (credit_category, credit_level) == (project.credit_category, project.credit_level):
        raise InvalidInput(_("The proposal is the same as now."), details={"field": "credit_category"})
    project.credit_category, project.credit_level = credit_category, credit_level
    project.credits, project.credits_online = compute_credits(project)
    project.save()
    after = {
        "credit_category": project.credit_category,
        "credit_level": project.credit_level,
        "credits": project.credits,
        "credits_online": project.credits_online,
    }
    as_text = {"before": {k: str(v) for k, v in before.items()}, "after": {k: str(v) for k, v in after.items()}}
    event(project, E.CREDITS_CORRECTED, actor, note=reason, data=as_text)
    audit_record(actor, "catalog.project.correct_credits", project, summary=reason, before=before, after=after)
    notify_institution(project, _("Credit attributes corrected: %(name)s") % {"name": project.name}, reason)
    return project


DELETABLE_STATUSES = (S.PUBLISHED, S.RUNNING, S.FINISHED)


@transaction.atomic
def project_delete(*, actor: Actor, project: Project, reason: str, confirm: str) -> Project:
    """The advanced panel's delete: a soft delete with a reason; nothing is removed.

    ``project_deleted`` is sent inside the transaction: the enrollment app cancels the
    project's enrollments (freeing seats) and the credits app reverses what it produced
    with new ledger entries. If any receiver fails, nothing is deleted.
    """
    require(actor, "catalog.project.delete", project)
    require_responsible(actor, project, province_may=True)
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput(_("Give the reason for deleting the project."), details={"field": "reason"})
    if clean_text(confirm) != project.code:
        raise InvalidInput(
            _("Type the project code %(code)s to confirm.") % {"code": project.code}, details={"field": "confirm"}
        )
    project = lock_project(project)
    require_status(
        project,
        *DELETABLE_STATUSES,
        message=_("Only published projects are deleted here; an institution withdraws its own applications."),
    )
    before = project.status
    project.status = S.DELETED
    project.deleted_at = timezone.now()
    project.delete_reason = reason[:300]
    project.save()
    event(project, E.DELETED, actor, note=reason, data={"previous_status": before})
    audit_record(
        actor,
        "catalog.project.delete",
        project,
        summary=reason,
        before={"status": before},
        after={"status": project.status, "deleted_at": project.deleted_at},
    )
    notify_institution(project, _("Project deleted: %(name)s") % {"name": project.name}, reason)
    project_deleted.send(sender=Project, project=project, actor=actor, reason=reason)
    return project
