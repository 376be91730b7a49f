"""Signal receivers of the results app."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record

from .models import ResultSheet, TraineeResult


def withdraw_deleted_project_approvals(sender, project, actor=None, reason="", **kwargs):
    """A published project was soft-deleted: the credits app reverses its ledger entries; here its approved
    sheets say so (no credits, awaiting review, which a deleted project never gets)."""
    sheets = list(
        ResultSheet.objects.select_for_update()
        .filter(project_class__project=project, status=ResultSheet.Status.APPROVED)
        .order_by("pk")
    )
    if not sheets:
        return
    text = (_("Project deleted: %(reason)s") % {"reason": reason} if reason else _("Project deleted"))[:300]
    now = timezone.now()
    for sheet in sheets:
        sheet.status = ResultSheet.Status.SUBMITTED
        sheet.cancel_reason = text
        sheet.cancelled_at = now
        sheet.cancelled_by = actor.user if actor is not None else None
        sheet.save(update_fields=["status", "cancel_reason", "cancelled_at", "cancelled_by", "updated_at"])
        audit_record(actor, "results.sheet.project_deleted", sheet, summary=text, after={"status": sheet.status})
    TraineeResult.objects.filter(sheet__in=sheets).update(credits=Decimal("0"), credits_online=Decimal("0"))
