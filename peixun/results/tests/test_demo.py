"""The demo seeds results in every state from the rosters it finds, and nothing without rosters."""

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from peixun.core.demodata import DemoContext
from peixun.core.roles import Role
from peixun.credits.models import LedgerEntry
from peixun.results import demo
from peixun.results.models import ResultSheet
from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory, TeacherFactory, make_actor

pytestmark = pytest.mark.django_db


def ctx(**data):
    return DemoContext(rng=random.Random(7), today=timezone.localdate(), data=data)


def test_without_rosters_nothing_is_seeded(project_class):
    demo.seed(ctx())
    assert not ResultSheet.objects.exists()


def test_results_in_every_state_and_credits_for_the_demo_teacher(institution, province, school):
    make_actor(Role.INSTITUTION, institution=institution)  # no reviewer yet: the demo creates one
    project = ProjectFactory(institution=institution, region=province)
    demo_teacher = TeacherFactory(school=school)
    for n in range(10):
        klass = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
        for _ in range(4):
            EnrollmentFactory(project_class=klass)
        if n == 4:  # the pattern would leave this one a draft; the demo teacher's classes are approved
            EnrollmentFactory(project_class=klass, teacher=demo_teacher)
    today = timezone.localdate()
    running = ProjectClassFactory(
        project=project, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=2)
    )
    EnrollmentFactory(project_class=running)
    demo.seed(ctx(demo_teacher=demo_teacher))
    sheets = ResultSheet.objects.all()
    assert sheets.count() == 11
    statuses = set(sheets.values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "approved"}
    assert sheets.filter(status="draft").exclude(return_reason="").exists()  # returned for correction
    assert sheets.filter(status="submitted").exclude(cancel_reason="").exists()  # approval cancelled
    assert sheets.get(project_class=running).status == "draft"
    assert LedgerEntry.objects.filter(reverses__isnull=False).exists()
    assert LedgerEntry.objects.filter(teacher=demo_teacher, reversed_by__isnull=True, reverses__isnull=True).exists()


def test_finished_classes_without_rosters_get_one_with_seats_taken(institution, province, school):
    make_actor(Role.INSTITUTION, institution=institution)
    project = ProjectFactory(institution=institution, region=province)
    classes = [
        ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10), capacity=6)
        for _ in range(3)
    ]
    teachers = TeacherFactory.create_batch(30, school=school)
    demo.seed(ctx(demo_teacher=teachers[0]))
    for klass in classes:
        klass.refresh_from_db()
        roster = klass.enrollments.filter(state="confirmed")
        assert 0 < roster.count() == klass.seats_taken <= klass.capacity
    # One class per teacher, except the demo teacher's two.
    from peixun.enrollment.models import Enrollment

    per_teacher = {t.pk: Enrollment.objects.filter(teacher=t).count() for t in teachers}
    assert per_teacher[teachers[0].pk] == 2 and max(v for k, v in per_teacher.items() if k != teachers[0].pk) == 1
    assert ResultSheet.objects.count() == 3
