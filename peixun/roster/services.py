"""Roster writes: school-maintained fields, exemptions, teacher logins; the import lives in ``imports``."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.accounts.models import RoleGrant, User
from peixun.accounts.services import generate_password
from peixun.core.audit import audit_record, snapshot
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.credits.services import standings_refresh_teachers

from .imports import (  # noqa: F401 - the import's services, re-exported
    roster_import_apply,
    roster_import_apply_later,
    roster_import_cancel,
    roster_import_confirm,
    roster_import_create,
)
from .models import Exemption, Teacher


@transaction.atomic
def teacher_update_local(
    *,
    actor: Actor,
    teacher: Teacher,
    phone: str = "",
    post: str = Teacher.Post.TEACHER,
    hire_date: date | None = None,
    probation_end: date | None = None,
    remarks: str = "",
) -> Teacher:
    """Edit the fields the national system lacks (the imported ones are overwritten by each import).

    A new end of probation changes which cycles the probation requirement applies to, so the
    teacher's stored credit standings are recomputed in the same transaction. The teacher row is
    locked first, as a credit posting locks it, so neither works from the other's stale state.
    """
    require(actor, "roster.teacher.edit_local", teacher)
    if post not in Teacher.Post.values:
        raise InvalidInput(_("Choose a valid post."), details={"field": "post"})
    phone = (phone or "").strip()
    if phone and not (phone.replace("-", "").isdigit() and 7 <= len(phone) <= 20):
        raise InvalidInput(_("Enter a valid phone number."), details={"field": "phone"})
    if hire_date and probation_end and probation_end < hire_date:
        raise InvalidInput(
            _("The end of probation cannot be before the hire date."), details={"field": "probation_end"}
        )
    stored_probation_end = (
        Teacher.objects.select_for_update(no_key=True)
        .filter(pk=teacher.pk)
        .values_list("probation_end", flat=True)
        .get()
    )
    before = snapshot(teacher, list(Teacher.LOCAL_FIELDS))
    teacher.phone = phone
    teacher.post = post
    teacher.hire_date = hire_date
    teacher.probation_end = probation_end
    teacher.remarks = (remarks or "").strip()
    teacher.save(update_fields=[*Teacher.LOCAL_FIELDS, "updated_at"])
    if probation_end != stored_probation_end:
        standings_refresh_teachers([teacher.pk])
    audit_record(
        actor,
        "roster.teacher.update_local",
        teacher,
        summary=teacher.name,
        before=before,
        after=snapshot(teacher, list(Teacher.LOCAL_FIELDS)),
    )
    return teacher


@transaction.atomic
def exemption_create(
    *, actor: Actor, teacher: Teacher, kind: str, reason: str, starts_on: date, ends_on: date | None = None
) -> Exemption:
    require(actor, "roster.exemption.manage", teacher)
    if kind not in Exemption.Kind.values:
        raise InvalidInput(_("Choose the kind of exemption."), details={"field": "kind"})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the exemption."), details={"field": "reason"})
    if ends_on and ends_on < starts_on:
        raise InvalidInput(_("The end date cannot be before the start date."), details={"field": "ends_on"})
    overlapping = teacher.exemptions.filter(revoked_at__isnull=True).exclude(ends_on__lt=starts_on)
    if ends_on:
        overlapping = overlapping.filter(starts_on__lte=ends_on)
    if overlapping.exists():
        raise Conflict(_("The teacher already has an exemption in this period."), details={"field": "starts_on"})
    exemption = Exemption.objects.create(
        teacher=teacher, kind=kind, reason=reason, starts_on=starts_on, ends_on=ends_on, created_by=actor.user
    )
    audit_record(
        actor, "roster.exemption.create", exemption, summary=f"{teacher.name}: {reason}", after=snapshot(exemption)
    )
    return exemption


@transaction.atomic
def exemption_revoke(*, actor: Actor, exemption: Exemption) -> None:
    require(actor, "roster.exemption.manage", exemption.teacher)
    if exemption.revoked_at:
        raise Conflict(_("This exemption has already been revoked."))
    exemption.revoked_at = timezone.now()
    exemption.save(update_fields=["revoked_at"])
    audit_record(actor, "roster.exemption.revoke", exemption, summary=exemption.teacher.name)


@transaction.atomic
def teacher_login_create(*, actor: Actor, teacher: Teacher) -> str:
    """Create the teacher's sign-in (by ID number) and return the initial password."""
    require(actor, "accounts.teacher_login.manage", teacher)
    teacher = Teacher.objects.select_for_update().get(pk=teacher.pk)
    if teacher.user_id:
        raise Conflict(_("This teacher already has a login; reset the password instead."))
    password = generate_password()
    user = User(
        username=f"t{teacher.national_id}", display_name=teacher.name, phone=teacher.phone, created_by=actor.user
    )
    user.set_password(password)
    user.must_change_password = True
    user.save()
    RoleGrant.objects.create(user=user, role=Role.TEACHER, school=teacher.school)
    teacher.user = user
    teacher.save(update_fields=["user", "updated_at"])
    audit_record(actor, "roster.teacher.login_create", teacher, summary=teacher.name)
    return password


@transaction.atomic
def teacher_password_reset(*, actor: Actor, teacher: Teacher) -> str:
    require(actor, "accounts.teacher_login.manage", teacher)
    if not teacher.user_id:
        raise NotFound(_("This teacher has no login yet."))
    password = generate_password()
    user = teacher.user
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    from axes.utils import reset as axes_reset

    axes_reset(username=user.username)
    axes_reset(username=teacher.national_id)
    audit_record(actor, "roster.teacher.password_reset", teacher, summary=teacher.name)
    return password


def teacher_logins_bulk_create(*, actor: Actor, teachers) -> list[tuple[Teacher, str]]:
    """Create logins for every given teacher that has none, all or nothing."""
    with transaction.atomic():
        return [
            (teacher, teacher_login_create(actor=actor, teacher=teacher)) for teacher in teachers if not teacher.user_id
        ]
