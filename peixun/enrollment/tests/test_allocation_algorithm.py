"""The fair allocation algorithm: properties (hypothesis) and small worked examples (pure Python)."""

import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peixun.enrollment.allocation import (
    Applicant,
    Outcome,
    Slot,
    allocate,
    inputs_digest,
    inputs_from_json,
    inputs_to_json,
    lottery_numbers,
    school_limit_for,
)

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
D0 = date(2024, 5, 6)


@st.composite
def problems(draw):
    n_classes = draw(st.integers(1, 6))
    slots = []
    for cid in range(1, n_classes + 1):
        start = D0 + timedelta(days=draw(st.integers(0, 20)))
        slots.append(
            Slot(
                class_id=cid * 10,
                seats=draw(st.integers(0, 5)),
                starts_on=start,
                ends_on=start + timedelta(days=draw(st.integers(0, 4))),
                school_limit=draw(st.one_of(st.none(), st.integers(1, 3))),
                school_taken=draw(st.dictionaries(st.integers(1, 3), st.integers(0, 2), max_size=2)),
            )
        )
    class_ids = [s.class_id for s in slots] + [999]  # 999: a class that is no longer open
    n_teachers = draw(st.integers(0, 14))
    teacher_ids = draw(st.lists(st.integers(1, 500), min_size=n_teachers, max_size=n_teachers, unique=True))
    applicants = []
    for tid in teacher_ids:
        choices = draw(st.lists(st.sampled_from(class_ids), min_size=1, max_size=5))
        busy = ()
        if draw(st.booleans()) and draw(st.booleans()):
            start = D0 + timedelta(days=draw(st.integers(0, 24)))
            busy = ((start, start + timedelta(days=2)),)
        applicants.append(
            Applicant(
                teacher_id=tid,
                school_id=draw(st.integers(1, 3)),
                score=Decimal(draw(st.sampled_from(["0", "0", "2.5", "10", "26"]))),
                choices=tuple(choices),
                wanted=draw(st.integers(1, 3)),
                busy=busy,
            )
        )
    seed = draw(st.integers(0, 2**63 - 1))
    return slots, applicants, seed


def allocated_by_class(result):
    counts = Counter()
    for d in result.allocated():
        counts[d.class_id] += 1
    return counts


@PROFILE
@given(problems())
def test_never_exceeds_the_free_seats(problem):
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    counts = allocated_by_class(result)
    for s in slots:
        assert counts[s.class_id] <= s.seats
    assert 999 not in counts


@PROFILE
@given(problems())
def test_every_preference_gets_exactly_one_outcome(problem):
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    keys = [(d.teacher_id, d.rank) for d in result.decisions]
    assert len(keys) == len(set(keys)) == sum(len(a.choices) for a in applicants)
    assert {d.outcome for d in result.decisions} <= set(Outcome.ALL)


@PROFILE
@given(problems())
def test_teachers_get_at_most_what_they_want_without_overlaps(problem):
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    by_id = {s.class_id: s for s in slots}
    wanted = {a.teacher_id: a for a in applicants}
    mine = defaultdict(list)
    for d in result.allocated():
        mine[d.teacher_id].append(by_id[d.class_id])
    for tid, got in mine.items():
        a = wanted[tid]
        assert len(got) <= a.wanted
        assert len({s.class_id for s in got}) == len(got)
        for i, s in enumerate(got):
            assert not any(s.starts_on <= end and start <= s.ends_on for start, end in a.busy)
            for other in got[i + 1 :]:
                assert not s.overlaps(other)
    # A preference is "not needed" only when its teacher got all they wanted.
    for d in result.decisions:
        if d.outcome == Outcome.NOT_NEEDED:
            assert len(mine[d.teacher_id]) == wanted[d.teacher_id].wanted


