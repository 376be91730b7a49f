"""Course selection (选课): enrollments of teachers in classes.

Seats are counted by ``seats.py`` only. Other apps rely on these names: Enrollment.{teacher, project_class, round, state,
holds_seat, created_at, decided_at}, Enrollment.State and the querysets
``Enrollment.objects.roster(project_class)`` (the confirmed class roster, 复核 done).
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
    waitlist_position = models.PositiveIntegerField(_("waitlist number"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The idempotency key of the request that created it (a retried request returns this row).
    request_key = models.CharField(max_length=64, blank=True)
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
