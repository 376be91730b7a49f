from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import Stage, Subject, Title
from peixun.orgs.models import Region, School


class Teacher(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In post")
        LEFT = "left", _("Left the school")
        RETIRED = "retired", _("Retired")

    class Post(models.TextChoices):
        TEACHER = "teacher", _("Teacher")
        HEAD_TEACHER = "head_teacher", _("Class head teacher")
        MIDDLE_MANAGER = "middle_manager", _("Middle manager")
        PRINCIPAL = "principal", _("Principal")
        NEW_PRINCIPAL = "new_principal", _("Newly appointed principal")
        OTHER = "other", _("Other post")

    # Fields from the national teacher information system (imported).
    national_id = models.CharField(_("national ID number"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=40, db_index=True)
    former_name = models.CharField(_("former name"), max_length=40, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    political_status = models.CharField(_("political status"), max_length=20, blank=True)
    work_start = models.DateField(_("started work"), null=True, blank=True)
    school_join = models.DateField(_("joined this school"), null=True, blank=True)
    staff_source = models.CharField(_("staff source"), max_length=40, blank=True)
    staff_category = models.CharField(_("staff category"), max_length=40, blank=True)
    on_establishment = models.BooleanField(_("on the establishment"), default=True)
    employment_form = models.CharField(_("employment form"), max_length=40, blank=True)
    contract = models.CharField(_("contract"), max_length=40, blank=True)
    education = models.CharField(_("education"), max_length=40, blank=True)
    title = models.CharField(_("professional title"), max_length=20, choices=Title.choices, default=Title.NONE)
    stage = models.CharField(_("stage taught"), max_length=12, choices=Stage.choices)
    subject = models.CharField(_("subject taught"), max_length=20, choices=Subject.choices)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="teachers", verbose_name=_("school"))
    status = models.CharField(_("employment status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    # Fields the national system lacks, maintained by the school.
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    post = models.CharField(_("post"), max_length=20, choices=Post.choices, default=Post.TEACHER)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    probation_end = models.DateField(_("end of probation"), null=True, blank=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="teacher"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_id", "name", "id"]
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")
        indexes = [models.Index(fields=["school", "status"]), models.Index(fields=["stage", "subject"])]

    def __str__(self) -> str:
        return self.name

    # Columns that come from the national system; the import compares and updates only these.
    IMPORTED_FIELDS = (
        "name",
        "former_name",
        "gender",
        "birth_date",
        "ethnicity",
        "political_status",
        "work_start",
        "school_join",
        "staff_source",
        "staff_category",
        "on_establishment",
        "employment_form",
        "contract",
        "education",
        "title",
        "stage",
        "subject",
        "school_id",
    )
    LOCAL_FIELDS = ("phone", "post", "hire_date", "probation_end", "remarks")


class Exemption(models.Model):
    """The credit requirement is not applied for these dates (the teacher still sees credits)."""

    class Kind(models.TextChoices):
        ADMIN_DEPARTMENT = "admin_dept", _("Staff of an education administration department")
        SECONDED = "seconded", _("Seconded to an education department")
        OTHER = "other", _("Other approved reason")

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="exemptions")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        constraints = [
            models.CheckConstraint(
                name="exemption_dates_ordered",
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
            )
        ]


class RosterImport(models.Model):
    """An uploaded national-system export: validated and previewed first, applied on confirmation."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Validating")
        PREVIEW = "preview", _("Ready to review")
        INVALID = "invalid", _("Has errors")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The scope the import may touch: a school, or a region (county / city / province).
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="imports/roster/%Y/%m/")
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.VALIDATING)
    mark_leavers = models.BooleanField(_("mark teachers not in the file as left"), default=False)
    total_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # new / changed / unchanged / missing / errors
    errors = models.JSONField(default=list, blank=True)  # [{line, column, message}], capped
    notices = models.JSONField(default=list, blank=True)  # e.g. ignored columns
    samples = models.JSONField(default=dict, blank=True)  # a few rows of each kind for the preview
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
