"""扩班: an institution asks for more seats on a class; the responsible bureau accepts all, part or none.

Accepted seats raise the class's capacity (``seats.add_capacity``) and are offered to the class's
waitlist in order in the same transaction; each promoted teacher is notified.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import ProjectClass
from peixun.catalog.services._common import bureau_users, institution_users, require_responsible
from peixun.core.audit import audit_record, snapshot
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.scopes import Actor, require
from peixun.core.services import notify
from peixun.terms.models import WindowKind
from peixun.terms.windows import require_open

from .. import seats
from ..models import ClassExpansion
from ._common import clean_reason, retryable, today_of
from .selection import promote_waitlist

EXPANSION_MAX = 200
ES = ClassExpansion.Status


def _seats(value, *, low: int, high: int, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not low <= number <= high:
        raise InvalidInput(
            _("Enter a whole number of seats from %(low)s to %(high)s.") % {"low": low, "high": high},
            details={"field": field},
        )
    return number


@retryable
@transaction.atomic
def expansion_request(
    *, actor: Actor, project_class: ProjectClass, seats: int, reason: str, now: datetime | None = None
) -> ClassExpansion:
    """The class's institution asks for ``seats`` more seats, with the reason, in the 扩班 request window."""
    require(actor, "enrollment.expansion.request", project_class)
    project = project_class.project
    if project.institution_id != getattr(actor.institution, "pk", None):
        raise NotFound(_("The object does not exist or is outside your scope."))
    if project.status not in ("published", "running"):
        raise Conflict(_("Only classes of published projects can be expanded."))
    require_open(project.term, WindowKind.EXPAND_REQUEST, now)
    if project_class.starts_on <= today_of(now):
        raise Conflict(_("This class has already started; it can no longer be expanded."))
    count = _seats(seats, low=1, high=EXPANSION_MAX, field="seats")
    reason = clean_reason(reason, required=True, message=_("Give the reason for the extra seats."))
    duplicate = _("This class already has an expansion request awaiting the bureau.")
    if ClassExpansion.objects.filter(project_class=project_class, status=ES.PENDING).exists():
        raise Conflict(duplicate)
    try:
        with transaction.atomic():
            expansion = ClassExpansion.objects.create(
                project_class=project_class,
                seats_requested=count,
                reason=reason,
                capacity_before=project_class.capacity,
                requested_by=actor.user,
            )
    except IntegrityError:
        raise Conflict(duplicate) from None
    audit_record(
        actor,
        "enrollment.expansion.request",
        expansion,
        summary=f"{project.code} 第{project_class.number}期 +{count}: {reason}",
        after=snapshot(expansion),
    )
    notify(
        bureau_users(project.region),
        title=_("Class expansion requested: %(project)s, class %(number)s, %(seats)s more seats")
        % {"project": project.name, "number": project_class.number, "seats": count},
        body=reason,
        link=reverse("enrollment:expansion_list"),
        kind="enrollment.expansion",
    )
    return expansion


@retryable
@transaction.atomic
def expansion_decide(
    *, actor: Actor, expansion: ClassExpansion, seats_accepted: int, note: str = "", now: datetime | None = None
) -> ClassExpansion:
    """The project's responsible bureau accepts all or part of the seats (0 declines, with a reason)."""
    require(actor, "enrollment.expansion.decide", expansion)
    locked = ClassExpansion.objects.select_for_update(of=("self",)).filter(pk=expansion.pk).first()
    if locked is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    project_class = ProjectClass.objects.select_related("project__term", "project__region").get(
        pk=locked.project_class_id
    )
    project = project_class.project
    require_responsible(actor, project)
    if locked.status != ES.PENDING:
        raise Conflict(_("This expansion request has already been decided."))
    require_open(project.term, WindowKind.EXPAND_ACCEPT, now)
    accepted = _seats(seats_accepted, low=0, high=locked.seats_requested, field="seats_accepted")
    note = clean_reason(note, required=accepted == 0, message=_("Give the reason for declining."))
    before = snapshot(locked, ["status", "seats_accepted"])
    promoted = []
    if accepted:
        seats.add_capacity(project_class.pk, accepted)
        project_class.refresh_from_db(fields=["capacity", "seats_taken"])
        promoted = promote_waitlist(project_class, accepted, actor=actor, now=now)
    locked.seats_accepted = accepted
    locked.status = ES.DECLINED if accepted == 0 else (ES.ACCEPTED if accepted == locked.seats_requested else ES.PARTLY)
    locked.decided_by, locked.decided_at = actor.user, timezone.now()
    locked.decision_note = note
    locked.promoted = len(promoted)
    locked.save(update_fields=["seats_accepted", "status", "decided_by", "decided_at", "decision_note", "promoted"])
    audit_record(
        actor,
        "enrollment.expansion.decide",
        locked,
        summary=f"{project.code} 第{project_class.number}期: {locked.get_status_display()} {accepted}/{locked.seats_requested}",
        before=before,
        after=snapshot(locked, ["status", "seats_accepted", "promoted", "decision_note"]),
    )
    if accepted:
        title = _(
            "Class expansion accepted: %(project)s, class %(number)s, %(seats)s more seats (%(promoted)s from the waitlist)"
        ) % {"project": project.name, "number": project_class.number, "seats": accepted, "promoted": len(promoted)}
    else:
        title = _("Class expansion declined: %(project)s, class %(number)s") % {
            "project": project.name,
            "number": project_class.number,
        }
    notify(
        institution_users(project.institution),
        title=title,
        body=note,
        link=reverse("enrollment:class_detail", args=[project_class.pk]),
        kind="enrollment.expansion",
    )
    return locked
