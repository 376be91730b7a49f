"""School-based training (校本研修): annual plans filed with the county, activity records with evidence."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import split_codes
from peixun.orgs.models import School
from peixun.roster.models import Teacher


class Form(models.TextChoices):
    SCHOOL_TRAINING = "school_training", _("School-based training (校本培训)")
    SCHOOL_RESEARCH = "school_research", _("School-based teaching research (校本教研)")
    WORKSHOP = "workshop", _("Teacher workshop / master-teacher studio (工作坊·名师工作室)")
    OTHER = "other", _("Other form proposed by the school")


class SchoolPlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned with feedback")

    class ReviewBody(models.TextChoices):
        BUREAU = "bureau", _("County education bureau")
        DEV_SCHOOL = "dev_school", _("County teacher-development school (进修学校)")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="schoolbased_plans")
    school_year = models.PositiveSmallIntegerField(_("school year (starting year)"))
    title = models.CharField(_("title"), max_length=100)
    forms = models.CharField(_("forms"), max_length=120, help_text=_("Stored as ,code,code,"))
    other_forms = models.CharField(_("other forms (name them)"), max_length=200, blank=True)
    hours_per_credit = models.DecimalField(_("hours per credit"), max_digits=5, decimal_places=1, default=Decimal("10"))
    activities = models.TextField(_("activities"))
    responsible = models.CharField(_("responsible people"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    feedback = models.CharField(_("feedback"), max_length=500, blank=True)
    review_body = models.CharField(_("reviewed by"), max_length=12, choices=ReviewBody.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-school_year", "school_id"]
        verbose_name = _("school-based training plan")
        verbose_name_plural = _("school-based training plans")
        constraints = [models.UniqueConstraint(fields=["school", "school_year"], name="schoolplan_one_per_year")]

    def __str__(self) -> str:
        return self.title

    @property
    def form_list(self) -> list[str]:
        return split_codes(self.forms)

    @property
    def form_labels(self) -> str:
        mapping = dict(Form.choices)
        return "、".join(str(mapping.get(c, c)) for c in self.form_list)


class ActivityRecord(models.Model):
    class Kind(models.TextChoices):
        LISTEN = "listen", _("Lessons listened (20 a school year = 1 credit)")
        OPEN_LESSON = "open_lesson", _("Open lessons given (1 county-level or 2 school-level = 1 credit)")
        LECTURE = "lecture", _("Training lectures given (1 county-level or 2 school-level = 1 credit)")
        HOURS = "hours", _("Hours of a planned form (converted by the plan)")
        WORKSHOP = "workshop", _("Workshop / studio result (that body's assessment)")

    class Level(models.TextChoices):
        COUNTY = "county", _("County level or higher")
        SCHOOL = "school", _("School level")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Recorded")
        APPROVED = "approved", _("Approved, credits posted")
        REVOKED = "revoked", _("Revoked, credits reversed")

    plan = models.ForeignKey(SchoolPlan, on_delete=models.PROTECT, related_name="records")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="schoolbased_records")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    form = models.CharField(_("form"), max_length=20, choices=Form.choices, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, blank=True)
    quantity = models.PositiveIntegerField(_("number (lessons / times)"), default=0)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, default=Decimal("0"))
    held_on = models.DateField(_("date"))
    description = models.TextField(_("process record"))
    assessing_body = models.CharField(_("assessing workshop / studio"), max_length=100, blank=True)
    assessment_passed = models.BooleanField(_("passed that body's assessment"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    credits = models.DecimalField(_("credits"), max_digits=5, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("school-based activity record")
        verbose_name_plural = _("school-based activity records")


class Evidence(models.Model):
    record = models.ForeignKey(ActivityRecord, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to="schoolbased/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
