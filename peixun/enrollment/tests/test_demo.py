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


@pytest.mark.django_db(transaction=True)
def test_seed_demo_phase_terms_make_every_later_step_live():
    """Right after seed_demo each step's window is open in its demo term, with the data to act on."""
    from django.core.management import call_command

    from peixun.accounts.models import RoleGrant
    from peixun.core.errors import DomainError
    from peixun.core.scopes import Actor
    from peixun.enrollment import services
    from peixun.enrollment.demo_phases import PHASES
    from peixun.enrollment.models import ClassExpansion
    from peixun.terms.models import Term
    from peixun.terms.windows import current_term, is_open

    call_command("seed_demo", "--teachers", "300", verbosity=0)

    def actor(username, role=None):
        grants = RoleGrant.objects.select_related("user", "region", "school", "institution")
        return Actor.from_grant(grants.get(user__username=username, **({"role": role} if role else {})))

    terms = {p.key: Term.objects.get(name__endswith=f"·{p.label}") for p in PHASES}
    for phase in PHASES:
        for kind in phase.open_kinds:
            assert is_open(terms[phase.key], kind), (phase.label, kind)
    assert current_term().name.endswith("半年")  # the demo terms never become "the current term"
    assert selectors.seat_mismatches() == []

    teacher = actor("demo_teacher")
    school = actor("demo_school")
    # 校长审核: the demo school has selections to review in the open review window.
    pending = selectors.review_list(actor=school, term=terms["review"])
    assert pending.count() >= 3
    services.enrollment_review(actor=school, enrollment=pending.first(), decision="approve")
    # 扩班申请与审批: demo_institution asks for seats on a full class with a waitlist, and the responsible
    # bureau decides it at once: demo_county the county class, whose waitlist demo_teacher heads.
    inst, county = actor("demo_institution"), actor("demo_county")
    full = selectors.class_list(actor=inst, term=terms["expand"]).filter(n_waitlisted__gt=0)
    assert full.count() == 2 and all(c.seats_taken == c.capacity for c in full)
    local = full.get(project__region=county.region)
    requested = services.expansion_request(actor=inst, project_class=local, seats=2, reason="候补教师多")
    decided = services.expansion_decide(actor=county, expansion=requested, seats_accepted=2)
    assert decided.promoted == 2
    assert Enrollment.objects.get(teacher_id=teacher.teacher_id, project_class=local).state == S.SELECTED
    provincial = full.exclude(pk=local.pk).get()
    requested = services.expansion_request(actor=inst, project_class=provincial, seats=1, reason="候补教师多")
    assert services.expansion_decide(actor=actor("demo_province"), expansion=requested, seats_accepted=1).promoted == 1
    # 扩班审批: each bureau level has a request; the county's promotes demo_teacher, who is told.
    waiting = ClassExpansion.objects.filter(project_class__project__term=terms["accept"], status="pending")
    assert {x.project_class.project.region.level for x in waiting} == {"province", "city", "county"}
    county_request = waiting.get(project_class__project__region=actor("demo_county").region)
    told = teacher.user.notifications.count()
    decided = services.expansion_decide(actor=actor("demo_county"), expansion=county_request, seats_accepted=3)
    mine = Enrollment.objects.get(teacher_id=teacher.teacher_id, project_class=county_request.project_class)
    assert decided.promoted == 3 and mine.state == S.SELECTED
    latest = teacher.user.notifications.order_by("-pk").first()
    assert teacher.user.notifications.count() == told + 1
    assert county_request.project_class.project.name in latest.title
    # 复核: approved trainees (demo_teacher among them) wait for the institution.
    approved = Enrollment.objects.filter(project_class__project__term=terms["confirm"], state=S.APPROVED)
    assert approved.filter(teacher_id=teacher.teacher_id).exists() and approved.count() >= 10
    services.enrollments_confirm(actor=inst, enrollments=list(approved[:3]), decision="approve")
    # 第二轮: demo_teacher (selected in round 1) may select; demo_principal as a teacher may not.
    second = (
        selectors.selectable_classes(actor=teacher, teacher=_teacher(teacher), term=terms["round2"])
        .exclude(enrollments__teacher_id=teacher.teacher_id)
        .first()
    )
    assert services.enrollment_select(actor=teacher, project_class=second).round == 2
    with pytest.raises(DomainError) as refused:
        services.enrollment_select(actor=actor("demo_principal", Role.TEACHER), project_class=second)
    assert refused.value.details["rule"] == "round2"
    # 第二轮复核: round-2 trainees approved by their schools wait for the institution.
    round2 = Enrollment.objects.filter(project_class__project__term=terms["confirm2"], round=2, state=S.APPROVED)
    assert round2.filter(teacher_id=teacher.teacher_id).exists()
    assert services.enrollments_confirm(actor=inst, enrollments=list(round2), decision="approve").done


def _teacher(actor):
    from peixun.roster.models import Teacher

    return Teacher.objects.get(pk=actor.teacher_id)
