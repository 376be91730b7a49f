"""Course selection (选课): enrollments of teachers in classes.

Seats are counted by ``seats.py`` only. Other apps rely on these names: Enrollment.{teacher, project_class, round, state,
holds_seat, created_at, decided_at}, Enrollment.State and the querysets
``Enrollment.objects.roster(project_class)`` (the confirmed class roster, 复核 done).

Every state change goes through ``peixun.enrollment.services`` and leaves an ``EnrollmentEvent``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import ProjectClass
from peixun.roster.models import Teacher


class EnrollmentQuerySet(models.QuerySet):
    def holding_seats(self):
        return self.filter(state__in=Enrollment.SEAT_HOLDING)

    def active(self):
        return self.filter(state__in=Enrollment.ACTIVE)

    def roster(self, project_class=None):
        """Confirmed enrollments: the class roster institutions register results for."""
        qs = self.filter(state=Enrollment.State.CONFIRMED)
        return qs.filter(project_class=project_class) if project_class is not None else qs


class Enrollment(models.Model):
    class State(models.TextChoices):
        WAITLISTED = "waitlisted", _("Waitlisted")
        SELECTED = "selected", _("Awaiting principal review")
        APPROVED = "approved", _("Approved by the school")
        REJECTED = "rejected", _("Rejected by the school")
        CONFIRMED = "confirmed", _("Confirmed by the institution")
        DECLINED = "declined", _("Declined by the institution")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancelled")

    # States that occupy one of the class's seats (ProjectClass.seats_taken counts exactly these).
    SEAT_HOLDING = (State.SELECTED, State.APPROVED, State.CONFIRMED)
    # States in which the teacher is still in (or queued for) the class: one per teacher and class.
    ACTIVE = (State.WAITLISTED, State.SELECTED, State.APPROVED, State.CONFIRMED)

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="enrollments")
    project_class = models.ForeignKey(ProjectClass, on_delete=models.PROTECT, related_name="enrollments")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SELECTED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The idempotency key of the request that created it (a retried request returns this row).
    request_key = models.CharField(max_length=64, blank=True)
    # Set when a major change to the project was approved after the teacher enrolled: they may then
    # withdraw without penalty at any time, even after the class has started.
    free_withdrawal = models.BooleanField(_("may withdraw after a major change"), default=False)
    created_at = models.DateTimeField(_("selected at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "project_class"],
                condition=models.Q(state__in=["waitlisted", "selected", "approved", "confirmed"]),
                name="enrollment_one_active_per_class",
            ),
            # A retried request (same key) finds the enrollment it created.
            models.UniqueConstraint(
                fields=["teacher", "request_key"],
                condition=~models.Q(request_key=""),
                name="enrollment_unique_request_key",
            ),
        ]
        indexes = [
            models.Index(fields=["project_class", "state"], name="enrollment_class_state"),
            models.Index(fields=["teacher", "state"], name="enrollment_teacher_state"),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} → {self.project_class}"

    @property
    def holds_seat(self) -> bool:
        return self.state in self.SEAT_HOLDING


# --- fair allocation mode (ranked preferences and allocation runs) ------------------------------


class PreferenceList(models.Model):
    """A teacher's ranked preferences for round 1 of a fair-mode term."""

    term = models.ForeignKey("terms.Term", on_delete=models.CASCADE, related_name="preference_lists")
    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="preference_lists")
    wanted = models.PositiveSmallIntegerField(_("classes wanted"), default=1)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("preference list")
        verbose_name_plural = _("preference lists")
        constraints = [models.UniqueConstraint(fields=["term", "teacher"], name="preference_list_one_per_term")]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.term}"


