"""How many statements a selection costs: the rush of the year runs on this, so the count must not creep
back (bench/selection_rush.py measures what it buys). On PostgreSQL the reads after the teacher lock and
the seat UPDATE go in one round trip and the inserts in another; on SQLite each statement is its own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peixun.enrollment import services
from peixun.enrollment.models import Enrollment, EnrollmentEvent

from .conftest import make_class, new_teacher_actor
from .test_api import bearer

pytestmark = pytest.mark.django_db
S = Enrollment.State


def statements(captured) -> list[str]:
    # The test's own transaction turns the service's into a savepoint, its commit or rollback into a
    # release or rollback of that savepoint: not counted (nor are BEGIN and COMMIT, which are not captured).
    savepoint = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(savepoint)]


def expected(postgres: int, sqlite: int) -> int:
    return postgres if connection.vendor == "postgresql" else sqlite


def test_a_selection_is_two_round_trips_on_postgresql(teacher_actor, klass, term, institution, school):
    services.enrollment_select(actor=new_teacher_actor(school), project_class=klass)  # compiled, warm
    with CaptureQueriesContext(connection) as taking:
        taken = services.enrollment_select(actor=teacher_actor, project_class=klass.pk, request_key="k1")
    # reads (lock, class, places, id) and the seat UPDATE | inserts (enrollment, event, audit, notification)
    assert taken.state == S.SELECTED and EnrollmentEvent.objects.filter(enrollment=taken).count() == 1
    assert len(statements(taking)) == expected(2, 8), statements(taking)

    with CaptureQueriesContext(connection) as again:
        same = services.enrollment_select(actor=teacher_actor, project_class=klass.pk, request_key="k1")
    assert same.pk == taken.pk and len(statements(again)) == expected(1, 4)

    full = make_class(term, institution, days_ahead=90, capacity=0)
    with CaptureQueriesContext(connection) as queueing:
        queued = services.enrollment_select(actor=teacher_actor, project_class=full.pk, request_key="k2")
    # + the share lock on the full class and the rank for the notice
    assert queued.state == S.WAITLISTED and queued.rank == 1
    assert len(statements(queueing)) == expected(4, 10), statements(queueing)


def test_the_select_endpoint_adds_only_the_token_lookup(client, teacher_actor, klass):
    headers = bearer(teacher_actor)
    client.get("/api/core/me", **headers)
    with CaptureQueriesContext(connection) as me:
        assert client.get("/api/core/me", **headers).status_code == 200
    with CaptureQueriesContext(connection) as selecting:
        response = client.post(
            "/api/enrollment/select", data={"class_id": klass.pk}, content_type="application/json", **headers
        )
    assert response.status_code == 200 and response.json()["state"] == S.SELECTED
    assert len(statements(selecting)) == len(statements(me)) + expected(2, 8), statements(selecting)
