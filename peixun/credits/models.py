"""Credit policies, the append-only ledger and the records that post to it.

* ``Policy``: versioned policy data (one active per province); the engine reads ``data``.
* ``LedgerEntry``: append-only. A correction is a new entry whose ``reverses`` points at
  the entry it cancels. The model layer refuses updates and deletes; on PostgreSQL a
  trigger refuses them too (migration 0002).
* ``CreditTotal``: net amounts per (teacher, cycle, school year, category, level, source
  type), maintained in the same transaction as every posting, so reports aggregate a
  few rows per teacher. The ledger stays the source of truth (``credit_totals_rebuild``).
* ``Adjustment``, ``DegreeOffset``, ``FloorProgramme``/``FloorParticipant``: the records
  behind manual adjustments, degree offsets (学历冲抵) and floor training (托底培训).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.errors import Conflict
from peixun.orgs.models import Region
from peixun.roster.models import Teacher


class SourceType(models.TextChoices):
    RESULT = "result", _("Training result")
    SCHOOLBASED = "schoolbased", _("School-based activity")
    DEGREE = "degree", _("Degree offset")
    FLOOR = "floor", _("Floor training")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    HISTORY = "history", _("Imported from the previous credit system")


class Policy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    province = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="credit_policies")
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=100)
    preset = models.CharField(_("based on preset"), max_length=2, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField(_("policy data"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on the active policy once ``CycleTotal`` is complete for its cycle definition. Activating a
    # policy with another definition clears it and the activation job sets it after its rebuild;
    # until then reports read the per-school-year ``CreditTotal`` instead (never a mix of the two).
    cycle_totals_ready = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")
        constraints = [
            models.UniqueConstraint(fields=["province", "version"], name="policy_unique_version"),
            models.UniqueConstraint(
                fields=["province"], condition=models.Q(status="active"), name="policy_one_active_per_province"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerImmutable(_("Ledger entries cannot be changed; post a reversal instead."))

    def delete(self):
        raise LedgerImmutable(_("Ledger entries cannot be deleted; post a reversal instead."))

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerImmutable(_("Ledger entries cannot be changed; post a reversal instead."))


class LedgerImmutable(Conflict):
    """Raised by the model layer on any attempt to change or delete a ledger row."""

    code = "ledger_immutable"


class LedgerEntry(models.Model):
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="ledger_entries")
    cycle = models.PositiveSmallIntegerField(_("cycle (first school year)"))
    school_year = models.PositiveSmallIntegerField(_("school year (starting year)"))
    category = models.CharField(_("category"), max_length=20)
    level = models.CharField(_("sub-category / level"), max_length=20, blank=True)
    amount = models.DecimalField(_("credits"), max_digits=7, decimal_places=2)
    earned_on = models.DateField(_("earned on"))
    source_type = models.CharField(_("source"), max_length=12, choices=SourceType.choices)
    source_id = models.BigIntegerField(_("source record"))
    part = models.CharField(max_length=20, blank=True, default="")
    generation = models.PositiveSmallIntegerField(default=0)
    project = models.ForeignKey(
        "catalog.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", verbose_name=_("reverses")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["earned_on", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["teacher", "cycle"], name="ledger_teacher_cycle"),
            models.Index(fields=["source_type", "source_id"], name="ledger_source"),
        ]
        constraints = [
            # One posting per source, teacher and part and generation: a second posting of the
            # same source is either a no-op or must follow a reversal (next generation).
            models.UniqueConstraint(
                fields=["source_type", "source_id", "teacher", "part", "generation"],
                condition=models.Q(reverses__isnull=True),
                name="ledger_one_posting_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.category} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerImmutable(_("Ledger entries cannot be changed; post a reversal instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable(_("Ledger entries cannot be deleted; post a reversal instead."))

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class CreditTotal(models.Model):
    """Net credits per teacher, cycle, school year, category, level and source (kept in step with the ledger)."""

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="+")
    cycle = models.PositiveSmallIntegerField()
    school_year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20)
    level = models.CharField(max_length=20, blank=True)
    source_type = models.CharField(max_length=12)
    amount = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0"))

    class Meta:
        indexes = [models.Index(fields=["source_type", "school_year"], name="credittotal_source_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "cycle", "school_year", "category", "level", "source_type"], name="credittotal_key"
            )
        ]


class CycleTotal(models.Model):
    """Net credits per teacher, cycle, category and source (about two rows a teacher): what the
    province-wide report scans. Kept for the active policy's cycle definition; rebuilt from
    ``CreditTotal`` by the activation job when a policy with another definition is activated, and
    read only while the active policy's ``cycle_totals_ready`` is set."""

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="+")
    cycle_start = models.PositiveSmallIntegerField()
    cycle_length = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20)
    source_type = models.CharField(max_length=12)
    amount = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "cycle_start", "cycle_length", "category", "source_type"], name="cycletotal_key"
            )
        ]


