"""Models of the reports app.

``IssuedCertificate``: every credit statement and class completion certificate issued, with
the signed digest of the ledger state it was built from (see ``services_certificates``), so
the public verification page can tell a current statement from an outdated or forged one.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.roster.models import Teacher


class IssuedCertificate(models.Model):
    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit statement")
        CLASS = "class", _("Class completion certificate")

    serial = models.CharField(_("serial number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    teacher = models.ForeignKey(
        Teacher, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("teacher")
    )
    cycle = models.PositiveSmallIntegerField(_("cycle (first school year)"), null=True, blank=True)
    project_class = models.ForeignKey(
        "catalog.ProjectClass", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("figures as of"))
    digest = models.CharField(_("digest"), max_length=64)
    snapshot = models.JSONField(_("content"), default=dict)
    authority = models.CharField(_("issuing authority"), max_length=200)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_role = models.CharField(_("issued in role"), max_length=32, blank=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued certificate")
        verbose_name_plural = _("issued certificates")
        indexes = [models.Index(fields=["teacher", "kind", "cycle", "digest"])]

    def __str__(self) -> str:
        return self.serial
