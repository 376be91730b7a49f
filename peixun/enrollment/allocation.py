"""Fair allocation of round-1 seats from ranked preferences (pure Python, no database).

The algorithm is a serial dictatorship in draft rounds:

1. Every applicant gets a lottery number: the applicants, sorted by teacher id, are shuffled
   with ``random.Random(seed)``; the position in that shuffle is the number (1 first).
2. Applicants are ordered by priority score (larger first: further behind on credits), ties
   broken by the lottery number.
3. In draft round 1 each applicant in that order gets the best-ranked of their choices that
   still has a seat, does not exceed the school's share of the class and does not overlap a
   class they already got. Applicants who want more than one class (up to the term's limit)
   get one more per further round, in the same order.

The same inputs and seed always give the same result (no dict/set iteration order or clock
is involved), so a run can be recomputed from its recorded inputs and compared.

Every preference gets an outcome with the facts behind its reason: the allocated rank, or
the score and lottery number of the last applicant who got the full class (the cutoff), or
the school's count against its cap.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal


class Outcome:
    ALLOCATED = "allocated"
    FULL = "full"  # no seat left when the applicant's turn came
    SCHOOL_CAP = "school_cap"  # seats left, but the applicant's school had reached its share
    OVERLAP = "overlap"  # dates overlap a class allocated to the applicant in this run
    NOT_NEEDED = "not_needed"  # the applicant already got as many classes as they wanted
    UNAVAILABLE = "unavailable"  # the class was no longer open (or the teacher already holds it)

    ALL = (ALLOCATED, FULL, SCHOOL_CAP, OVERLAP, NOT_NEEDED, UNAVAILABLE)


@dataclass(frozen=True)
class Slot:
    """A class as the allocation sees it."""

    class_id: int
    seats: int  # seats free for this run (capacity minus seats already taken)
    starts_on: date
    ends_on: date
    school_limit: int | None = None  # most seats one school may hold in the class (None: no cap)
    school_taken: dict[int, int] = field(default_factory=dict)  # seats schools already hold

    def overlaps(self, other: Slot) -> bool:
        return self.starts_on <= other.ends_on and other.starts_on <= self.ends_on


@dataclass(frozen=True)
class Applicant:
    teacher_id: int
    school_id: int
    score: Decimal
    choices: tuple[int, ...]  # class ids, best first
    wanted: int = 1  # classes the applicant may receive in this run
    busy: tuple[tuple[date, date], ...] = ()  # date ranges of classes the teacher already holds


@dataclass(frozen=True)
class Decision:
    teacher_id: int
    class_id: int
    rank: int  # 1 = first choice
    outcome: str
    score: Decimal
    lottery: int
    draft_round: int = 0  # the draft round the preference was decided in (0: not reached)
    position: int = 0  # the applicant's place in the priority order (0 first)
    cutoff_score: Decimal | None = None  # FULL: the last applicant who got the class
    cutoff_lottery: int | None = None
    school_count: int | None = None  # SCHOOL_CAP: seats the school held in the class
    school_limit: int | None = None


@dataclass
class Result:
    seed: int
    decisions: list[Decision]
    order: list[int]  # teacher ids in priority order

    def allocated(self) -> list[Decision]:
        return [d for d in self.decisions if d.outcome == Outcome.ALLOCATED]

    def digest(self) -> str:
        return decisions_digest(self.decisions)


def lottery_numbers(teacher_ids: Iterable[int], seed: int) -> dict[int, int]:
    ids = sorted(set(teacher_ids))
    random.Random(seed).shuffle(ids)
    return {tid: n for n, tid in enumerate(ids, start=1)}


def allocate(slots: Sequence[Slot], applicants: Sequence[Applicant], seed: int) -> Result:
    """Assign seats; see the module docstring. Unknown class ids are UNAVAILABLE."""
    by_id = {s.class_id: s for s in slots}
    free = {s.class_id: s.seats for s in slots}
    school_taken = {s.class_id: dict(s.school_taken) for s in slots}
    last_in: dict[int, tuple[Decimal, int]] = {}  # class -> (score, lottery) of the last applicant given a seat

    applicants = sorted(applicants, key=lambda a: a.teacher_id)
    lottery = lottery_numbers((a.teacher_id for a in applicants), seed)
    order = sorted(applicants, key=lambda a: (-a.score, lottery[a.teacher_id]))
    position = {a.teacher_id: n for n, a in enumerate(order)}

    decided: dict[tuple[int, int], Decision] = {}  # (teacher, rank) -> decision
    got: dict[int, list[Slot]] = {a.teacher_id: [] for a in order}
    # (teacher, rank) -> why a class was passed over (full or capped: both only ever get worse)
    skipped: dict[tuple[int, int], Decision] = {}

    def decision(a: Applicant, rank: int, outcome: str, draft_round: int, **facts) -> Decision:
        return Decision(
            teacher_id=a.teacher_id,
            class_id=a.choices[rank - 1],
            rank=rank,
            outcome=outcome,
            score=a.score,
            lottery=lottery[a.teacher_id],
            draft_round=draft_round,
            position=position[a.teacher_id],
            **facts,
        )

    # Preferences that can never be met are settled up front.
    for a in order:
        seen: set[int] = set()
        for rank, cid in enumerate(a.choices, start=1):
            slot = by_id.get(cid)
            if slot is None or cid in seen:
                decided[(a.teacher_id, rank)] = decision(a, rank, Outcome.UNAVAILABLE, 0)
            elif any(slot.starts_on <= end and start <= slot.ends_on for start, end in a.busy):
                decided[(a.teacher_id, rank)] = decision(a, rank, Outcome.OVERLAP, 0)
            seen.add(cid)

    rounds = max((a.wanted for a in order), default=0)
    for draft_round in range(1, rounds + 1):
        for a in order:
            if len(got[a.teacher_id]) >= a.wanted or len(got[a.teacher_id]) < draft_round - 1:
                continue  # satisfied, or found nothing in an earlier round (nothing better appears later)
            for rank, cid in enumerate(a.choices, start=1):
                key = (a.teacher_id, rank)
                if key in decided:
                    continue
                slot = by_id[cid]
                if any(slot.overlaps(other) for other in got[a.teacher_id]):
                    decided[key] = decision(a, rank, Outcome.OVERLAP, draft_round)
                    continue
                if free[cid] <= 0:
                    cutoff_score, cutoff_lottery = last_in.get(cid, (None, None))
                    skipped[key] = decision(
                        a, rank, Outcome.FULL, draft_round, cutoff_score=cutoff_score, cutoff_lottery=cutoff_lottery
                    )
                    continue
                held = school_taken[cid].get(a.school_id, 0)
                if slot.school_limit is not None and held >= slot.school_limit:
                    skipped[key] = decision(
                        a, rank, Outcome.SCHOOL_CAP, draft_round, school_count=held, school_limit=slot.school_limit
                    )
                    continue
                free[cid] -= 1
                school_taken[cid][a.school_id] = held + 1
                last_in[cid] = (a.score, lottery[a.teacher_id])
                got[a.teacher_id].append(slot)
                decided[key] = decision(a, rank, Outcome.ALLOCATED, draft_round)
                break

    decisions: list[Decision] = []
    for a in order:
        for rank in range(1, len(a.choices) + 1):
            key = (a.teacher_id, rank)
            d = decided.get(key) or skipped.get(key)
            if d is None:
                d = decision(a, rank, Outcome.NOT_NEEDED, 0)
            elif d.outcome == Outcome.FULL:
                # Report the class's final cutoff: the last applicant who got a seat in it.
                cutoff_score, cutoff_lottery = last_in.get(d.class_id, (None, None))
                d = Decision(**{**asdict(d), "cutoff_score": cutoff_score, "cutoff_lottery": cutoff_lottery})
            decisions.append(d)
    return Result(seed=seed, decisions=decisions, order=[a.teacher_id for a in order])


def _plain(value):
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return value


def decisions_digest(decisions: Iterable[Decision]) -> str:
    """A stable fingerprint of the outcomes (what a re-run must reproduce)."""
    rows = sorted(
        (
            d.teacher_id,
            d.rank,
            d.class_id,
            d.outcome,
            _plain(d.cutoff_score),
            d.cutoff_lottery,
            d.school_count,
            d.lottery,
        )
        for d in decisions
    )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


# --- recorded inputs (what an allocation run stores so it can be recomputed) -------------------


def inputs_to_json(slots: Sequence[Slot], applicants: Sequence[Applicant]) -> dict:
    return {
        "slots": [
            {
                "id": s.class_id,
                "seats": s.seats,
                "starts_on": s.starts_on.isoformat(),
                "ends_on": s.ends_on.isoformat(),
                "school_limit": s.school_limit,
                "school_taken": {str(k): v for k, v in sorted(s.school_taken.items())},
            }
            for s in sorted(slots, key=lambda s: s.class_id)
        ],
        "applicants": [
            {
                "teacher": a.teacher_id,
                "school": a.school_id,
                "score": str(a.score),
                "choices": list(a.choices),
                "wanted": a.wanted,
                "busy": [[start.isoformat(), end.isoformat()] for start, end in a.busy],
            }
            for a in sorted(applicants, key=lambda a: a.teacher_id)
        ],
    }


def inputs_from_json(data: dict) -> tuple[list[Slot], list[Applicant]]:
    slots = [
        Slot(
            class_id=s["id"],
            seats=s["seats"],
            starts_on=date.fromisoformat(s["starts_on"]),
            ends_on=date.fromisoformat(s["ends_on"]),
            school_limit=s["school_limit"],
            school_taken={int(k): v for k, v in s["school_taken"].items()},
        )
        for s in data["slots"]
    ]
    applicants = [
        Applicant(
            teacher_id=a["teacher"],
            school_id=a["school"],
            score=Decimal(a["score"]),
            choices=tuple(a["choices"]),
            wanted=a["wanted"],
            busy=tuple((date.fromisoformat(s), date.fromisoformat(e)) for s, e in a["busy"]),
        )
        for a in data["applicants"]
    ]
    return slots, applicants


def inputs_digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def school_limit_for(capacity: int, share_percent: int | None) -> int | None:
    """Most seats one school may hold in a class of ``capacity`` under a share cap (at least 1)."""
    if share_percent is None:
        return None
    return max(1, capacity * share_percent // 100)


def neutral_score(teacher_ids: Iterable[int], term=None) -> dict[int, Decimal]:
    """The neutral priority score: everyone equal, so the lottery alone decides."""
    return {tid: Decimal("0") for tid in teacher_ids}
