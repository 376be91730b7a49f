"""Withdrawal by the teacher, and what catalog changes do to enrollments (deleted projects, major changes)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import ChangeRequest, Project, ProjectClass  # noqa: F401
from peixun.core.errors import Conflict, NotFound
from peixun.core.scopes import Actor, require

from .. import seats
from ..models import Enrollment
from ._common import S, actor_teacher, class_label, clean_reason, notify_teacher, record, retryable, today_of
from .selection import promote_waitlist


@retryable
@transaction.atomic
def enrollment_withdraw(
    *, actor: Actor, enrollment: Enrollment, reason: str = "", now: datetime | None = None
) -> Enrollment:
    """The teacher withdraws (from a seat or from the waitlist) before the class starts — or at any time
    before it ends after an approved major change to the project. A freed seat goes to the waitlist."""
    require(actor, "enrollment.withdraw")
    teacher = actor_teacher(actor, lock=True)
    reason = clean_reason(reason, required=False)
    locked = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("project_class__project")
        .filter(pk=enrollment.pk, teacher=teacher)
        .first()
    )
    if locked is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    if locked.state not in Enrollment.ACTIVE:
        raise Conflict(
            _("This enrollment is already %(state)s.") % {"state": locked.get_state_display()},
            details={"state": locked.state},
        )
    project_class = locked.project_class
    today = today_of(now)
    if project_class.ends_on < today:
        raise Conflict(_("This class is over; it can no longer be withdrawn from."))
    if project_class.starts_on <= today and not locked.free_withdrawal:
        raise Conflict(
            _("This class has started; you can withdraw now only after an approved major change to the project.")
        )
    held = locked.holds_seat
    before = locked.state
    locked.state = S.WITHDRAWN
    locked.reason = reason
    locked.decided_at = timezone.now()
    locked.decided_by = actor.user
    locked.save(update_fields=["state", "reason", "decided_at", "decided_by"])
    locked.teacher = teacher
    record(actor, locked, before, reason, action="enrollment.withdraw")
    notify_teacher(locked, _("Withdrawn: %(class)s") % {"class": class_label(locked)})
    if held:
        seats.release_seat(project_class.pk)
        promote_waitlist(project_class, 1, actor=actor, now=now)
    return locked


def cancel_project_enrollments(*, actor: Actor | None, project: Project, reason: str) -> int:
    """Receiver of ``catalog.signals.project_deleted`` (inside the deletion's transaction): every active
    enrollment of the project is cancelled, its seats freed, and the teachers told."""
    cancelled = 0
    for project_class in ProjectClass.objects.filter(project=project).order_by("pk"):
        rows = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(project_class=project_class, state__in=Enrollment.ACTIVE)
            .select_related("teacher", "project_class__project")
            .order_by("pk")
        )
        if not rows:
            continue
        holding = sum(1 for e in rows if e.holds_seat)
        now = timezone.now()
        for e in rows:
            before = e.state
            e.state, e.reason, e.decided_at = S.CANCELLED, reason[:300], now
            e.decided_by = actor.user if actor is not None and actor.user.pk else None
            e.save(update_fields=["state", "reason", "decided_at", "decided_by"])
            record(actor, e, before, reason, action="enrollment.cancel")
            notify_teacher(
                e,
                _("Cancelled: %(class)s — the project was withdrawn from the catalog") % {"class": class_label(e)},
                reason,
            )
        seats.release_seats(project_class.pk, holding)
        cancelled += len(rows)
    return cancelled


def allow_free_withdrawal(*, actor: Actor | None, project: Project, change_request: ChangeRequest) -> int:
    """Receiver of ``catalog.signals.project_change_approved``: enrolled trainees are told about the change;
    after a major change they may withdraw without penalty at any time (``Enrollment.free_withdrawal``)."""
    qs = Enrollment.objects.filter(project_class__project=project, state__in=Enrollment.ACTIVE)
    if change_request.project_class_id:
        qs = qs.filter(project_class_id=change_request.project_class_id)
    rows = list(qs.select_related("teacher", "project_class__project").order_by("pk"))
    if change_request.is_major:
        Enrollment.objects.filter(pk__in=[e.pk for e in rows]).update(free_withdrawal=True)
    body = change_request.summary
    if change_request.is_major:
        body = "\n".join([body, _("Because this is a major change, you may withdraw without penalty at any time.")])
    for e in rows:
        notify_teacher(
            e,
            _("%(project)s has changed: %(kind)s")
            % {"project": project.name, "kind": change_request.get_kind_display()},
            body,
        )
    return len(rows)
