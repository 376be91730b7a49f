"""校长审核 (the school reviews its teachers' selections) and 复核 (the institution confirms its trainees).

Both work one by one or in bulk: the bulk call locks the reviewable rows, decides each, and
reports the ones it skipped (already decided, or not in a reviewable state). A rejection or a
decline frees the seat at once and offers it to the class's waitlist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require, visible
from peixun.terms.models import WindowKind
from peixun.terms.windows import require_any_open

from .. import seats
from ..models import Enrollment
from ._common import S, class_label, clean_reason, notify_teacher, record, retryable
from .selection import promote_waitlist

K = WindowKind
# A school may review as selections arrive (while a selection window is open) and in its review
# windows; any pending selection of the term can be reviewed in any of them.
REVIEW_WINDOWS = (K.SELECT_R1, K.PRINCIPAL_R1, K.SELECT_R2, K.PRINCIPAL_R2)
CONFIRM_WINDOWS = (K.CONFIRM_R1, K.CONFIRM_R2)
BULK_MAX = 500
DECISIONS = ("approve", "reject")


@dataclass
class BulkResult:
    done: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (enrollment id, why)
    promoted: list[Enrollment] = field(default_factory=list)


def _ids(values: Iterable) -> list[int]:
    out: list[int] = []
    for value in values:
        pk = value.pk if isinstance(value, Enrollment) else value
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise InvalidInput(_("Choose the selections to decide."), details={"field": "ids"}) from None
        if 0 < pk < 2**62 and pk not in out:
            out.append(pk)
    if not out:
        raise InvalidInput(_("Choose at least one selection."), details={"field": "ids"})
    if len(out) > BULK_MAX:
        raise InvalidInput(_("At most %(n)s selections at a time, please.") % {"n": BULK_MAX}, details={"field": "ids"})
    return out


def _decide(
    *,
    actor: Actor,
    qs,
    ids: list[int],
    from_state: str,
    to_ok: str,
    to_no: str,
    approve: bool,
    reason: str,
    windows: tuple[str, ...],
    now: datetime | None,
    action: str,
    titles: tuple[str, str],
) -> BulkResult:
    result = BulkResult()
    in_scope = dict(qs.filter(pk__in=ids).values_list("pk", "state"))
    for pk in ids:
        if pk not in in_scope:
            result.skipped.append((pk, _("The object does not exist or is outside your scope.")))
    rows = list(
        qs.filter(pk__in=ids, state=from_state)
        .select_for_update(of=("self",))
        .select_related("teacher", "project_class__project__term")
        .order_by("project_class_id", "pk")  # class rows are then locked in one order
    )
    locked = {e.pk for e in rows}
    for pk, state in in_scope.items():
        if pk not in locked:
            result.skipped.append(
                (pk, _("Already decided: %(state)s.") % {"state": Enrollment.State(state).label}),
            )
    checked: set[int] = set()
    for e in rows:
        term = e.project_class.project.term
        if term.pk not in checked:
            require_any_open(term, windows, now)
            checked.add(term.pk)
    moment = timezone.now()
    freed: dict[int, int] = {}
    for e in rows:
        e.state = to_ok if approve else to_no
        e.reason = "" if approve else reason
        e.decided_at, e.decided_by = moment, actor.user
        e.save(update_fields=["state", "reason", "decided_at", "decided_by"])
        record(actor, e, from_state, e.reason, action=action)
        notify_teacher(
            e,
            (titles[0] if approve else titles[1]) % {"class": class_label(e)},
            e.reason,
        )
        if not approve:
            seats.release_seat(e.project_class_id)
            freed[e.project_class_id] = freed.get(e.project_class_id, 0) + 1
        result.done.append(e)
    for e in rows:
        count = freed.pop(e.project_class_id, 0)
        if count:
            result.promoted += promote_waitlist(e.project_class, count, actor=actor, now=now)
    return result


def _decision(decision: str) -> bool:
    if decision not in DECISIONS:
        raise InvalidInput(_("Choose approve or reject."), details={"field": "decision"})
    return decision == "approve"


@retryable
@transaction.atomic
def enrollments_review(
    *, actor: Actor, enrollments: Iterable, decision: str, reason: str = "", now: datetime | None = None
) -> BulkResult:
    """The school approves or rejects (reason required) its teachers' pending selections, in bulk."""
    require(actor, "enrollment.review")
    approve = _decision(decision)
    reason = clean_reason(reason, required=not approve, message=_("Give the reason for the rejection."))
    qs = visible(actor, Enrollment.objects.all())
    if actor.role == Role.SCHOOL:
        qs = qs.filter(teacher__school=actor.school)
    return _decide(
        actor=actor,
        qs=qs,
        ids=_ids(enrollments),
        from_state=S.SELECTED,
        to_ok=S.APPROVED,
        to_no=S.REJECTED,
        approve=approve,
        reason=reason,
        windows=REVIEW_WINDOWS,
        now=now,
        action="enrollment.review",
        titles=(_("Approved by your school: %(class)s"), _("Not approved by your school: %(class)s")),
    )


@retryable
@transaction.atomic
def enrollments_confirm(
    *, actor: Actor, enrollments: Iterable, decision: str, reason: str = "", now: datetime | None = None
) -> BulkResult:
    """复核: the class's institution confirms (roster) or declines (reason required) approved enrollments."""
    require(actor, "enrollment.confirm")
    approve = _decision(decision)
    reason = clean_reason(reason, required=not approve, message=_("Give the reason for declining."))
    qs = visible(actor, Enrollment.objects.filter(project_class__project__institution=actor.institution))
    return _decide(
        actor=actor,
        qs=qs,
        ids=_ids(enrollments),
        from_state=S.APPROVED,
        to_ok=S.CONFIRMED,
        to_no=S.DECLINED,
        approve=approve,
        reason=reason,
        windows=CONFIRM_WINDOWS,
        now=now,
        action="enrollment.confirm",
        titles=(_("Confirmed on the class roster: %(class)s"), _("Not confirmed by the institution: %(class)s")),
    )


def _single(result: BulkResult) -> Enrollment:
    if result.done:
        return result.done[0]
    pk, why = result.skipped[0]
    if why == _("The object does not exist or is outside your scope."):
        raise NotFound(why)
    raise Conflict(why)


def enrollment_review(
    *, actor: Actor, enrollment: Enrollment, decision: str, reason: str = "", now: datetime | None = None
) -> Enrollment:
    """One selection: like ``enrollments_review`` but raises when it cannot be decided."""
    return _single(enrollments_review(actor=actor, enrollments=[enrollment], decision=decision, reason=reason, now=now))


def enrollment_confirm(
    *, actor: Actor, enrollment: Enrollment, decision: str, reason: str = "", now: datetime | None = None
) -> Enrollment:
    return _single(
        enrollments_confirm(actor=actor, enrollments=[enrollment], decision=decision, reason=reason, now=now)
    )
