"""Training projects (培训项目), their classes (班期), leaders, lecturers and changes.

Other apps rely on these names: Project.{term, institution, status, level, format,
credit_category, credit_level, credits, credits_online, hours_offline, hours_online,
target_stages, target_subjects, target_regions, rural_only, is_order_project, region},
ProjectClass.{project, starts_on, ends_on, capacity, seats_taken, waitlist_enabled}.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import (
    CreditCategory,
    Stage,
    Subject,
    SubjectCategory,
    Title,
    TrainingField,
    TrainingFormat,
    TrainingLevel,
    labels,
    split_codes,
)
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term


class Quota(models.Model):
    """How many projects an institution may apply in a term (B证 projects do not count)."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="quotas")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="quotas")
    limit = models.PositiveSmallIntegerField(_("project quota"))

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [models.UniqueConstraint(fields=["term", "institution"], name="quota_unique")]


class RegionCap(models.Model):
    """A region's own cap on local projects it publishes in a term."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="region_caps")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="project_caps")
    limit = models.PositiveSmallIntegerField(_("local project cap"))

    class Meta:
        verbose_name = _("regional project cap")
        verbose_name_plural = _("regional project caps")
        constraints = [models.UniqueConstraint(fields=["term", "region"], name="regioncap_unique")]


class StaffMember(models.Model):
    """People of an institution who can lead projects (项目负责人)."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(_("name"), max_length=40)
    national_id = models.CharField(_("ID number"), max_length=18)
    title = models.CharField(_("title"), max_length=20, choices=Title.choices)
    specialty = models.CharField(_("specialty (subject categories)"), max_length=200)
    is_formal_employee = models.BooleanField(_("formal employee"), default=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("institution staff member")
        verbose_name_plural = _("institution staff")
        constraints = [models.UniqueConstraint(fields=["institution", "national_id"], name="staff_unique_person")]

    def __str__(self) -> str:
        return self.name

    @property
    def specialty_list(self) -> list[str]:
        return split_codes(self.specialty)

    @property
    def specialty_labels(self) -> str:
        return labels(SubjectCategory, self.specialty)


class Lecturer(models.Model):
    """The expert database (培训专家库): lecturers entered with projects."""

    name = models.CharField(_("name"), max_length=40)
    organisation = models.CharField(_("organisation"), max_length=100)
    title = models.CharField(_("title"), max_length=40)
    expertise = models.CharField(_("expertise"), max_length=200)
    phone = models.CharField(_("contact phone"), max_length=30)
    email = models.EmailField(_("e-mail"), blank=True)
    created_by_institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="lecturers_entered"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lecturer")
        verbose_name_plural = _("lecturers")
        constraints = [models.UniqueConstraint(fields=["name", "organisation", "phone"], name="lecturer_unique_person")]

    def __str__(self) -> str:
        return f"{self.name}（{self.organisation}）"


class Project(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DELETED = "deleted", _("Deleted")

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="projects")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="projects")
    code = models.CharField(_("project code"), max_length=30, unique=True)
    name = models.CharField(_("project name"), max_length=100)
    theme = models.CharField(_("theme"), max_length=100)

    # Target trainees. Empty stage/subject sets and no regions mean "everyone".
    target_stages = models.CharField(_("target stages"), max_length=120, blank=True)
    target_subjects = models.CharField(_("target subjects"), max_length=300, blank=True)
    target_regions = models.ManyToManyField(
        Region, blank=True, related_name="targeted_projects", verbose_name=_("target regions")
    )
    rural_only = models.BooleanField(_("rural / mountain-island teachers only"), default=False)
    other_conditions = models.CharField(_("other conditions"), max_length=200, blank=True)

    field = models.CharField(_("training field"), max_length=20, choices=TrainingField.choices)
    subject_category = models.CharField(_("subject category"), max_length=20, choices=SubjectCategory.choices)
    level = models.CharField(_("training level"), max_length=12, choices=TrainingLevel.choices)
    # The bureau region responsible for review and publication (province / city / county).
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="responsible_projects", verbose_name=_("responsible bureau")
    )
    credit_category = models.CharField(_("credit category"), max_length=20, choices=CreditCategory.choices)
    credit_level = models.CharField(
        _("credit level"), max_length=20, blank=True, help_text=_("Sub-category or level used by the credit policy")
    )
    format = models.CharField(_("format"), max_length=8, choices=TrainingFormat.choices)
    days = models.PositiveSmallIntegerField(_("days"))
    hours_offline = models.DecimalField(_("offline hours"), max_digits=6, decimal_places=1, default=Decimal("0"))
    hours_online = models.DecimalField(_("online hours"), max_digits=6, decimal_places=1, default=Decimal("0"))
    credits = models.DecimalField(_("credits"), max_digits=6, decimal_places=2, default=Decimal("0"))
    credits_online = models.DecimalField(
        _("of which online credits"), max_digits=6, decimal_places=2, default=Decimal("0")
    )
    goals = models.CharField(_("goals"), max_length=200)
    content = models.TextField(_("course content"))

    fee_total = models.DecimalField(_("total fee (yuan)"), max_digits=9, decimal_places=2, default=Decimal("0"))
    fee_training = models.DecimalField(_("training fee"), max_digits=9, decimal_places=2, default=Decimal("0"))
    fee_accommodation = models.DecimalField(
        _("accommodation fee"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    fee_meals = models.DecimalField(_("meals fee"), max_digits=9, decimal_places=2, default=Decimal("0"))

    leader = models.ForeignKey(
        StaffMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_projects",
        verbose_name=_("project leader"),
    )
    lecturers = models.ManyToManyField(Lecturer, blank=True, related_name="projects", through="ProjectLecturer")

    is_b_certificate = models.BooleanField(_("B-certificate project (outside the quota)"), default=False)
    is_order_project = models.BooleanField(_("order project"), default=False)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    delete_reason = models.CharField(_("reason for deletion"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training project")
        verbose_name_plural = _("training projects")
        indexes = [models.Index(fields=["term", "status"]), models.Index(fields=["institution", "term"])]
        constraints = [
            models.CheckConstraint(
                name="project_fees_add_up",
                condition=models.Q(
                    fee_total=models.F("fee_training") + models.F("fee_accommodation") + models.F("fee_meals")
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def stage_list(self) -> list[str]:
        return split_codes(self.target_stages)

    @property
    def subject_list(self) -> list[str]:
        return split_codes(self.target_subjects)

    @property
    def stage_labels(self) -> str:
        return labels(Stage, self.target_stages)

    @property
    def subject_labels(self) -> str:
        return labels(Subject, self.target_subjects)

    @property
    def is_visible_in_catalog(self) -> bool:
        return self.status in (self.Status.PUBLISHED, self.Status.RUNNING)


class ProjectLecturer(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    lecturer = models.ForeignKey(Lecturer, on_delete=models.PROTECT)
    topic = models.CharField(_("topic"), max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "lecturer"], name="projectlecturer_unique")]


class ProjectClass(models.Model):
    """A class (班期) of a project: the unit teachers select and seats are counted on."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classes")
    number = models.PositiveSmallIntegerField(_("class number"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"))
    # Seat-holding enrollments; changed only by the enrollment service's conditional UPDATE.
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0)
    waitlist_enabled = models.BooleanField(_("keeps a waitlist"), default=True)
    schedule = models.TextField(_("detailed schedule"), blank=True)
    schedule_published_at = models.DateTimeField(_("schedule published"), null=True, blank=True)
    # Recorded when the schedule is first published: was it later than Term.schedule_lead_days before the start?
    schedule_published_late = models.BooleanField(_("schedule published late"), default=False)

    class Meta:
        ordering = ["project_id", "number"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="class_unique_number"),
            models.CheckConstraint(
                name="class_seats_within_capacity", condition=models.Q(seats_taken__lte=models.F("capacity"))
            ),
            models.CheckConstraint(name="class_dates_ordered", condition=models.Q(ends_on__gte=models.F("starts_on"))),
        ]

    def __str__(self) -> str:
        return f"{self.project.name} 第{self.number}期"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def schedule_deadline(self) -> date:
        """The last day the detailed schedule may be published (Term.schedule_lead_days before the start)."""
        return self.starts_on - timedelta(days=self.project.term.schedule_lead_days)

    def schedule_days_left(self, today: date | None = None) -> int:
        return (self.schedule_deadline - (today or timezone.localdate())).days

    def schedule_is_late(self, today: date | None = None) -> bool:
        if self.schedule_published_at is not None:
            return timezone.localdate(self.schedule_published_at) > self.schedule_deadline
        return (today or timezone.localdate()) > self.schedule_deadline


class LecturerCheck(models.Model):
    """A reviewer's random check that a lecturer really agreed to teach (专家抽查)."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Not yet verified")
        CONFIRMED = "confirmed", _("Confirmed")
        NOT_CONFIRMED = "not_confirmed", _("Not confirmed")
        UNREACHABLE = "unreachable", _("Unreachable")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lecturer_checks")
    lecturer = models.ForeignKey(Lecturer, on_delete=models.PROTECT, related_name="checks")
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, default=Result.PENDING)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["drawn_at", "id"]
        verbose_name = _("lecturer check")
        verbose_name_plural = _("lecturer checks")
        constraints = [models.UniqueConstraint(fields=["project", "lecturer"], name="lecturercheck_unique")]


class ChangeRequest(models.Model):
    """A change to a published project (format, dates, place, lecturers), approved by the bureau."""

    class Kind(models.TextChoices):
        FORMAT = "format", _("Format (e.g. face to face → online)")
        DATES = "dates", _("Dates")
        PLACE = "place", _("Place")
        LECTURERS = "lecturers", _("Lecturers")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="change_requests")
    project_class = models.ForeignKey(
        ProjectClass,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
        verbose_name=_("class"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"))
    proposed = models.JSONField(_("proposed values"), default=dict)
    previous = models.JSONField(default=dict, blank=True)
    is_major = models.BooleanField(_("major change (trainees may withdraw)"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")

    @property
    def summary(self) -> str:
        """What changes, in words (for lists, notifications and the change log)."""
        new, old = self.proposed or {}, self.previous or {}
        if self.kind == self.Kind.FORMAT:
            fmt = dict(TrainingFormat.choices)
            return gettext("%(old)s → %(new)s (offline %(offline)s, online %(online)s hours)") % {
                "old": fmt.get(old.get("format"), old.get("format", "")),
                "new": fmt.get(new.get("format"), new.get("format", "")),
                "offline": new.get("hours_offline", ""),
                "online": new.get("hours_online", ""),
            }
        if self.kind == self.Kind.DATES:
            return f"{old.get('starts_on')}–{old.get('ends_on')} → {new.get('starts_on')}–{new.get('ends_on')}"
        if self.kind == self.Kind.PLACE:
            return f"{old.get('place')} → {new.get('place')}"
        if self.kind == self.Kind.LECTURERS:
            added = [f"+{a.get('name')}（{a.get('organisation')}）" for a in new.get("add") or []]
            removed = [f"−{name}" for name in new.get("remove_names") or []]
            return " ".join(added + removed)
        return new.get("description", "")


class ProjectEvent(models.Model):
    """The project's readable timeline (the audit log is the auditors'); also the province's change log."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Edited")
        SUBMITTED = "submitted", _("Submitted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        RETURNED = "returned", _("Returned")
        APPROVED = "approved", _("Approved")
        PUBLISHED = "published", _("Published")
        STARTED = "started", _("Training started")
        FINISHED = "finished", _("Finished")
        SCHEDULE = "schedule", _("Schedule published")
        CHANGE_REQUESTED = "change_requested", _("Change requested")
        CHANGE_APPROVED = "change_approved", _("Change approved")
        CHANGE_REJECTED = "change_rejected", _("Change rejected")
        CREDITS_CORRECTED = "credits_corrected", _("Credit attributes corrected")
        DELETED = "deleted", _("Deleted")

    # Events after publication: what the province's per-institution change log lists.
    CHANGE_LOG_KINDS = (
        Kind.CHANGE_REQUESTED,
        Kind.CHANGE_APPROVED,
        Kind.CHANGE_REJECTED,
        Kind.CREDITS_CORRECTED,
        Kind.DELETED,
    )

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices, db_index=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(_("role"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("project event")
        verbose_name_plural = _("project events")