@PROFILE
@given(problems(), st.randoms(use_true_random=False))
def test_reproducible_for_a_seed_whatever_the_input_order(problem, rnd):
    slots, applicants, seed = problem
    first = allocate(slots, applicants, seed)
    shuffled = list(applicants)
    rnd.shuffle(shuffled)
    again = allocate(list(reversed(slots)), shuffled, seed)
    assert again.digest() == first.digest()
    assert again.decisions == first.decisions
    # The recorded inputs (JSON) give the same result too.
    data = inputs_to_json(slots, shuffled)
    assert inputs_digest(data) == inputs_digest(inputs_to_json(slots, applicants))
    assert allocate(*inputs_from_json(data), seed).digest() == first.digest()


@PROFILE
@given(problems())
def test_priority_is_respected(problem):
    """A full class went only to applicants ahead in the order, never to a lower score."""
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    holders = defaultdict(list)
    for d in result.allocated():
        holders[d.class_id].append(d)
    for d in result.decisions:
        if d.outcome != Outcome.FULL:
            continue
        for h in holders[d.class_id]:
            assert (h.draft_round, h.position) < (d.draft_round, d.position)
            if d.draft_round == 1:
                assert h.score >= d.score
        if holders[d.class_id]:
            assert d.cutoff_score is not None
            if d.draft_round == 1:
                assert (d.cutoff_score, -d.cutoff_lottery) >= (d.score, -d.lottery)
        # Full means full: every free seat of the class was given out.
        assert len(holders[d.class_id]) == next(s.seats for s in slots if s.class_id == d.class_id)


@PROFILE
@given(problems())
def test_first_round_gives_the_best_choice_still_possible(problem):
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    by_teacher = defaultdict(dict)
    for d in result.decisions:
        by_teacher[d.teacher_id][d.rank] = d
    for ranks in by_teacher.values():
        first = [d for d in ranks.values() if d.outcome == Outcome.ALLOCATED and d.draft_round == 1]
        if first:
            for rank in range(1, first[0].rank):
                assert ranks[rank].outcome in (Outcome.FULL, Outcome.SCHOOL_CAP, Outcome.OVERLAP, Outcome.UNAVAILABLE)


@PROFILE
@given(problems())
def test_school_share_cap_is_respected(problem):
    slots, applicants, seed = problem
    result = allocate(slots, applicants, seed)
    school = {a.teacher_id: a.school_id for a in applicants}
    per = Counter((d.class_id, school[d.teacher_id]) for d in result.allocated())
    for s in slots:
        if s.school_limit is None:
            continue
        for sid in {1, 2, 3}:
            before = s.school_taken.get(sid, 0)
            if per[(s.class_id, sid)]:
                assert before + per[(s.class_id, sid)] <= s.school_limit
    for d in result.decisions:
        if d.outcome == Outcome.SCHOOL_CAP:
            assert d.school_count >= d.school_limit


def test_neutral_scores_are_a_plain_seeded_lottery():
    slot = Slot(class_id=1, seats=3, starts_on=D0, ends_on=D0)
    applicants = [Applicant(teacher_id=t, school_id=1, score=Decimal(0), choices=(1,)) for t in range(1, 11)]
    result = allocate([slot], applicants, seed=42)
    numbers = lottery_numbers(range(1, 11), 42)
    winners = sorted(numbers, key=numbers.get)[:3]
    assert sorted(d.teacher_id for d in result.allocated()) == sorted(winners)
    # Different seeds reorder the lottery.
    assert len({tuple(allocate([slot], applicants, seed=s).order) for s in range(5)}) > 1


