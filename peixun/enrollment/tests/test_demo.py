"""The demo step builds enrollments in every state through the services and keeps the seat invariant."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.demodata import DemoContext
from peixun.core.roles import Role
from peixun.enrollment import demo_selection as demo
from peixun.enrollment import selectors
from peixun.enrollment.models import Enrollment
from tests.factories import ProjectClassFactory, ProjectFactory, TermFactory, make_actor

from .conftest import make_class, new_teacher_actor

pytestmark = pytest.mark.django_db
S = Enrollment.State


def test_demo_enrollments_in_every_state(term, institution, school, principal):
    today = timezone.localdate()
    past = TermFactory(windows=2023)
    for status in ("finished", "deleted"):
        project = ProjectFactory(term=past, institution=institution, status=status)
        ProjectClassFactory(project=project, starts_on=today - timedelta(days=200), ends_on=today - timedelta(days=197))
    running = ProjectFactory(term=term, institution=institution, status="running")
    ProjectClassFactory(project=running, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=2))
    make_class(term, institution, capacity=6, days_ahead=20)
    for days in (40, 60, 80):
        make_class(term, institution, capacity=30, days_ahead=days)
    actors = [new_teacher_actor(school) for _ in range(30)]
    demo_teacher = actors[1]
    make_actor(Role.INSTITUTION, institution=institution)
    make_actor(Role.PROVINCE, region=term.projects.first().region)
    from peixun.roster.models import Teacher

    ctx = DemoContext(
        rng=random.Random(3),
        today=today,
        data={
            "term": term,
            "past_term": past,
            "schools": [school],
            "demo_teacher": Teacher.objects.get(pk=demo_teacher.teacher_id),
        },
    )
    demo.seed(ctx)

    states = set(Enrollment.objects.values_list("state", flat=True))
    assert {S.CONFIRMED, S.CANCELLED, S.SELECTED, S.APPROVED, S.WAITLISTED, S.WITHDRAWN} <= states
    assert selectors.seat_mismatches() == []
    assert Enrollment.objects.roster().filter(project_class__project=running).exists()  # started classes have rosters
    mine = Enrollment.objects.filter(teacher_id=demo_teacher.teacher_id, project_class__project__term=term)
    assert {S.WAITLISTED, S.APPROVED, S.WITHDRAWN} <= set(mine.values_list("state", flat=True))
    assert mine.active().count() < term.per_teacher_limit  # demo_teacher can still select now
    assert Enrollment.objects.filter(teacher__school=school, state=S.SELECTED).exists()  # the school has work
