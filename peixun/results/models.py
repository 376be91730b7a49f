"""Results (成绩登记) and their approval (审核).

* ``ResultSheet``: the results of one class. The institution enters them (draft), submits
  them, and the institution's reviewer approves (审核: credits are posted to the ledger for
  the trainees who passed), cancels an approval (取消审核: exactly those entries are
  reversed) or returns the sheet for correction. Approval rounds are counted, so
  取消审核 → 审核 recomputes from the project's current credit attributes.
* ``TraineeResult``: one rostered trainee's attended 学时 (offline / online apart), pass or
  fail and remarks; ``credits`` is what the last approval posted (its ledger entries have
  source ``result`` and this row's id).
* ``ResultUpload``: a spreadsheet of results, parsed and previewed before it is applied
  (all or nothing).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import ProjectClass
from peixun.enrollment.models import Enrollment
from peixun.roster.models import Teacher


class ResultSheet(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Being entered")
        SUBMITTED = "submitted", _("Awaiting review")
        APPROVED = "approved", _("Reviewed and approved")

    project_class = models.OneToOneField(
        ProjectClass, on_delete=models.PROTECT, related_name="result_sheet", verbose_name=_("class")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # How many times the sheet has been approved (审核); each approval posts a new generation.
    approvals = models.PositiveSmallIntegerField(_("approval rounds"), default=0)
    # The project's credit attributes the current approval used (to spot a later correction).
    approved_attributes = models.JSONField(default=dict, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling the approval"), max_length=300, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("approval cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("result sheet")
        verbose_name_plural = _("result sheets")

    def __str__(self) -> str:
        return str(self.project_class)

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT


class TraineeResult(models.Model):
    sheet = models.ForeignKey(ResultSheet, on_delete=models.CASCADE, related_name="results")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="training_results")
    # None: not entered yet.
    hours_offline = models.DecimalField(_("offline hours attended"), max_digits=6, decimal_places=1, null=True)
    hours_online = models.DecimalField(_("online hours attended"), max_digits=6, decimal_places=1, null=True)
    passed = models.BooleanField(_("passed"), null=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    # Credits the current approval posted (0 when not approved, failed, or reversed).
    credits = models.DecimalField(_("credits"), max_digits=6, decimal_places=2, default=Decimal("0"))
    credits_online = models.DecimalField(
        _("of which online credits"), max_digits=6, decimal_places=2, default=Decimal("0")
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sheet_id", "teacher__school__code", "teacher__name", "id"]
        verbose_name = _("trainee result")
        verbose_name_plural = _("trainee results")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "teacher"], name="result_one_per_trainee"),
            models.CheckConstraint(
                name="result_hours_not_negative",
                condition=(models.Q(hours_offline__isnull=True) | models.Q(hours_offline__gte=0))
                & (models.Q(hours_online__isnull=True) | models.Q(hours_online__gte=0)),
            ),
        ]
        indexes = [models.Index(fields=["teacher", "sheet"], name="result_teacher_sheet")]

    def __str__(self) -> str:
        return f"{self.teacher_id} @ {self.sheet_id}"

    @property
    def complete(self) -> bool:
        return self.passed is not None and self.hours_offline is not None and self.hours_online is not None


class ResultUpload(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", _("Checked, waiting to be applied")
        INVALID = "invalid", _("Has errors, nothing applied")
        APPLIED = "applied", _("Applied")
        CANCELLED = "cancelled", _("Cancelled")

    sheet = models.ForeignKey(ResultSheet, on_delete=models.CASCADE, related_name="uploads")
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # [{"id": result id, "hours_offline": "8.0", "hours_online": "0", "passed": true, "remarks": "", "line": 3}]
    rows = models.JSONField(default=list, blank=True)
    # [{"line": 3, "message": "..."}]
    errors = models.JSONField(default=list, blank=True)
    changed = models.PositiveIntegerField(_("rows that change"), default=0)
    unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("results upload")
        verbose_name_plural = _("results uploads")
