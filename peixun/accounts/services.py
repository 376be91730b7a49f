"""Account writes: creating users with a role grant, resetting passwords, API tokens."""

from __future__ import annotations

import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.core.scopes import Actor, in_scope, require
from peixun.orgs.models import Institution, Region, School

from .models import ApiToken, RoleGrant, User

# Which region level each bureau-type role is bound to (None: any level).
_REGION_LEVEL = {Role.PROVINCE: "province", Role.CITY: "city", Role.COUNTY: "county"}
# The action that allows granting each role.
_GRANT_ACTION = {
    Role.PROVINCE: "accounts.grant.bureau",
    Role.CITY: "accounts.grant.bureau",
    Role.COUNTY: "accounts.grant.bureau",
    Role.EXPERT: "accounts.grant.bureau",
    Role.MONITOR: "accounts.grant.bureau",
    Role.AUDITOR: "accounts.grant.bureau",
    Role.INSTITUTION: "accounts.grant.institution",
    Role.INSTITUTION_REVIEWER: "accounts.grant.institution",
    Role.SCHOOL: "accounts.grant.school",
    Role.TEACHER: "accounts.teacher_login.manage",
}


def generate_password(length: int = 10) -> str:
    """A readable initial password: letters and digits without look-alikes."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0OIl1")
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _check_scope_for_role(role: str, region: Region | None, school: School | None, institution: Institution | None):
    if role in _REGION_LEVEL or role in (Role.EXPERT, Role.MONITOR, Role.AUDITOR):
        if region is None or school is not None or institution is not None:
            raise InvalidInput(_("This role must be bound to a region."), details={"field": "region"})
        level = _REGION_LEVEL.get(role)
        if level and region.level != level:
            raise InvalidInput(
                _("The region level does not match the role (e.g. a county bureau account needs a county)."),
                details={"field": "region"},
            )
    elif role in (Role.SCHOOL, Role.TEACHER):
        if school is None or region is not None or institution is not None:
            raise InvalidInput(_("This role must be bound to a school."), details={"field": "school"})
    elif role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER):
        if institution is None or region is not None or school is not None:
            raise InvalidInput(_("This role must be bound to an institution."), details={"field": "institution"})
    else:
        raise InvalidInput(_("Unknown role."), details={"field": "role"})


def _require_grant(actor: Actor, role: str, region, school, institution) -> None:
    require(actor, _GRANT_ACTION[role])
    target = region or school or institution
    # Institutions are not region-scoped; only the province may grant them (by the action table).
    if isinstance(target, (Region, School)) and not in_scope(actor, target):
        raise NotFound(_("The object does not exist or is outside your scope."))


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: str,
    region: Region | None = None,
    school: School | None = None,
    institution: Institution | None = None,
    phone: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create an account with one role grant. Returns the user and the initial password."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("Enter a username."), details={"field": "username"})
    if len(username) > 150 or not all(c.isalnum() or c in "@.+-_" for c in username):
        raise InvalidInput(
            _("A username may contain only letters, digits and @ . + - _"), details={"field": "username"}
        )
    _check_scope_for_role(role, region, school, institution)
    _require_grant(actor, role, region, school, institution)
    if User.objects.filter(username=username).exists():
        raise Conflict(_("This username is already taken."), details={"field": "username"})
    initial = password or generate_password()
    user = User(username=username, display_name=display_name.strip(), phone=phone.strip(), created_by=actor.user)
    user.set_password(initial)
    user.must_change_password = True
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("This username is already taken."), details={"field": "username"}) from None
    grant = RoleGrant.objects.create(user=user, role=role, region=region, school=school, institution=institution)
    audit_record(
        actor,
        "accounts.user.create",
        user,
        summary=f"{username} · {grant}",
        after={"username": username, "role": role, "scope": str(grant.scope_object)},
    )
    return user, initial


@transaction.atomic
def grant_add(
    *,
    actor: Actor,
    user: User,
    role: str,
    region: Region | None = None,
    school: School | None = None,
    institution: Institution | None = None,
) -> RoleGrant:
    _check_scope_for_role(role, region, school, institution)
    _require_grant(actor, role, region, school, institution)
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, region=region, school=school, institution=institution, defaults={"is_active": True}
    )
    if not created and not grant.is_active:
        grant.is_active = True
        grant.save(update_fields=["is_active"])
    audit_record(actor, "accounts.grant.add", user, summary=str(grant), after={"grant": grant.pk, "role": role})
    return grant


@transaction.atomic
def grant_revoke(*, actor: Actor, grant: RoleGrant) -> None:
    _require_grant(actor, grant.role, grant.region, grant.school, grant.institution)
    grant.is_active = False
    grant.save(update_fields=["is_active"])
    audit_record(actor, "accounts.grant.revoke", grant.user, summary=str(grant), before={"grant": grant.pk})


def _require_manage_user(actor: Actor, user: User) -> None:
    """The actor may manage this user if it could grant every one of the user's active roles."""
    grants = list(user.grants.filter(is_active=True).select_related("region", "school", "institution"))
    if not grants:
        raise NotFound(_("The object does not exist or is outside your scope."))
    for grant in grants:
        _require_grant(actor, grant.role, grant.region, grant.school, grant.institution)


@transaction.atomic
def password_reset(*, actor: Actor, user: User) -> str:
    """Set a new random password the user must change at next sign-in; unlock the account."""
    if user.pk == actor.user.pk:
        raise InvalidInput(_("Use 'Change password' for your own account."))
    _require_manage_user(actor, user)
    new_password = generate_password()
    user.set_password(new_password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    from axes.utils import reset as axes_reset

    axes_reset(username=user.username)
    audit_record(actor, "accounts.user.password_reset", user, summary=user.username)
    return new_password


@transaction.atomic
def user_set_active(*, actor: Actor, user: User, active: bool) -> None:
    if user.pk == actor.user.pk:
        raise InvalidInput(_("You cannot disable your own account."))
    _require_manage_user(actor, user)
    before = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(actor, "accounts.user.set_active", user, before={"is_active": before}, after={"is_active": active})


@transaction.atomic
def password_change(*, actor: Actor | None, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise InvalidInput(_("The current password is wrong."), details={"field": "old_password"})
    if old_password == new_password:
        raise InvalidInput(_("The new password must differ from the current one."), details={"field": "new_password1"})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), details={"field": "new_password1"}) from None
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(actor, "accounts.user.password_change", user, summary=user.username)


@transaction.atomic
def token_create(*, actor: Actor, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the token a name."), details={"field": "name"})
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=actor.user, grant=actor.grant, name=name[:60], key_hash=ApiToken.hash(raw), prefix=raw[3:9]
    )
    audit_record(actor, "accounts.token.create", token, summary=name)
    return token, raw


@transaction.atomic
def token_revoke(*, actor: Actor, token_id: int) -> None:
    token = ApiToken.objects.filter(pk=token_id, user=actor.user, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor, "accounts.token.revoke", token, summary=token.name)