def test_furthest_behind_go_first_and_reasons_carry_the_cutoff():
    slot = Slot(class_id=7, seats=2, starts_on=D0, ends_on=D0 + timedelta(days=4))
    backup = Slot(class_id=8, seats=5, starts_on=D0, ends_on=D0 + timedelta(days=4))
    applicants = [
        Applicant(teacher_id=1, school_id=1, score=Decimal("3"), choices=(7, 8)),
        Applicant(teacher_id=2, school_id=1, score=Decimal("20"), choices=(7, 8)),
        Applicant(teacher_id=3, school_id=2, score=Decimal("12.5"), choices=(7,)),
    ]
    result = allocate([slot, backup], applicants, seed=1)
    outcome = {(d.teacher_id, d.rank): d for d in result.decisions}
    assert result.order == [2, 3, 1]
    assert outcome[(2, 1)].outcome == outcome[(3, 1)].outcome == Outcome.ALLOCATED
    assert outcome[(2, 2)].outcome == Outcome.NOT_NEEDED
    lost = outcome[(1, 1)]
    assert lost.outcome == Outcome.FULL and lost.cutoff_score == Decimal("12.5") and lost.score == Decimal("3")
    assert outcome[(1, 2)].outcome == Outcome.ALLOCATED and outcome[(1, 2)].rank == 2


def test_school_cap_passes_seats_to_other_schools():
    slot = Slot(class_id=1, seats=4, starts_on=D0, ends_on=D0, school_limit=school_limit_for(4, 50))
    applicants = [
        Applicant(teacher_id=t, school_id=1 if t <= 4 else 2, score=Decimal(10 - t), choices=(1,)) for t in range(1, 7)
    ]
    result = allocate([slot], applicants, seed=5)
    assert sorted(d.teacher_id for d in result.allocated()) == [1, 2, 5, 6]
    capped = [d for d in result.decisions if d.outcome == Outcome.SCHOOL_CAP]
    assert {d.teacher_id for d in capped} == {3, 4} and all(d.school_count == 2 for d in capped)


def test_more_than_one_class_in_draft_rounds():
    a = Slot(class_id=1, seats=1, starts_on=D0, ends_on=D0)
    b = Slot(class_id=2, seats=1, starts_on=D0 + timedelta(days=10), ends_on=D0 + timedelta(days=11))
    c = Slot(class_id=3, seats=1, starts_on=D0, ends_on=D0)  # same dates as a
    applicants = [
        Applicant(teacher_id=1, school_id=1, score=Decimal(9), choices=(1, 3, 2), wanted=2),
        Applicant(teacher_id=2, school_id=1, score=Decimal(1), choices=(2, 3), wanted=1),
    ]
    result = allocate([a, b, c], applicants, seed=3)
    outcome = {(d.teacher_id, d.rank): d for d in result.decisions}
    # Round 1: teacher 1 gets a, teacher 2 gets b; round 2: teacher 1 cannot take c (overlap), b is full.
    assert outcome[(1, 1)].outcome == Outcome.ALLOCATED
    assert outcome[(2, 1)].outcome == Outcome.ALLOCATED
    assert outcome[(1, 2)].outcome == Outcome.OVERLAP
    assert outcome[(1, 3)].outcome == Outcome.FULL and outcome[(1, 3)].draft_round == 2


def test_school_limit_is_a_share_of_the_capacity():
    assert school_limit_for(50, None) is None
    assert school_limit_for(50, 20) == 10
    assert school_limit_for(3, 10) == 1


def test_large_problem_is_fast_and_exact():
    rnd = random.Random(0)
    slots = [Slot(class_id=c, seats=30, starts_on=D0 + timedelta(days=c % 30), ends_on=D0) for c in range(1, 201)]
    slots = [Slot(class_id=s.class_id, seats=s.seats, starts_on=s.starts_on, ends_on=s.starts_on) for s in slots]
    applicants = [
        Applicant(
            teacher_id=t,
            school_id=t % 97,
            score=Decimal(rnd.randint(0, 30)),
            choices=tuple(rnd.sample(range(1, 201), 5)),
        )
        for t in range(1, 8001)
    ]
    result = allocate(slots, applicants, seed=2024)
    assert len(result.allocated()) <= 6000
    assert max(allocated_by_class(result).values()) <= 30