class Preference(models.Model):
    preference_list = models.ForeignKey(PreferenceList, on_delete=models.CASCADE, related_name="preferences")
    project_class = models.ForeignKey(ProjectClass, on_delete=models.CASCADE, related_name="preferences")
    rank = models.PositiveSmallIntegerField(_("rank"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["preference_list", "rank", "id"]
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        constraints = [
            models.UniqueConstraint(fields=["preference_list", "project_class"], name="preference_once_per_class"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.project_class}"


class AllocationRun(models.Model):
    """One allocation of a fair-mode term's round-1 seats, reproducible from its seed and inputs."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Seats allocated")
        FAILED = "failed", _("Failed")

    term = models.ForeignKey("terms.Term", on_delete=models.PROTECT, related_name="allocation_runs")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    seed = models.BigIntegerField(_("random seed"))
    score = models.CharField(_("priority score"), max_length=200)
    school_share_cap = models.PositiveSmallIntegerField(_("school share cap (%)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    message = models.CharField(_("message"), max_length=500, blank=True)
    inputs = models.JSONField(default=dict, blank=True)  # the recorded inputs (allocation.inputs_to_json)
    inputs_digest = models.CharField(max_length=64, blank=True)
    results_digest = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("allocation run")
        verbose_name_plural = _("allocation runs")
        constraints = [
            # At most one run per term and round that is queued, running or done.
            models.UniqueConstraint(
                fields=["term", "round"],
                condition=models.Q(status__in=["queued", "running", "done"]),
                name="allocation_run_one_live_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} · #{self.pk}"


class AllocationResult(models.Model):
    """The outcome of one preference in a run, with the facts behind its reason."""

    class Outcome(models.TextChoices):
        ALLOCATED = "allocated", _("Seat allocated")
        FULL = "full", _("Class full")
        SCHOOL_CAP = "school_cap", _("School share cap reached")
        OVERLAP = "overlap", _("Dates overlap")
        NOT_NEEDED = "not_needed", _("Not needed")
        UNAVAILABLE = "unavailable", _("No longer available")

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="results")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="allocation_results")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    project_class = models.ForeignKey(ProjectClass, on_delete=models.PROTECT, related_name="allocation_results")
    rank = models.PositiveSmallIntegerField(_("rank"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    score = models.DecimalField(_("priority score"), max_digits=9, decimal_places=2)
    lottery = models.PositiveIntegerField(_("lottery number"))
    draft_round = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    cutoff_score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    cutoff_lottery = models.PositiveIntegerField(null=True, blank=True)
    school_count = models.PositiveIntegerField(null=True, blank=True)
    school_limit = models.PositiveIntegerField(null=True, blank=True)
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["run", "position", "rank"]
        verbose_name = _("allocation result")
        verbose_name_plural = _("allocation results")
        constraints = [models.UniqueConstraint(fields=["run", "teacher", "rank"], name="allocation_result_unique")]
        indexes = [models.Index(fields=["run", "project_class"], name="allocation_result_class")]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.rank} · {self.outcome}"

    @property
    def reason(self) -> str:
        """The outcome's reason in words (``selectors_allocation.reason_text``)."""
        from .selectors_allocation import reason_text

        return reason_text(self)


# --- course selection: timeline and 扩班 -------------------------------------------------------


class EnrollmentEvent(models.Model):
    """One step in an enrollment's life (selected, approved, withdrawn, …): its timeline."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, choices=Enrollment.State.choices)
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("enrollment event")
        verbose_name_plural = _("enrollment events")


class ClassExpansion(models.Model):
    """扩班: an institution asks for more seats on a class; the responsible bureau decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the bureau")
        ACCEPTED = "accepted", _("Accepted")
        PARTLY = "partly", _("Partly accepted")
        DECLINED = "declined", _("Declined")

    project_class = models.ForeignKey(ProjectClass, on_delete=models.CASCADE, related_name="expansions")
    seats_requested = models.PositiveIntegerField(_("seats requested"))
    seats_accepted = models.PositiveIntegerField(_("seats accepted"), default=0)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    capacity_before = models.PositiveIntegerField(default=0)
    promoted = models.PositiveIntegerField(_("promoted from the waitlist"), default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("class expansion")
        verbose_name_plural = _("class expansions")
        constraints = [
            models.UniqueConstraint(
                fields=["project_class"], condition=models.Q(status="pending"), name="expansion_one_pending_per_class"
            ),
            models.CheckConstraint(name="expansion_positive", condition=models.Q(seats_requested__gt=0)),
            models.CheckConstraint(
                name="expansion_accepted_within_request",
                condition=models.Q(seats_accepted__lte=models.F("seats_requested")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_class} +{self.seats_requested}"
