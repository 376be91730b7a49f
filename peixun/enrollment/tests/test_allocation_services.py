# ruff: noqa: F811  (fixtures imported from allocation_helpers are redefined as test parameters)
"""The allocation run: priority, seats, enrollments, reasons, verification, the job, scope."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from peixun.catalog.models import ProjectClass
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.models import AuditLog, Job, Notification
from peixun.core.roles import Role
from peixun.credits.selectors import allocation_priority
from peixun.enrollment import selectors_allocation as sel
from peixun.enrollment.models import AllocationResult, AllocationRun, Enrollment, EnrollmentEvent
from peixun.enrollment.services.allocation import allocation_execute, allocation_start, allocation_verify
from peixun.terms.models import Term
from tests.factories import EnrollmentFactory, SchoolFactory, TermFactory, make_actor, term_windows_open

from .allocation_helpers import (  # noqa: F401  (fixtures)
    close_selection,
    fair_term,
    make_class,
    policy,
    province_actor,
    rank,
    teacher_with_credits,
    zh,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("zh")]
Out = AllocationResult.Outcome
NEUTRAL = "peixun.enrollment.allocation.neutral_score"


def run_now(actor, term, seed=7):
    run = allocation_start(actor=actor, term=term, seed=seed)
    return allocation_execute(run.pk)


def outcomes(run):
    return {(r.teacher_id, r.rank): r for r in AllocationResult.objects.filter(run=run)}


def test_furthest_behind_get_the_scarce_seats(policy, fair_term, province_actor, school):
    scarce = make_class(fair_term, capacity=1)
    spare = make_class(fair_term, capacity=2, starts_in=60)
    behind = teacher_with_credits(school, 0)
    middle = teacher_with_credits(school, 20)
    ahead = teacher_with_credits(school, 30)
    for a in (ahead, middle, behind):
        rank(a.user.teacher, fair_term, scarce, spare)

    run = run_now(province_actor, fair_term)
    assert run.status == AllocationRun.Status.DONE
    got = outcomes(run)
    b, m, h = behind.teacher_id, middle.teacher_id, ahead.teacher_id
    assert got[(b, 1)].outcome == Out.ALLOCATED and got[(b, 1)].reason == "获得第1志愿。"
    assert got[(b, 2)].outcome == Out.NOT_NEEDED
    assert got[(m, 1)].outcome == Out.FULL and got[(h, 1)].outcome == Out.FULL
    assert got[(m, 2)].outcome == Out.ALLOCATED and got[(h, 2)].outcome == Out.ALLOCATED
    scores = allocation_priority([b, m, h], fair_term)
    assert scores[b] > scores[m] > scores[h]
    assert got[(m, 1)].cutoff_score == scores[b]
    assert f"{scores[m]:f}".rstrip("0").rstrip(".") in got[(m, 1)].reason and "低于" in got[(m, 1)].reason

    # Allocated preferences are SELECTED enrollments holding seats counted by the seat functions.
    enrollments = Enrollment.objects.filter(project_class__in=[scarce, spare])
    assert {(e.teacher_id, e.project_class_id, e.state, e.round) for e in enrollments} == {
        (b, scarce.pk, "selected", 1),
        (m, spare.pk, "selected", 1),
        (h, spare.pk, "selected", 1),
    }
    scarce.refresh_from_db()
    spare.refresh_from_db()
    assert (scarce.seats_taken, spare.seats_taken) == (1, 2)
    assert got[(b, 1)].enrollment.project_class_id == scarce.pk
    assert run.counts == {
        "teachers": 3,
        "preferences": 6,
        "classes": 2,
        "allocated": 3,
        "placed": 3,
        "unplaced": 0,
        "first_choice": 1,
    }
    assert Notification.objects.filter(user=behind.user, kind="enrollment.allocation").count() == 1
    principal = make_actor(Role.SCHOOL, school=school)
    assert not Notification.objects.filter(user=principal.user).exists()  # made after the run: nothing for it
    events = EnrollmentEvent.objects.filter(enrollment__in=enrollments)
    assert events.count() == 3 and {e.to_state for e in events} == {"selected"}
    assert AuditLog.objects.filter(action="enrollment.allocation.run").count() == 1


def test_unplaced_teachers_are_told_why(policy, fair_term, province_actor, school):
    principal = make_actor(Role.SCHOOL, school=school)
    only = make_class(fair_term, capacity=1)
    first = teacher_with_credits(school, 0)
    second = teacher_with_credits(school, 0)
    rank(first.user.teacher, fair_term, only)
    rank(second.user.teacher, fair_term, only)
    run = run_now(province_actor, fair_term)
    got = outcomes(run)
    winner, loser = sorted(got.values(), key=lambda r: r.position)
    assert winner.outcome == Out.ALLOCATED and loser.outcome == Out.FULL
    # Same score: the lottery decided, and the reason says so with both numbers.
    assert loser.score == loser.cutoff_score and str(loser.lottery) in loser.reason
    assert str(loser.cutoff_lottery) in loser.reason and "抽签" in loser.reason
    assert run.counts["unplaced"] == 1
    loser_user = first.user if loser.teacher_id == first.teacher_id else second.user
    assert "未" in Notification.objects.get(user=loser_user).title
    assert "1 条选课待审核" in Notification.objects.get(user=principal.user).title


def test_school_share_cap(policy, province_actor, school, other_school):
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR, school_share_cap=50)
    close_selection(term)
    klass = make_class(term, capacity=2)
    mine = [teacher_with_credits(school, 0) for _ in range(3)]
    theirs = teacher_with_credits(other_school, 25)
    for a in [*mine, theirs]:
        rank(a.user.teacher, term, klass)
    run = run_now(province_actor, term)
    got = outcomes(run)
    assert got[(theirs.teacher_id, 1)].outcome == Out.ALLOCATED  # lowest priority, but the other school's turn
    capped = [got[(a.teacher_id, 1)] for a in mine if got[(a.teacher_id, 1)].outcome == Out.SCHOOL_CAP]
    assert len(capped) == 2 and all(r.school_count == 1 and r.school_limit == 1 for r in capped)
    assert "1" in capped[0].reason and "学校" in capped[0].reason
    assert Enrollment.objects.filter(project_class=klass, teacher__school=school).count() == 1


def test_what_teachers_already_hold_counts(policy, fair_term, province_actor, school):
    held = make_class(fair_term, capacity=5, starts_in=30)
    clash = make_class(fair_term, capacity=5, starts_in=31)  # overlaps ``held``
    later = make_class(fair_term, capacity=5, starts_in=90)
    actor = teacher_with_credits(school, 0)
    teacher = actor.user.teacher
    EnrollmentFactory(teacher=teacher, project_class=held, state="approved")
    ProjectClass.objects.filter(pk=held.pk).update(seats_taken=1)
    rank(teacher, fair_term, clash, held, later, wanted=3)
    fair_term.per_teacher_limit = 2
    fair_term.save()
    run = run_now(province_actor, fair_term)
    got = outcomes(run)
    assert got[(teacher.pk, 1)].outcome == Out.OVERLAP
    assert got[(teacher.pk, 2)].outcome == Out.OVERLAP  # already holds it
    assert got[(teacher.pk, 3)].outcome == Out.ALLOCATED
    assert run.inputs["applicants"][0]["wanted"] == 1  # limit 2 minus the class held


def test_unpublished_classes_are_unavailable(policy, fair_term, province_actor, school):
    gone = make_class(fair_term, status="withdrawn")
    ok = make_class(fair_term, starts_in=50)
    actor = teacher_with_credits(school, 0)
    rank(actor.user.teacher, fair_term, gone, ok)
    run = run_now(province_actor, fair_term)
    got = outcomes(run)
    assert got[(actor.teacher_id, 1)].outcome == Out.UNAVAILABLE
    assert got[(actor.teacher_id, 2)].outcome == Out.ALLOCATED and got[(actor.teacher_id, 2)].rank == 2


@override_settings(ENROLLMENT_PRIORITY_SCORE=NEUTRAL)
def test_neutral_score_is_a_seeded_lottery(fair_term, province_actor, school):
    klass = make_class(fair_term, capacity=3)
    actors = [teacher_with_credits(school, 0) for _ in range(8)]
    for a in actors:
        rank(a.user.teacher, fair_term, klass)
    run = run_now(province_actor, fair_term, seed=12345)
    assert run.score == NEUTRAL
    rows = list(AllocationResult.objects.filter(run=run).order_by("lottery"))
    assert all(r.score == 0 for r in rows)
    assert [r.outcome for r in rows] == [Out.ALLOCATED] * 3 + [Out.FULL] * 5


def test_verify_recomputes_and_detects_tampering(policy, fair_term, province_actor, school):
    klass = make_class(fair_term, capacity=2)
    actors = [teacher_with_credits(school, n * 5) for n in range(5)]
    for a in actors:
        rank(a.user.teacher, fair_term, klass)
    run = run_now(province_actor, fair_term)
    county = make_actor(Role.COUNTY, region=school.county)
    before = (AllocationResult.objects.count(), Enrollment.objects.count(), AuditLog.objects.count())
    check = allocation_verify(actor=county, run=run)
    assert check.same and check.inputs_intact and check.recomputed_digest == run.results_digest
    assert (AllocationResult.objects.count(), Enrollment.objects.count(), AuditLog.objects.count()) == before

    loser = AllocationResult.objects.filter(run=run, outcome=Out.FULL).first()
    AllocationResult.objects.filter(pk=loser.pk).update(outcome=Out.ALLOCATED)
    check = allocation_verify(actor=county, run=run)
    assert not check.same and check.differences == [
        {"teacher_id": loser.teacher_id, "rank": 1, "recomputed": Out.FULL, "stored": Out.ALLOCATED}
    ]
    AllocationResult.objects.filter(pk=loser.pk).update(outcome=Out.FULL)
    run.inputs["applicants"][0]["score"] = "99"
    check = allocation_verify(actor=county, run=run)
    assert not check.same and not check.inputs_intact


def test_start_is_refused_with_reasons(policy, fair_term, province_actor, school):
    fcfs = TermFactory()
    close_selection(fcfs)
    with pytest.raises(Conflict, match="先到先得"):
        allocation_start(actor=province_actor, term=fcfs)
    open_term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    term_windows_open(open_term, "select_r1")
    with pytest.raises(Conflict, match="结束后"):
        allocation_start(actor=province_actor, term=open_term)
    for bad in (-1, 2**63, True, "12"):
        with pytest.raises(InvalidInput):
            allocation_start(actor=province_actor, term=fair_term, seed=bad)
    with pytest.raises(PermissionDenied):
        allocation_start(actor=make_actor(Role.COUNTY, region=school.county), term=fair_term)
    run = allocation_start(actor=province_actor, term=fair_term)
    assert 0 <= run.seed < 2**63 and run.job.kind == "enrollment.allocation"
    with pytest.raises(Conflict, match="进行"):
        allocation_start(actor=province_actor, term=fair_term)
    allocation_execute(run.pk)
    with pytest.raises(Conflict, match="已分配"):
        allocation_start(actor=province_actor, term=fair_term)
    with pytest.raises(Conflict):
        allocation_execute(run.pk)  # never twice


def test_a_failed_run_changes_nothing_and_can_be_started_again(policy, fair_term, province_actor, school, settings):
    klass = make_class(fair_term, capacity=2)
    actor = teacher_with_credits(school, 0)
    rank(actor.user.teacher, fair_term, klass)
    run = allocation_start(actor=province_actor, term=fair_term, seed=1)
    settings.ENROLLMENT_PRIORITY_SCORE = "peixun.enrollment.allocation.no_such_function"
    AllocationRun.objects.filter(pk=run.pk).update(score=settings.ENROLLMENT_PRIORITY_SCORE)
    with pytest.raises(ImportError):
        allocation_execute(run.pk)
    run.refresh_from_db()
    assert run.status == AllocationRun.Status.FAILED and run.message
    assert not Enrollment.objects.exists() and not AllocationResult.objects.exists()
    klass.refresh_from_db()
    assert klass.seats_taken == 0
    settings.ENROLLMENT_PRIORITY_SCORE = NEUTRAL
    again = run_now(province_actor, fair_term, seed=1)
    assert again.status == AllocationRun.Status.DONE and Enrollment.objects.count() == 1


def test_results_are_scoped(policy, fair_term, province_actor, school, other_school, institution):
    ours = make_class(fair_term, capacity=5, institution=institution)
    theirs = make_class(fair_term, capacity=5)
    me = teacher_with_credits(school, 0)
    colleague = teacher_with_credits(school, 0)
    stranger = teacher_with_credits(other_school, 0)
    rank(me.user.teacher, fair_term, ours)
    rank(colleague.user.teacher, fair_term, theirs)
    rank(stranger.user.teacher, fair_term, theirs)
    run = run_now(province_actor, fair_term)

    def seen(actor):
        return {r.teacher_id for r in sel.results(actor=actor, run=run)}

    assert seen(me) == {me.teacher_id}
    assert seen(make_actor(Role.SCHOOL, school=school)) == {me.teacher_id, colleague.teacher_id}
    assert seen(make_actor(Role.COUNTY, region=school.county)) == {me.teacher_id, colleague.teacher_id}
    assert seen(make_actor(Role.COUNTY, region=other_school.county)) == {stranger.teacher_id}
    assert seen(province_actor) == {me.teacher_id, colleague.teacher_id, stranger.teacher_id}
    assert seen(make_actor(Role.INSTITUTION, institution=institution)) == {me.teacher_id}
    with pytest.raises(PermissionDenied):
        sel.results(actor=make_actor(Role.EXPERT, region=province_actor.region), run=run)
    with pytest.raises(NotFound):
        sel.run_get(actor=me, run_id=run.pk + 1000)
    summaries = sel.class_summaries(actor=make_actor(Role.SCHOOL, school=school), run=run)
    assert {s.project_class.pk: s.allocated for s in summaries} == {ours.pk: 1, theirs.pk: 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("zh")
def test_the_run_is_a_background_job(province):
    from tests.factories import CountyFactory, credit_policy

    credit_policy("A", province=province)
    school = SchoolFactory(county=CountyFactory(parent__parent=province))
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    close_selection(term)
    klass = make_class(term, capacity=1)
    actors = [teacher_with_credits(school, c) for c in (0, 10)]
    for a in actors:
        rank(a.user.teacher, term, klass)
    province_actor = make_actor(Role.PROVINCE, region=province)
    run = allocation_start(actor=province_actor, term=term, seed=99)
    job = Job.objects.get(pk=run.job_id)
    assert job.status == Job.Status.QUEUED and job.task_id
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == AllocationRun.Status.DONE, run.message
    assert job.status == Job.Status.SUCCEEDED and job.result["allocated"] == 1 and job.result["run_id"] == run.pk
    assert Enrollment.objects.get().teacher_id == actors[0].teacher_id
    assert AuditLog.objects.get(action="enrollment.allocation.run").user == province_actor.user
    assert allocation_verify(actor=province_actor, run=run).same
    assert Decimal(run.inputs["applicants"][0]["score"]) >= 0


def test_the_mode_is_fixed_once_round_one_opens(province_actor):
    from peixun.terms.services import term_update

    term = TermFactory()  # 2024 windows: round 1 opened long ago
    with pytest.raises(Conflict, match="不能再更改"):
        term_update(actor=province_actor, term=term, selection_mode=Term.SelectionMode.FAIR)
    term_update(actor=province_actor, term=term, selection_mode=Term.SelectionMode.FIRST_COME, per_teacher_limit=4)
    later = TermFactory(windows=2099)
    assert term_update(actor=province_actor, term=later, selection_mode="fair").selection_mode == "fair"
