import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.roles import Role
from peixun.orgs.models import Institution, Region, School


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    must_change_password = models.BooleanField(_("must change password at next login"), default=True)
    created_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleGrant(models.Model):
    """One role of a user, bound to exactly the scope that role needs."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("region"))
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("school"))
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("institution")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region", "school", "institution"], name="rolegrant_unique_scope"
            ),
            models.CheckConstraint(
                name="rolegrant_one_scope",
                condition=(
                    models.Q(region__isnull=False, school__isnull=True, institution__isnull=True)
                    | models.Q(region__isnull=True, school__isnull=False, institution__isnull=True)
                    | models.Q(region__isnull=True, school__isnull=True, institution__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.scope_object}"

    @property
    def scope_object(self):
        return self.region or self.school or self.institution


class ApiToken(models.Model):
    """Bearer token for API clients. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    grant = models.ForeignKey(RoleGrant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "px_" + secrets.token_urlsafe(32)
