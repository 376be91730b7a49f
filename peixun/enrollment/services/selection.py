"""Selecting a class (first come, first served) and the waitlist.

Seat accounting (ARCHITECTURE "Rules that keep it correct"): a seat is one conditional UPDATE on the
class counter (``seats.take_seat``) in the same transaction as the enrollment row; the partial unique
constraint allows one active enrollment per teacher and class. Lock order, everywhere in this app:
the teacher row, then the enrollment being changed, then the class row (the seat UPDATE), then —
only when promoting — waitlisted enrollments of that class. Nothing that holds a waitlisted
enrollment waits for a class row, so the order cannot deadlock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import ProjectClass
from peixun.core.errors import Conflict, NotFound
from peixun.core.scopes import Actor, require
from peixun.terms.models import Term

from .. import seats
from ..models import Enrollment
from ._common import (
    ClassFull,
    S,
    actor_teacher,
    busy_error,
    class_label,
    notify_teacher,
    record,
    retryable,
    today_of,
)
from .eligibility import check_eligibility, selection_round

REQUEST_KEY_MAX = 64


def waitlist_rank(enrollment: Enrollment) -> int | None:
    """The enrollment's place in its class's queue now (1 = next to be offered a seat)."""
    if enrollment.state != S.WAITLISTED or enrollment.waitlist_position is None:
        return None
    return Enrollment.objects.filter(
        project_class_id=enrollment.project_class_id,
        state=S.WAITLISTED,
        waitlist_position__lte=enrollment.waitlist_position,
    ).count()


def _next_waitlist_position(project_class_id: int) -> int:
    # Serialise waitlist numbers of this class on its row (a full class sees few writers).
    ProjectClass.objects.select_for_update().filter(pk=project_class_id).values_list("pk", flat=True).first()
    last = Enrollment.objects.filter(project_class_id=project_class_id).aggregate(m=Max("waitlist_position"))["m"]
    return (last or 0) + 1


@retryable
@transaction.atomic
def enrollment_select(
    *, actor: Actor, project_class: ProjectClass, request_key: str = "", now: datetime | None = None
) -> Enrollment:
    """The teacher takes a seat in ``project_class`` (state ``selected``, awaiting the principal), or —
    when the class is full and keeps a waitlist — a waitlist place with its number.

    Idempotent: a retry with the same ``request_key``, or selecting a class the teacher already holds
    or queues for, returns that enrollment and changes nothing. Raises ``WindowClosed``,
    ``NotEligible`` (see ``check_eligibility``), ``ClassFull`` or ``Busy`` (retry).
    """
    require(actor, "enrollment.select")
    teacher = actor_teacher(actor, lock=True)
    request_key = (request_key or "").strip()[:REQUEST_KEY_MAX]
    if request_key:
        prior = Enrollment.objects.filter(teacher=teacher, request_key=request_key).first()
        if prior is not None:
            return prior
    existing = Enrollment.objects.active().filter(teacher=teacher, project_class_id=project_class.pk).first()
    if existing is not None:
        return existing
    project_class = (
        ProjectClass.objects.select_related("project__term", "project__institution").filter(pk=project_class.pk).first()
    )
    if project_class is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    term: Term = project_class.project.term
    round_ = selection_round(term, now)
    if round_ == 1 and term.selection_mode == Term.SelectionMode.FAIR:
        raise Conflict(
            _("In this term, round 1 uses ranked preferences and an allocation run; submit your preferences instead."),
            code="fair_mode",
        )
    check_eligibility(teacher=teacher, project_class=project_class, round=round_, now=now)
    try:
        with transaction.atomic():
            if seats.take_seat(project_class.pk):
                state, position = S.SELECTED, None
            elif project_class.waitlist_enabled:
                position = _next_waitlist_position(project_class.pk)  # locks the class row
                # A seat may have been freed (and the waitlist found empty) between the first try and
                # the lock; under the lock no release can slip in, and later ones will see this row.
                if seats.take_seat(project_class.pk):
                    state, position = S.SELECTED, None
                else:
                    state = S.WAITLISTED
            else:
                raise ClassFull(
                    _("This class is full (%(capacity)s seats) and keeps no waitlist.")
                    % {"capacity": project_class.capacity}
                )
            enrollment = Enrollment.objects.create(
                teacher=teacher,
                project_class=project_class,
                round=round_,
                state=state,
                waitlist_position=position,
                request_key=request_key,
            )
    except IntegrityError:
        # Another request raced this one past the checks (the teacher row lock makes this rare:
        # only waitlist numbers of two teachers can collide). Nothing was written; try again.
        raise busy_error() from None
    enrollment.teacher = teacher
    record(actor, enrollment, "", action="enrollment.select")
    if state == S.SELECTED:
        notify_teacher(
            enrollment,
            _("Selected: %(class)s — awaiting your school's review") % {"class": class_label(enrollment)},
        )
    else:
        enrollment.rank = waitlist_rank(enrollment)
        notify_teacher(
            enrollment,
            _("%(class)s is full: you are number %(rank)s on its waitlist")
            % {"class": class_label(enrollment), "rank": enrollment.rank},
        )
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
            .order_by("waitlist_position", "pk")
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
        record(actor, candidate, S.WAITLISTED, _("A seat became free"), action="enrollment.promote")
        notify_teacher(
            candidate,
            _("A seat is yours: %(class)s — awaiting your school's review") % {"class": class_label(candidate)},
        )
        promoted.append(candidate)
    return promoted
