"""Quality monitoring (质量监测): spot checks of classes and misconduct reports on trainees.

* ``SpotCheck``: the quality monitor's record of a check of one class (date, method,
  findings, rating, follow-up). The class's institution answers; the monitor closes the
  follow-up. The province and the project's responsible bureau read them.
* ``MisconductReport``: an institution reports a trainee who did not complete the duties
  of training (notice 四(四)); it reaches the teacher's school and county bureau, which
  each acknowledge it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import ProjectClass
from peixun.orgs.models import School
from peixun.roster.models import Teacher


class Rating(models.IntegerChoices):
    """Higher is better, so an average over checks is meaningful."""

    EXCELLENT = 4, _("Excellent")
    GOOD = 3, _("Good")
    PASS = 2, _("Pass")
    FAIL = 1, _("Fail")


class SpotCheck(models.Model):
    class Method(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        ONLINE = "online", _("Online")
        DOCUMENTS = "documents", _("Document review")

    class Status(models.TextChoices):
        NO_FOLLOW_UP = "none", _("No follow-up needed")
        OPEN = "open", _("Awaiting the institution's answer")
        ANSWERED = "answered", _("Answered, awaiting closure")
        CLOSED = "closed", _("Follow-up closed")

    OPEN_STATUSES = (Status.OPEN, Status.ANSWERED)

    project_class = models.ForeignKey(
        ProjectClass, on_delete=models.PROTECT, related_name="spot_checks", verbose_name=_("class")
    )
    checked_on = models.DateField(_("date checked"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    findings = models.TextField(_("findings"))
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices)
    follow_up_required = models.BooleanField(_("follow-up required"), default=False)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    response = models.TextField(_("institution's answer"), blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_note = models.CharField(_("closing note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-checked_on", "-id"]
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        indexes = [models.Index(fields=["project_class", "checked_on"], name="spotcheck_class_date")]
        constraints = [
            models.CheckConstraint(
                name="spotcheck_follow_up_has_due_date",
                condition=models.Q(follow_up_required=False) | models.Q(follow_up_due__isnull=False),
            ),
            models.CheckConstraint(
                name="spotcheck_status_matches_follow_up",
                condition=(
                    models.Q(follow_up_required=False, status="none")
                    | models.Q(follow_up_required=True, status__in=["open", "answered", "closed"])
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_class} · {self.checked_on:%Y-%m-%d}"

    def is_overdue(self, today) -> bool:
        return self.status == self.Status.OPEN and self.follow_up_due is not None and self.follow_up_due < today


class SpotCheckAttachment(models.Model):
    class Side(models.TextChoices):
        MONITOR = "monitor", _("Quality monitor")
        INSTITUTION = "institution", _("Institution")

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="attachments")
    side = models.CharField(_("uploaded by"), max_length=12, choices=Side.choices)
    file = models.FileField(upload_to="monitoring/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class MisconductReport(models.Model):
    class Kind(models.TextChoices):
        ABSENCE = "absence", _("Absence")
        EARLY_LEAVE = "early_leave", _("Left early")
        DISCIPLINE = "discipline", _("Breach of discipline")
        OTHER = "other", _("Other")

    project_class = models.ForeignKey(
        ProjectClass, on_delete=models.PROTECT, related_name="misconduct_reports", verbose_name=_("class")
    )
    teacher = models.ForeignKey(
        Teacher, on_delete=models.PROTECT, related_name="misconduct_reports", verbose_name=_("trainee")
    )
    # The school the teacher belonged to when reported: the report goes to it and its county.
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)

    school_ack_at = models.DateTimeField(_("acknowledged by the school"), null=True, blank=True)
    school_ack_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    school_ack_note = models.CharField(_("school's note"), max_length=500, blank=True)
    county_ack_at = models.DateTimeField(_("acknowledged by the county bureau"), null=True, blank=True)
    county_ack_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    county_ack_note = models.CharField(_("county bureau's note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("misconduct report")
        verbose_name_plural = _("misconduct reports")
        indexes = [
            models.Index(fields=["school", "school_ack_at"], name="misconduct_school_ack"),
            models.Index(fields=["project_class", "teacher"], name="misconduct_class_teacher"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project_class", "teacher", "kind", "starts_on"], name="misconduct_unique_incident"
            ),
            models.CheckConstraint(
                name="misconduct_dates_ordered", condition=models.Q(ends_on__gte=models.F("starts_on"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.get_kind_display()} · {self.starts_on:%Y-%m-%d}"
