"""Seats under real concurrency: threads with their own database connections.

PostgreSQL (``-m postgres``, run with DATABASE_URL=postgres://…): 200 selects from 50 concurrent
clients on a 20-seat class; one teacher's concurrent double submissions; withdrawal racing a
selection for the last seat. SQLite: concurrent selects serialise (IMMEDIATE transactions) and a
database that stays busy past the timeout answers a clear retryable error — never a 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from peixun.core.errors import Busy, DomainError
from peixun.enrollment import selectors, services
from peixun.enrollment.models import Enrollment
from peixun.roster.models import Teacher

from .conftest import make_class, new_teacher_actor

S = Enrollment.State


def run_concurrently(jobs, workers: int) -> list:
    """Run callables on ``workers`` threads released together; each returns (outcome, value)."""
    gate = threading.Event()

    def wrap(job):
        gate.wait()
        try:
            return ("ok", job())
        except DomainError as exc:
            return (exc.code, exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(wrap, job) for job in jobs]
        gate.set()
        return [f.result(timeout=300) for f in futures]


def holding(project_class) -> int:
    project_class.refresh_from_db()
    n = Enrollment.objects.filter(project_class=project_class).holding_seats().count()
    assert project_class.seats_taken == n <= project_class.capacity
    assert selectors.seat_mismatches() == []
    return n


def select_job(actor, project_class, key=""):
    return lambda: services.enrollment_select(actor=actor, project_class=project_class, request_key=key)


postgres = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("waitlist", [True, False])
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_selects_on_20_seats(term, institution, school, waitlist):
    klass = make_class(term, institution, capacity=20)
    klass.waitlist_enabled = waitlist
    klass.save(update_fields=["waitlist_enabled"])
    actors = [new_teacher_actor(school) for _ in range(200)]
    results = run_concurrently([select_job(a, klass) for a in actors], workers=50)
    outcomes = Counter(code if code != "ok" else value.state for code, value in results)
    assert holding(klass) == 20
    if waitlist:
        assert outcomes == {S.SELECTED: 20, S.WAITLISTED: 180}
        # The queue is in the order of joining: ranks now are 1..180; the rank each teacher was told
        # counted only those ahead of them that had committed, so it is never behind the true one.
        queued = {value.pk: value.rank for code, value in results if code == "ok" and value.state == S.WAITLISTED}
        ranks = {e.pk: services.waitlist_rank(e) for e in Enrollment.objects.filter(state=S.WAITLISTED)}
        assert sorted(ranks.values()) == list(range(1, 181)) and ranks == dict(sorted(ranks.items()))
        assert all(1 <= told <= ranks[pk] for pk, told in queued.items())
    else:
        assert outcomes == {S.SELECTED: 20, "class_full": 180}
    assert Enrollment.objects.count() == (200 if waitlist else 20)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_teacher_twice_concurrently_gets_one_enrollment(term, institution, school):
    klass = make_class(term, institution, capacity=20)
    actor = new_teacher_actor(school)
    jobs = [select_job(actor, klass, key=f"click-{i % 2}") for i in range(10)]  # double clicks and retries
    results = run_concurrently(jobs, workers=10)
    assert {code for code, _v in results} == {"ok"}
    assert len({value.pk for _c, value in results}) == 1
    assert Enrollment.objects.count() == 1 and holding(klass) == 1


@pytest.mark.parametrize("waitlist", [True, False])
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_withdraw_racing_a_select_for_the_last_seat(term, institution, school, waitlist):
    for _trial in range(12):
        klass = make_class(term, institution, capacity=1)
        klass.waitlist_enabled = waitlist
        klass.save(update_fields=["waitlist_enabled"])
        holder, newcomer = new_teacher_actor(school), new_teacher_actor(school)
        seat = services.enrollment_select(actor=holder, project_class=klass)
        results = run_concurrently(
            [
                lambda h=holder, s=seat: services.enrollment_withdraw(actor=h, enrollment=s),
                select_job(newcomer, klass),
            ],
            workers=2,
        )
        assert results[0][0] == "ok"
        assert holding(klass) <= 1
        mine = Enrollment.objects.filter(teacher_id=newcomer.teacher_id).first()
        if waitlist:  # a seat was freed: the newcomer holds it, directly or promoted from the waitlist
            assert mine is not None and mine.state == S.SELECTED and holding(klass) == 1
        else:  # the newcomer either got the freed seat or was told the class is full
            assert (mine is not None and mine.state == S.SELECTED) or results[1][0] == "class_full"


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite():
    return connection.vendor == "sqlite"


@pytest.mark.django_db(transaction=True)
def test_sqlite_concurrent_selects_serialise(term, institution, school):
    if not _sqlite():
        pytest.skip("SQLite behaviour")
    klass = make_class(term, institution, capacity=5)
    actors = [new_teacher_actor(school) for _ in range(16)]
    results = run_concurrently([select_job(a, klass) for a in actors], workers=8)
    codes = Counter(code for code, _v in results)
    assert set(codes) <= {"ok", "busy"}  # a busy database is a clear retryable error, never a crash
    assert holding(klass) == min(5, codes["ok"])
    assert Enrollment.objects.count() == codes["ok"]


@pytest.mark.django_db(transaction=True)
def test_sqlite_busy_database_is_a_clear_retryable_error(client, term, institution, school, monkeypatch):
    if not _sqlite():
        pytest.skip("SQLite behaviour")
    klass = make_class(term, institution)
    actor = new_teacher_actor(school)
    monkeypatch.setitem(connections.settings["default"]["OPTIONS"], "timeout", 0.2)
    connection.close()  # reconnect with the short busy timeout
    from peixun.accounts.services import token_create

    _token, raw_token = token_create(actor=actor, name="t")
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: the database's one write lock
                Teacher.objects.filter(pk=actor.teacher_id).update(remarks="busy")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(Busy) as exc:
            services.enrollment_select(actor=actor, project_class=klass)
        assert exc.value.status == 503 and "稍后重试" in exc.value.message
        api = client.post(
            "/api/enrollment/select",
            {"class_id": klass.pk},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw_token}",
        )
        assert api.status_code == 503 and api.json()["code"] == "busy" and "稍后重试" in api.json()["message"]
    finally:
        release.set()
        holder.join(30)
    assert not Enrollment.objects.exists()
    # once the lock is gone the same request goes through
    assert services.enrollment_select(actor=actor, project_class=klass).state == S.SELECTED
