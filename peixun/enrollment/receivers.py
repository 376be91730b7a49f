"""Receivers of the catalog's hooks (connected in ``EnrollmentConfig.ready``); both run inside the catalog
service's transaction, so if one fails the catalog change is rolled back too."""

from __future__ import annotations

from django.dispatch import receiver

from peixun.catalog.signals import project_change_approved, project_deleted

from .services.withdrawal import allow_free_withdrawal, cancel_project_enrollments


@receiver(project_deleted, dispatch_uid="enrollment.project_deleted")
def on_project_deleted(sender, project, actor=None, reason="", **kwargs):
    cancel_project_enrollments(actor=actor, project=project, reason=reason or "")


@receiver(project_change_approved, dispatch_uid="enrollment.project_change_approved")
def on_project_change_approved(sender, project, change_request, actor=None, **kwargs):
    allow_free_withdrawal(actor=actor, project=project, change_request=change_request)
