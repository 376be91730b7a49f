"""Order-style training (订单式培训): a county's order demand, whom it is pushed to, and the
institutions' responses (each a draft order project in the catalog).

The order's later stages — formal application, review, publication — are the catalog
states of the chosen response's project; ``Order.stage`` combines both.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import Stage, Subject, TrainingField, TrainingFormat, TrainingLevel, labels, split_codes
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term

MAX_INTENDED = 3


class Order(models.Model):
    """主题式培训项目订单 (attachment 3 of the notice): one order is one class."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        POSTED = "posted", _("Posted")  # 已报送, waiting for the province to publish the list
        PUBLISHED = "published", _("Published")  # on the order list, open to responses
        SELECTED = "selected", _("Institution chosen")
        CANCELLED = "cancelled", _("Cancelled")

    # Orders that count toward the county's minimum.
    COUNTED = (Status.POSTED, Status.PUBLISHED, Status.SELECTED)
    # Orders institutions may see (once the list is published).
    OPEN_TO_INSTITUTIONS = (Status.PUBLISHED, Status.SELECTED)

    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="orders", verbose_name=_("term"))
    county = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="orders",
        limit_choices_to={"level": "county"},
        verbose_name=_("ordering county"),
    )
    code = models.CharField(_("order code"), max_length=40, unique=True)
    contact_person = models.CharField(_("contact person"), max_length=40)
    contact_phone = models.CharField(_("mobile phone"), max_length=30)

    name = models.CharField(_("project name"), max_length=100)
    theme = models.CharField(_("training theme"), max_length=100)
    target_trainees = models.CharField(_("target trainees"), max_length=200)
    target_stages = models.CharField(_("stages"), max_length=120, blank=True)
    target_subjects = models.CharField(_("subjects"), max_length=300, blank=True)
    field = models.CharField(_("training field"), max_length=20, choices=TrainingField.choices)
    trainee_count = models.PositiveIntegerField(_("number of trainees"))
    days = models.PositiveSmallIntegerField(_("training days"))
    level = models.CharField(_("training level"), max_length=12, choices=TrainingLevel.choices)
    format = models.CharField(_("training format"), max_length=8, choices=TrainingFormat.choices)
    goals = models.CharField(_("training goals"), max_length=200)
    course_requirements = models.CharField(_("course requirements"), max_length=200)
    intended_institutions = models.ManyToManyField(
        Institution,
        blank=True,
        related_name="intended_orders",
        verbose_name=_("intended institutions"),
        help_text=_("At most three; with none, every institution qualified for province-wide training may respond."),
    )

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    selected_at = models.DateTimeField(_("institution chosen"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["county__code", "code"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["term", "county", "status"]), models.Index(fields=["term", "status"])]
        constraints = [
            models.CheckConstraint(name="order_trainees_positive", condition=models.Q(trainee_count__gt=0)),
            models.CheckConstraint(name="order_days_positive", condition=models.Q(days__gt=0)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def stage(self) -> str:
        """Where the order stands, its chosen project's catalog status included (see rules.Stage)."""
        from .rules import Stage

        if not hasattr(self, "chosen_project_status"):
            chosen = self.responses.filter(status=OrderResponse.Status.SELECTED).values_list(
                "project__status", flat=True
            )
            self.chosen_project_status = chosen.first()
        if not hasattr(self, "response_count"):
            self.response_count = self.responses.filter(status__in=OrderResponse.RESPONDED).count()
        return Stage.of(self.status, self.chosen_project_status, self.response_count)

    @property
    def stage_label(self) -> str:
        from .rules import Stage

        return str(Stage.LABELS[self.stage])

    @property
    def stage_badge(self) -> str:
        from .rules import Stage

        return Stage.BADGES[self.stage]

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


class OrderRecipient(models.Model):
    """Whom an order was pushed to when the province published the order list.

    An order with intended institutions goes only to them; one without goes to every
    institution that may take orders (qualified province-wide, for a year or more).
    Institutions see exactly the orders pushed to them.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="recipients")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="order_pushes")
    intended = models.BooleanField(_("named by the county"), default=False)
    pushed_at = models.DateTimeField(_("pushed"), auto_now_add=True)

    class Meta:
        ordering = ["order_id", "institution_id"]
        verbose_name = _("order recipient")
        verbose_name_plural = _("order recipients")
        constraints = [models.UniqueConstraint(fields=["order", "institution"], name="orderrecipient_unique")]


class OrderResponse(models.Model):
    """An institution's response to an order: a draft order project it designs, then submits to the county."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        SUBMITTED = "submitted", _("Submitted to the county")
        SELECTED = "selected", _("Selected")
        NOT_SELECTED = "not_selected", _("Not selected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # A response still competing (at most one of these per institution and order).
    ACTIVE = (Status.DRAFT, Status.SUBMITTED, Status.SELECTED)
    # Responses the county has received (submitted to it, whatever it decided since).
    RESPONDED = (Status.SUBMITTED, Status.SELECTED, Status.NOT_SELECTED)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="responses", verbose_name=_("order"))
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="order_responses", verbose_name=_("institution")
    )
    project = models.OneToOneField(
        "catalog.Project", on_delete=models.PROTECT, related_name="order_response", verbose_name=_("project")
    )
    note = models.CharField(_("response note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    county_remark = models.CharField(_("county's remark"), max_length=300, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order_id", "submitted_at", "id"]
        verbose_name = _("order response")
        verbose_name_plural = _("order responses")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "institution"],
                condition=models.Q(status__in=["draft", "submitted", "selected"]),
                name="orderresponse_one_active_per_institution",
            ),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="selected"), name="orderresponse_one_selected"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} → {self.order}"

    @property
    def status_badge(self) -> str:
        return {
            self.Status.DRAFT: "secondary",
            self.Status.SUBMITTED: "primary",
            self.Status.SELECTED: "success",
            self.Status.NOT_SELECTED: "light border text-dark",
            self.Status.WITHDRAWN: "dark",
        }.get(self.status, "secondary")
