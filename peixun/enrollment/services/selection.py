"""Selecting a class (first come, first served) and the waitlist.

Seat accounting (ARCHITECTURE "Rules that keep it correct"): a seat is one conditional UPDATE on the
class counter (``seats.take_seat``) in the same transaction as the enrollment row; the partial unique
constraint allows one active enrollment per teacher and class. Lock order, everywhere in this app:
the teacher row, then the enrollment being changed, then the class row (the seat UPDATE, or a share
lock before queueing on a full class), then — only when promoting — waitlisted enrollments of that
class. Nothing that holds a waitlisted enrollment waits for a class row, so the order cannot deadlock.
The waitlist is in the order teachers joined it (the enrollment id): no number is handed out under a
lock, so a rush on a full class does not queue on the class row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import ProjectClass
from peixun.core.errors import Conflict, NotFound
from peixun.core.hotpath import insert_together, next_id, run_together
from peixun.core.scopes import Actor, require
from peixun.terms.models import Term

from .. import seats
from ..models import Enrollment
from ._common import (
    ClassFull,
    S,
    actor_teacher_id,
    busy_error,
    class_label,
    locked_teacher,
    record,
    retryable,
    today_of,
)
from .eligibility import check_eligibility, selection_class, selection_round, teacher_places

REQUEST_KEY_MAX = 64
SEAT_FREED_RETRIES = 3


class _SeatFreed(Exception):
    """A seat became free while this selection was about to queue: start again and take it."""


def waitlist_rank(enrollment: Enrollment) -> int | None:
    """The enrollment's place in its class's queue now (1 = next to be offered a seat): the queue is in
    the order the teachers joined it."""
    if enrollment.state != S.WAITLISTED:
        return None
    ahead = Enrollment.objects.filter(
        project_class_id=enrollment.project_class_id, state=S.WAITLISTED, pk__lt=enrollment.pk
    )
    return ahead.count() + 1


@retryable
def enrollment_select(
    *, actor: Actor, project_class: ProjectClass | int, request_key: str = "", now: datetime | None = None
) -> Enrollment:
    """The teacher takes a seat in ``project_class`` (state ``selected``, awaiting the principal), or —
    when the class is full and keeps a waitlist — a waitlist place (its number: ``waitlist_rank``).

    ``project_class``: the class or its id (the service reads it, scoped to the actor). Idempotent: a
    retry with the same ``request_key``, or selecting a class the teacher already holds or queues for,
    returns that enrollment and changes nothing. Raises ``WindowClosed``, ``NotEligible`` (see
    ``check_eligibility``), ``ClassFull`` or ``Busy`` (retry).
    """
    require(actor, "enrollment.select")
    class_id = project_class if isinstance(project_class, int) else project_class.pk
    request_key = (request_key or "").strip()[:REQUEST_KEY_MAX]
    for _attempt in range(SEAT_FREED_RETRIES):
        try:
            return _select(actor, class_id, request_key, now)
        except _SeatFreed:
            continue
    raise busy_error()


@transaction.atomic
def _select(actor: Actor, class_id: int, request_key: str, now: datetime | None) -> Enrollment:
    # Round trips on PostgreSQL: one for the reads and the seat (the teacher row lock first, then the
    # class with its term's windows, the teacher's places with the idempotency key, the new enrollment's
    # id, and the seat UPDATE — taken before the checks: any refusal below rolls it back with the rest),
    # one for the inserts (enrollment, event, audit record, notification), and the commit.
    teacher, project_class, places, new_id, seat_taken = run_together(
        locked_teacher(actor_teacher_id(actor)),
        selection_class(class_id),
        teacher_places(actor.teacher_id, request_key=request_key),
        next_id(Enrollment),
        seats.take_seat_statement(class_id),
    )
    if teacher is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    done = next((e for e in places if request_key and e.request_key == request_key), None) or next(
        (e for e in places if e.project_class_id == class_id and e.state in Enrollment.ACTIVE), None
    )
    if done is not None:
        if seat_taken:
            transaction.set_rollback(True)  # the seat goes back: nothing is written
        done.teacher = teacher
        return done
    if project_class is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    term: Term = project_class.project.term
    round_ = selection_round(term, now)
    if round_ == 1 and term.selection_mode == Term.SelectionMode.FAIR:
        raise Conflict(
            _("In this term, round 1 uses ranked preferences and an allocation run; submit your preferences instead."),
            code="fair_mode",
        )
    check_eligibility(teacher=teacher, project_class=project_class, round=round_, now=now, places=places)
    if seat_taken:
        state = S.SELECTED
    elif not project_class.waitlist_enabled:
        raise ClassFull(
            _("This class is full (%(capacity)s seats) and keeps no waitlist.") % {"capacity": project_class.capacity}
        )
    elif seats.hold_for_waitlist(project_class.pk):
        raise _SeatFreed
    else:
        state = S.WAITLISTED
    enrollment = Enrollment(
        pk=new_id, teacher=teacher, project_class=project_class, round=round_, state=state, request_key=request_key
    )
    try:
        if new_id is None:  # no id reserved (not PostgreSQL): insert it first, then the rows that name it
            insert_together(enrollment)
        if state == S.SELECTED:
            notice = _("Selected: %(class)s — awaiting your school's review") % {"class": class_label(enrollment)}
        else:
            enrollment.rank = waitlist_rank(enrollment)
            notice = _("%(class)s is full: you are number %(rank)s on its waitlist") % {
                "class": class_label(enrollment),
                "rank": enrollment.rank,
            }
        record(actor, enrollment, "", action="enrollment.select", notice=notice, first=[enrollment] if new_id else [])
    except IntegrityError:
        # Another request raced this one past the checks (the teacher row lock makes this next to
        # impossible). The transaction is rolled back; nothing was written; try again.
        raise busy_error() from None
    return enrollment


def promote_waitlist(
    project_class: ProjectClass, seats_free: int, *, actor: Actor | None = None, now: datetime | None = None
) -> list[Enrollment]:
    """Offer up to ``seats_free`` free seats of ``project_class`` to its waitlist, in waitlist order.

    Call inside the transaction that freed or added the seats (withdrawal, rejection, decline,
    accepted 扩班, allocation). Each promoted enrollment takes a seat (``seats.take_seat``) and becomes
    ``selected`` (awaiting the principal's review); the teacher is notified. Stops early when the
    waitlist is empty or no seat is left; nothing is promoted into a class that has started.
    Returns the promoted enrollments.
    """
    promoted: list[Enrollment] = []
    if seats_free <= 0 or project_class.starts_on <= today_of(now):
        return promoted
    attempts = 0
    while len(promoted) < seats_free and attempts < seats_free + 50:
        attempts += 1
        candidate = (
            Enrollment.objects.filter(project_class_id=project_class.pk, state=S.WAITLISTED)
            .select_related("teacher", "project_class__project")
            .order_by("pk")
            .first()
        )
        if candidate is None:
            break
        if not seats.take_seat(project_class.pk):
            break
        moved = Enrollment.objects.filter(pk=candidate.pk, state=S.WAITLISTED).update(
            state=S.SELECTED, decided_at=timezone.now()
        )
        if moved != 1:  # withdrawn meanwhile: give the seat back and try the next in line
            seats.release_seat(project_class.pk)
            continue
        candidate.state = S.SELECTED
        record(
            actor,
            candidate,
            S.WAITLISTED,
            _("A seat became free"),
            action="enrollment.promote",
            notice=_("A seat is yours: %(class)s — awaiting your school's review") % {"class": class_label(candidate)},
        )
        promoted.append(candidate)
    return promoted
