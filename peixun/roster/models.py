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
    # Unique through Meta.constraints (a plain unique index: no extra varchar_pattern_ops index
    # to maintain on every import, nothing searches IDs by prefix).
    national_id = models.CharField(_("national ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=40)  # searched with icontains: a btree would not help
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
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="teachers",
        verbose_name=_("school"),
        db_index=False,  # the (school, status) index serves school lookups
    )
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
        constraints = [models.UniqueConstraint(fields=["national_id"], name="roster_teacher_national_id_uniq")]

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
    """An uploaded national-system export: validated and previewed first, applied on confirmation.

    Validation parses the file once into ``RosterImportRow`` (staging) and ``RosterImportError``;
    the preview and the apply are set-based SQL over the staging rows. Staging rows are deleted
    once the import is applied or cancelled; the file, its hash and the counts stay.
    """

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Validating")
        PREVIEW = "preview", _("Ready to review")
        INVALID = "invalid", _("Has errors")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    # The role grant the upload was made in: background steps act in it.
    grant = models.ForeignKey("accounts.RoleGrant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # The scope the import may touch: a school, or a region (county / city / province).
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    file = models.FileField(upload_to="imports/roster/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    file_size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.VALIDATING)
    mark_leavers = models.BooleanField(_("mark teachers not in the file as left"), default=False)
    total_rows = models.PositiveIntegerField(_("data rows"), default=0)
    staged_rows = models.PositiveIntegerField(default=0)  # valid rows in RosterImportRow
    columns = models.JSONField(default=list, blank=True)  # Teacher fields the file carries (only these are updated)
    counts = models.JSONField(
        default=dict, blank=True
    )  # new / changed / unchanged / missing / errors (+ applied figures)
    notices = models.JSONField(default=list, blank=True)  # e.g. ignored columns
    samples = models.JSONField(default=dict, blank=True)  # a few rows of each kind for the preview
    message = models.CharField(max_length=500, blank=True)  # why it failed, if it did
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    apply_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")

    def __str__(self) -> str:
        return self.original_name

    @property
    def scope_object(self):
        return self.school or self.region

    @property
    def error_count(self) -> int:
        return int(self.counts.get("errors", 0))

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.VALIDATING, self.Status.APPLYING)


class RosterImportRow(models.Model):
    """A valid row of an import, parsed and normalised (staging for the preview and the apply).

    No database foreign keys: the rows are bulk-loaded (COPY on PostgreSQL) and deleted in
    one statement, and a school that disappears between preview and apply is caught by the
    re-validation instead of a cascade.
    """

    roster_import = models.ForeignKey(
        RosterImport, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    line = models.PositiveIntegerField()
    national_id = models.CharField(max_length=18)
    name = models.CharField(max_length=40)
    former_name = models.CharField(max_length=40, blank=True)
    gender = models.CharField(max_length=1)
    birth_date = models.DateField()
    ethnicity = models.CharField(max_length=20, blank=True)
    political_status = models.CharField(max_length=20, blank=True)
    work_start = models.DateField(null=True, blank=True)
    school_join = models.DateField(null=True, blank=True)
    staff_source = models.CharField(max_length=40, blank=True)
    staff_category = models.CharField(max_length=40, blank=True)
    on_establishment = models.BooleanField(default=True)
    employment_form = models.CharField(max_length=40, blank=True)
    contract = models.CharField(max_length=40, blank=True)
    education = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=20)
    stage = models.CharField(max_length=12)
    subject = models.CharField(max_length=20)
    school_id = models.BigIntegerField()
    school_code = models.CharField(max_length=20)

    class Meta:
        # By import only: rows are appended in file order, so this index grows at its right edge
        # (an (import, national_id) index took random inserts and slowed the COPY); the joins on
        # national_id are hash joins over one import's rows.
        indexes = [models.Index(fields=["roster_import"], name="roster_importrow_import")]


class RosterImportError(models.Model):
    """One problem found in an import, with the file's line number and column."""

    roster_import = models.ForeignKey(
        RosterImport, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=40, blank=True)
    message = models.CharField(_("problem"), max_length=300)

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["roster_import", "line"], name="roster_importerror_line")]
