"""Helpers shared by the enrollment services: the acting teacher, events, notifications, busy databases."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

from django.db import OperationalError
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.accounts.models import User
from peixun.core.audit import audit_entry
from peixun.core.errors import Busy, Conflict, NotFound, PermissionDenied, busy, is_busy_error
from peixun.core.hotpath import Bound, Prepared, insert_together
from peixun.core.models import Notification
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.core.services import notifications
from peixun.roster.models import Teacher

from ..models import Enrollment, EnrollmentEvent

S = Enrollment.State
F = TypeVar("F", bound=Callable[..., Any])

REASON_MAX = 300


class NotEligible(Conflict):
    """The teacher may not select this class (target conditions, dates, limits, round rules)."""

    code = "not_eligible"


class ClassFull(Conflict):
    code = "class_full"


def busy_error() -> Busy:
    return busy()


def retryable(func: F) -> F:
    """Put outside ``@transaction.atomic``: a busy database (SQLite's lock timeout, a PostgreSQL deadlock)
    becomes ``Busy`` — a clear Chinese "try again" error, 503 in the API — instead of a 500."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            if is_busy_error(exc):
                raise busy_error() from exc
            raise

    return wrapper  # type: ignore[return-value]


def today_of(now: datetime | None) -> date:
    return timezone.localdate(now) if now is not None else timezone.localdate()


_locked_teacher = Prepared(
    lambda p: Teacher.objects.select_related("school__county").select_for_update(of=("self",)).filter(pk=p.pk)[:1],
    pk=int,
)


def actor_teacher_id(actor: Actor) -> int:
    if actor.role != Role.TEACHER or actor.teacher_id is None:
        raise PermissionDenied(_("Only a teacher with a roster record can select classes."))
    return actor.teacher_id


def locked_teacher(teacher_id: int) -> Bound:
    """The teacher row, locked (one teacher's requests run one at a time), with school and county: a
    statement to run (together with the reads that must come after the lock); None when there is none."""
    return _locked_teacher.bind(pk=teacher_id).then(lambda found: found[0] if found else None)


def actor_teacher(actor: Actor, *, lock: bool = False) -> Teacher:
    """The teacher record the actor acts as (locked when ``lock``: one teacher's requests run one at a time)."""
    teacher_id = actor_teacher_id(actor)
    if lock:
        teacher = locked_teacher(teacher_id).run()
    else:
        teacher = Teacher.objects.select_related("school__county").filter(pk=teacher_id).first()
    if teacher is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    return teacher


def clean_reason(value: str | None, *, required: bool, message: str = "") -> str:
    from peixun.core.errors import InvalidInput

    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(message or _("Give the reason."), details={"field": "reason"})
    if len(value) > REASON_MAX:
        raise InvalidInput(
            _("At most %(limit)s characters, please.") % {"limit": REASON_MAX}, details={"field": "reason"}
        )
    return value


def record(
    actor: Actor | None,
    enrollment: Enrollment,
    from_state: str,
    note: str = "",
    *,
    action: str = "",
    notice: str = "",
    first: Sequence[Model] = (),
) -> EnrollmentEvent:
    """The enrollment's timeline row and the audit record of one transition (same transaction), and with
    ``notice`` the teacher's notification of it: inserted together (one round trip on PostgreSQL), after
    the unsaved rows in ``first`` (a new enrollment whose id was reserved)."""
    user = actor.user if actor is not None and actor.user.pk else None
    event = EnrollmentEvent(
        enrollment=enrollment,
        from_state=from_state,
        to_state=enrollment.state,
        user=user,
        role=actor.role if actor else "",
        note=note[:300],
    )
    entry = audit_entry(
        actor,
        action or f"enrollment.{enrollment.state}",
        enrollment,
        summary=f"{enrollment.teacher_id} → {enrollment.project_class_id}: {from_state or '-'} → {enrollment.state}"
        + (f" ({note})" if note else ""),
        before={"state": from_state} if from_state else None,
        after={"state": enrollment.state, "round": enrollment.round},
    )
    insert_together(*first, event, entry, *(teacher_notice(enrollment, notice) if notice else ()))
    return event


def my_link() -> str:
    return reverse("enrollment:mine")


def teacher_notice(enrollment: Enrollment, title: str, body: str = "") -> list[Notification]:
    """The teacher's notification about ``enrollment``, unsaved (none for a teacher without a login)."""
    user_id = enrollment.teacher.user_id
    return (
        notifications([User(pk=user_id)], title=title, body=body, link=my_link(), kind="enrollment") if user_id else []
    )


def notify_teacher(enrollment: Enrollment, title: str, body: str = "") -> None:
    Notification.objects.bulk_create(teacher_notice(enrollment, title, body))


def notify_teachers(enrollments: Iterable[Enrollment], title_fn: Callable[[Enrollment], str], body: str = "") -> None:
    for enrollment in enrollments:
        notify_teacher(enrollment, title_fn(enrollment), body)


def school_users(school_id: int) -> list[User]:
    return list(
        User.objects.filter(is_active=True, grants__is_active=True, grants__role=Role.SCHOOL, grants__school=school_id)
        .distinct()
        .order_by("pk")
    )


def class_label(enrollment: Enrollment) -> str:
    pc = enrollment.project_class
    return _("%(project)s, class %(number)s") % {"project": pc.project.name, "number": pc.number}
