from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WindowKind(models.TextChoices):
    """Every dated window of a term (SPEC §3), in calendar order."""

    ORDER_DEMAND = "order_demand", _("Counties post order demands")
    ORDER_PUBLISH = "order_publish", _("Order list published")
    ORDER_RESPONSE = "order_response", _("Institutions respond to orders")
    ORDER_SELECT = "order_select", _("Counties choose order institutions")
    ORDER_APPLY = "order_apply", _("Chosen institutions formally apply order projects")
    PROJECT_APPLY = "project_apply", _("Project application")
    PROJECT_REVIEW = "project_review", _("Project review")
    PUBLICATION = "publication", _("Publication")
    SELECT_R1 = "select_r1", _("Selection round 1")
    PRINCIPAL_R1 = "principal_r1", _("Principal review round 1")
    EXPAND_REQUEST = "expand_request", _("Class expansion requests")
    EXPAND_ACCEPT = "expand_accept", _("Class expansion acceptance")
    CONFIRM_R1 = "confirm_r1", _("Institution confirmation round 1")
    SELECT_R2 = "select_r2", _("Selection round 2")
    PRINCIPAL_R2 = "principal_r2", _("Principal review round 2")
    CONFIRM_R2 = "confirm_r2", _("Institution confirmation round 2")
    TRAINING = "training", _("Training")


class Term(models.Model):
    class SelectionMode(models.TextChoices):
        FIRST_COME = "fcfs", _("First come, first served")
        FAIR = "fair", _("Ranked preferences with a fair allocation run")

    code = models.CharField(_("code"), max_length=20, unique=True)  # e.g. 2024H1
    name = models.CharField(_("name"), max_length=40, unique=True)  # e.g. 2024年上半年
    selection_mode = models.CharField(
        _("round 1 selection mode"), max_length=8, choices=SelectionMode.choices, default=SelectionMode.FIRST_COME
    )
    per_teacher_limit = models.PositiveSmallIntegerField(_("classes per teacher per term"), default=3)
    school_share_cap = models.PositiveSmallIntegerField(
        _("cap on one school's share of a class (%)"),
        null=True,
        blank=True,
        help_text=_("Fair mode only; empty: no cap"),
    )
    order_projects_use_quota = models.BooleanField(_("order projects count against institution quotas"), default=False)
    min_orders_per_county = models.PositiveSmallIntegerField(_("minimum orders per county"), default=3)
    schedule_lead_days = models.PositiveSmallIntegerField(
        _("days before a class its schedule must be published"), default=5
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-code"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="windows")
    kind = models.CharField(_("window"), max_length=20, choices=WindowKind.choices)
    starts_at = models.DateTimeField(_("opens"))
    ends_at = models.DateTimeField(_("closes"))
    # Set by the services while the round has an active pause / opening batches, so that selecting
    # reads those tables only when they matter (the window row is read anyway).
    paused = models.BooleanField(default=False, editable=False)
    staggered = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        constraints = [
            models.UniqueConstraint(fields=["term", "kind"], name="window_unique_kind"),
            models.CheckConstraint(name="window_ordered", condition=models.Q(ends_at__gt=models.F("starts_at"))),
        ]

    def __str__(self) -> str:
        return f"{self.term} · {self.get_kind_display()}"

    @property
    def last_minute(self):
        """For display: a window closing at 00:00 is shown as closing at 23:59 the day before."""
        local = timezone.localtime(self.ends_at)
        return self.ends_at - timedelta(minutes=1) if (local.hour, local.minute) == (0, 0) else self.ends_at


class WindowExtension(models.Model):
    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="extensions")
    old_ends_at = models.DateTimeField()
    new_ends_at = models.DateTimeField()
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class RoundPause(models.Model):
    """An officer pauses a selection round (SPEC §6) with a notice shown to teachers as a banner.

    The province pauses it for everyone, a city or county bureau for its own teachers. While a pause
    is active those teachers cannot select; resuming extends the window by the paused time.
    """

    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="pauses")
    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    notice = models.CharField(_("notice"), max_length=300)
    started_at = models.DateTimeField(_("paused at"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("round pause")
        verbose_name_plural = _("round pauses")
        constraints = [
            # One active pause per window and region (resume it before pausing again).
            models.UniqueConstraint(
                fields=["window", "region"], condition=models.Q(ended_at__isnull=True), name="round_pause_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window} · {self.region}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class OpeningBatch(models.Model):
    """Staggered opening (SPEC §6): the teachers of these cities, counties or schools may select only from
    ``opens_at``; teachers in no batch may select from the window's opening. The most specific batch wins
    (a school's over its county's over its city's)."""

    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(_("batch"), max_length=60)
    opens_at = models.DateTimeField(_("opens"))
    regions = models.ManyToManyField("orgs.Region", blank=True, related_name="+", verbose_name=_("cities / counties"))
    schools = models.ManyToManyField("orgs.School", blank=True, related_name="+", verbose_name=_("schools"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["opens_at", "id"]
        verbose_name = _("opening batch")
        verbose_name_plural = _("opening batches")

    def __str__(self) -> str:
        return f"{self.window} · {self.name}"
