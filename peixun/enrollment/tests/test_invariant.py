"""Property test: any sequence of select / approve / reject / withdraw / confirm / decline / 扩班 keeps
the seat invariant — for every class, seat-holding enrollments == the counter <= capacity — plus one
active enrollment per teacher and class, and no waitlist while a class has a free seat."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peixun.catalog.models import ProjectClass
from peixun.core.errors import DomainError
from peixun.core.roles import Role
from peixun.enrollment import services
from peixun.enrollment.models import Enrollment
from tests.factories import make_actor, term_windows_open

from .conftest import K, make_class, new_teacher_actor

pytestmark = pytest.mark.django_db
S = Enrollment.State

OPS = ("select", "select", "select", "withdraw", "withdraw", "approve", "reject", "confirm", "decline", "expand")


class Rollback(Exception):
    pass


@pytest.fixture
def world(term, institution, school, principal, province_actor):
    term_windows_open(term, K.SELECT_R1, K.EXPAND_REQUEST, K.EXPAND_ACCEPT, K.CONFIRM_R1)
    classes = [make_class(term, institution, days_ahead=20 + 10 * i, capacity=c) for i, c in enumerate((1, 2))]
    # three teachers for few seats: full classes, waitlists and promotions happen often
    teachers = [new_teacher_actor(school) for _ in range(3)]
    inst = make_actor(Role.INSTITUTION, institution=institution)
    return {"classes": classes, "teachers": teachers, "principal": principal, "inst": inst, "bureau": province_actor}


def check_invariant(classes) -> None:
    for pc in ProjectClass.objects.filter(pk__in=[c.pk for c in classes]):
        rows = Enrollment.objects.filter(project_class=pc)
        held = rows.filter(state__in=Enrollment.SEAT_HOLDING).count()
        assert pc.seats_taken == held <= pc.capacity, (pc.seats_taken, held, pc.capacity)
        if held < pc.capacity:
            assert not rows.filter(state=S.WAITLISTED).exists(), "a free seat while teachers wait"
    dupes = (
        Enrollment.objects.filter(state__in=Enrollment.ACTIVE)
        .values("teacher", "project_class")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not dupes.exists()


def apply(world, op: str, who: int, which: int, n: int) -> None:
    pc = ProjectClass.objects.get(pk=world["classes"][which % len(world["classes"])].pk)
    actor = world["teachers"][who % len(world["teachers"])]
    mine = Enrollment.objects.filter(teacher_id=actor.teacher_id, project_class=pc, state__in=Enrollment.ACTIVE).first()
    on_class = list(Enrollment.objects.filter(project_class=pc).order_by("pk"))
    pick = on_class[n % len(on_class)] if on_class else None
    if op == "select":
        services.enrollment_select(actor=actor, project_class=pc)
    elif op == "withdraw" and mine is not None:
        services.enrollment_withdraw(actor=actor, enrollment=mine)
    elif op in ("approve", "reject") and pick is not None:
        services.enrollment_review(actor=world["principal"], enrollment=pick, decision=op, reason="理由")
    elif op in ("confirm", "decline") and pick is not None:
        decision = "approve" if op == "confirm" else "reject"
        services.enrollment_confirm(actor=world["inst"], enrollment=pick, decision=decision, reason="理由")
    elif op == "expand":
        x = services.expansion_request(actor=world["inst"], project_class=pc, seats=n % 3 + 1, reason="扩班")
        services.expansion_decide(
            actor=world["bureau"], expansion=x, seats_accepted=n % (x.seats_requested + 1), note="说明"
        )


steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 2), st.integers(0, 1), st.integers(0, 5)), min_size=3, max_size=30
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_any_sequence_keeps_the_seat_invariant(world, sequence):
    try:
        with transaction.atomic():
            for op, who, which, n in sequence:
                try:
                    apply(world, op, who, which, n)
                except DomainError:
                    pass  # refused: the service's own transaction changed nothing
                check_invariant(world["classes"])
            raise Rollback  # each example starts from the same world
    except Rollback:
        pass