class TeacherStanding(models.Model):
    """One teacher's standing in one cycle before the date it is read on (``engine.Summary``:
    counted per category, pace, school years, every entry with its explanation), under the
    policy ``policy`` / ``policy_version``. Recomputed by the engine in the transaction of every
    posting and reversal, and for everyone when a policy is activated (a background job); the
    teacher's page then reads one row and adds the date-dependent rest (``engine.finish``). A
    missing row or one of another policy or probation status is never used: the page computes
    from the ledger instead. The ledger stays the source of truth (``standings_rebuild``)."""

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="+")
    cycle_start = models.PositiveSmallIntegerField()
    cycle_length = models.PositiveSmallIntegerField()
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy_version = models.PositiveIntegerField(default=0)
    probation = models.BooleanField(default=False)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teacher", "cycle_start", "cycle_length"], name="teacherstanding_key")
        ]


class Adjustment(models.Model):
    """A logged manual adjustment by an authorised officer (the only hand-typed credit number)."""

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="credit_adjustments")
    category = models.CharField(_("category"), max_length=20)
    level = models.CharField(_("sub-category / level"), max_length=20, blank=True)
    amount = models.DecimalField(_("credits"), max_digits=7, decimal_places=2)
    earned_on = models.DateField(_("counts on"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("credit adjustment")
        verbose_name_plural = _("credit adjustments")


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DegreeOffset(models.Model):
    """学历冲抵: a new degree obtained within the cycle, after probation, offsets credits (capped per cycle)."""

    class Degree(models.TextChoices):
        JUNIOR_COLLEGE = "junior_college", _("Junior college (专科)")
        BACHELOR = "bachelor", _("Bachelor (本科)")
        MASTER = "master", _("Master (硕士研究生)")
        DOCTOR = "doctor", _("Doctorate (博士研究生)")

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="degree_offsets")
    degree = models.CharField(_("degree"), max_length=16, choices=Degree.choices)
    institution_name = models.CharField(_("awarding institution"), max_length=100)
    obtained_on = models.DateField(_("date obtained"))
    certificate = models.FileField(_("certificate"), upload_to="credits/degrees/%Y/%m/")
    status = models.CharField(_("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    credits = models.DecimalField(_("credits granted"), max_digits=5, decimal_places=2, default=Decimal("0"))
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("degree offset")
        verbose_name_plural = _("degree offsets")


class FloorProgramme(models.Model):
    """托底全员培训: proposed by a county on a predicted shortfall, filed with the city, then run."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FILED = "filed", _("Filed with the city")
        RETURNED = "returned", _("Returned by the city")
        ACCEPTED = "accepted", _("Accepted (running)")
        CLOSED = "closed", _("Closed")

    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="floor_programmes")
    name = models.CharField(_("name"), max_length=100)
    school_year = models.PositiveSmallIntegerField(_("school year (starting year)"))
    reason = models.TextField(_("reason"))
    forecast = models.JSONField(_("forecast when proposed"), default=dict, blank=True)
    credits_per_teacher = models.DecimalField(_("credits per teacher"), max_digits=4, decimal_places=2)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, default=Decimal("0"))
    format = models.CharField(_("format"), max_length=8, default="online")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    feedback = models.CharField(_("feedback"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("floor training programme")
        verbose_name_plural = _("floor training programmes")

    def __str__(self) -> str:
        return self.name


class FloorParticipant(models.Model):
    programme = models.ForeignKey(FloorProgramme, on_delete=models.CASCADE, related_name="participants")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="floor_participations")
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    credits = models.DecimalField(_("credits posted"), max_digits=4, decimal_places=2, default=Decimal("0"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["programme_id", "teacher_id"]
        constraints = [models.UniqueConstraint(fields=["programme", "teacher"], name="floor_participant_unique")]
