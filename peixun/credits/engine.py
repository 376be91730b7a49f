"""The credit policy engine: plain Python over ledger entries and a parsed policy.

``standing(rules, entries, cycle=..., as_of=..., upcoming=...)`` returns per category
what was earned, what counts (after caps, weights and interchange), what is required and
missing, the projection at cycle end, and for every entry why it counted fully, partly
or not at all. It touches no database, so it is property-tested with hypothesis and is
fast enough to run per teacher in reports.

The sums follow one definition that the SQL report (``reports.py``) reproduces:

* a capped source (degree offsets, floor training) counts
  ``min(Σ_year min(year's sum, cap_per_year), cap_per_cycle)``;
* a category counts ``min(weight × (uncapped sum + capped sources), cap_per_cycle)``;
* categories in one interchange group fill each other's shortfall from their excess;
* the annual minimum compares each school year's credits (after weights and per-year
  source caps) with the minimum;
* the projection adds the pace of results and school-based credits so far (extrapolated
  to the cycle end) and the credits of confirmed upcoming classes.

Per-entry explanations allocate each category's counted total over its entries in date
order (negative adjustments first), so they add up to the category's figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .policy import Rules, category_label

ZERO = Decimal("0")
CENT = Decimal("0.01")
PACE_SOURCES = ("result", "schoolbased", "history")
MIN_PACE_FRACTION = Decimal("0.2")  # do not extrapolate from the first weeks of a cycle


def plain(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent: 10.0 -> "10", 1.50 -> "1.5"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Entry(NamedTuple):
    """One ledger entry as the engine sees it (a tuple: cheap to build from database rows)."""

    id: int
    category: str
    amount: Decimal
    earned_on: date
    source_type: str = "result"
    source_id: int = 0
    level: str = ""
    reverses_id: int | None = None
    project_id: int | None = None
    note: str = ""  # field order matches selectors.ENTRY_FIELDS

    @classmethod
    def from_model(cls, e: Any) -> Entry:
        return cls(
            id=e.pk,
            category=e.category,
            amount=e.amount,
            earned_on=e.earned_on,
            source_type=e.source_type,
            source_id=e.source_id,
            level=e.level,
            reverses_id=e.reverses_id,
            project_id=e.project_id,
            note=e.note,
        )


@dataclass
class Explanation:
    entry: Entry
    counted: Decimal
    status: str  # full / partial / none
    reasons: list[Msg] = field(default_factory=list)
    category: str = ""

    @property
    def status_label(self) -> str:
        return {"full": _("Counted in full"), "partial": _("Counted in part"), "none": _("Not counted")}[self.status]


@dataclass
class CategoryStanding:
    code: str
    label: str
    earned: Decimal = ZERO
    counted: Decimal = ZERO  # after caps and weights, before interchange
    required: Decimal = ZERO
    transferred_in: Decimal = ZERO  # filled from other categories' excess (interchange)
    transferred_out: Decimal = ZERO
    missing: Decimal = ZERO
    projected: Decimal = ZERO
    upcoming: Decimal = ZERO
    cap: Decimal | None = None
    separate: bool = False
    levels: dict[str, Decimal] = field(default_factory=dict)
    level_missing: dict[str, Decimal] = field(default_factory=dict)
    notes: list[Msg] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.missing <= 0

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 100
        return int(min(Decimal(100), (self.counted + self.transferred_in) * 100 / self.required))

    @property
    def projected_met(self) -> bool:
        return self.projected >= self.required and not any(v > 0 for v in self.level_missing.values())


@dataclass
class YearStanding:
    school_year: int
    credits: Decimal
    required: Decimal
    state: str  # done / current / future

    @property
    def missing(self) -> Decimal:
        return max(ZERO, self.required - self.credits)

    @property
    def label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1}"


@dataclass
class Standing:
    cycle: int
    cycle_start: date
    cycle_end: date
    as_of: date
    categories: list[CategoryStanding]
    explanations: list[Explanation]
    total: CategoryStanding | None
    years: list[YearStanding]
    compliant: bool
    projected_compliant: bool
    elapsed: Decimal
    exempt: bool = False

    @property
    def at_risk(self) -> bool:
        return not self.exempt and not self.compliant and not self.projected_compliant

    @property
    def cycle_label(self) -> str:
        return f"{self.cycle}–{self.cycle_end.year}"

    def category(self, code: str) -> CategoryStanding | None:
        return next((c for c in self.categories if c.code == code), None)

    @property
    def shortfall(self) -> Decimal:
        """Credits still missing toward the cycle's minimums (the fair-selection priority score)."""
        missing = sum((c.missing for c in self.categories if not c.separate), ZERO)
        if self.total is not None:
            missing = max(missing, self.total.missing)
        return missing


def elapsed_fraction(rules: Rules, cycle: int, as_of: date) -> Decimal:
    start, end = rules.cycle_bounds(cycle)
    span = (end - start).days + 1
    done = (as_of - start).days + 1
    fraction = Decimal(max(0, min(done, span))) / Decimal(span)
    return fraction.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def pace_factor(fraction: Decimal) -> Decimal:
    """How many more of 'credits so far' the rest of the cycle brings at the same pace."""
    if fraction >= 1:
        return ZERO
    fraction = max(fraction, MIN_PACE_FRACTION)
    return ((1 - fraction) / fraction).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _min(a: Decimal, b: Decimal | None) -> Decimal:
    return a if b is None else min(a, b)


# The engine's messages. Stored standings refer to them by position: only append here
# (or change Summary.VERSION so stored rows are recomputed rather than misread).
M_REVERSES = gettext_noop("Reverses entry #%(id)s; the two cancel out.")
M_REVERSED = gettext_noop("Reversed later; it no longer counts.")
M_OUTSIDE_CYCLE = gettext_noop("Earned outside this cycle.")
M_NO_CATEGORY = gettext_noop("The policy has no category “%(category)s”; it does not count.")
M_YEAR_CAP = gettext_noop("At most %(cap)s credits a school year from this source.")
M_CYCLE_CAP = gettext_noop("At most %(cap)s credits a cycle from this source.")
M_CATEGORY_WEIGHT = gettext_noop("Counts at %(pct)s%% of its credits.")
M_CATEGORY_CAPPED = gettext_noop("Capped at %(cap)s credits a cycle.")
M_FILLED = gettext_noop("%(credits)s credits filled from the excess of %(category)s.")
M_NOT_INTERCHANGEABLE = gettext_noop(
    "The excess over the minimum does not count toward %(others)s (not interchangeable)."
)
M_SEPARATE = gettext_noop("Kept apart from the cycle; it has its own requirement.")
M_CAP_REACHED = gettext_noop("The category's cap of %(cap)s credits is reached.")
M_ENTRY_WEIGHT = gettext_noop("Counts at %(pct)s%%.")
M_COUNTS_TOWARD = gettext_noop("Counts toward %(category)s.")
MESSAGES = (
    M_REVERSES,
    M_REVERSED,
    M_OUTSIDE_CYCLE,
    M_NO_CATEGORY,
    M_YEAR_CAP,
    M_CYCLE_CAP,
    M_CATEGORY_WEIGHT,
    M_CATEGORY_CAPPED,
    M_FILLED,
    M_NOT_INTERCHANGEABLE,
    M_SEPARATE,
    M_CAP_REACHED,
    M_ENTRY_WEIGHT,
    M_COUNTS_TOWARD,
)
MESSAGE_INDEX = {text: i for i, text in enumerate(MESSAGES)}


@dataclass(frozen=True)
class Msg:
    """A message of the engine, translated when shown (so a stored standing reads in any language).

    ``params`` holds (name, value) pairs; a value ``("cat", code)`` is a category label and
    ``("cats", codes)`` a list of them, both resolved at display time.
    """

    text: str
    params: tuple = ()

    def __str__(self) -> str:
        values = {}
        for name, value in self.params:
            if isinstance(value, tuple) and value[0] == "cat":
                value = category_label(value[1])
            elif isinstance(value, tuple) and value[0] == "cats":
                value = "、".join(category_label(c) for c in value[1])
            values[name] = value
        return _(self.text) % values

    def __html__(self) -> str:
        from django.utils.html import escape

        return escape(str(self))

    def to_json(self) -> list:
        return [
            MESSAGE_INDEX[self.text],
            *(x for k, v in self.params for x in (k, list(v) if isinstance(v, tuple) else v)),
        ]

    @classmethod
    def from_json(cls, data: list) -> Msg:
        if len(data) == 1:
            return cls(MESSAGES[data[0]])
        it = iter(data[1:])
        params = tuple(
            (k, (v[0], tuple(v[1]) if v[0] == "cats" else v[1]) if isinstance(v, list) else v) for k, v in zip(it, it)
        )
        return cls(MESSAGES[data[0]], params)


def msg(text: str, **params) -> Msg:
    return Msg(text, tuple((k, v if isinstance(v, tuple) else str(v)) for k, v in params.items()))


@dataclass
class Summary:
    """What a standing is before the date it is read on: earned, counted after caps, weights and
    interchange, missing, the pace so far, each school year's credits and every entry's
    explanation. ``standing`` = ``finish(summarize(...))``; the stored per-teacher row
    (``models.TeacherStanding``) holds this, so the date-dependent rest runs at read time."""

    cycle: int
    probation: bool
    categories: list[CategoryStanding]
    pace: dict[str, Decimal]
    years: dict[int, Decimal]
    entries: list[Entry]
    explanations: list[Explanation]

    VERSION = 3  # of the stored form (``to_json``); rows of another version are not read

    def to_json(self) -> dict:
        # Messages once each (most entries share one), referred to by position.
        msgs: list[list] = []
        seen: dict[Msg, int] = {}

        def ref(m: Msg) -> int:
            if m not in seen:
                seen[m] = len(msgs)
                msgs.append(m.to_json())
            return seen[m]

        return {
            "v": self.VERSION,
            "cycle": self.cycle,
            "probation": self.probation,
            "cats": [
                [
                    c.code,
                    str(c.earned),
                    str(c.counted),
                    str(c.required),
                    str(c.transferred_in),
                    str(c.transferred_out),
                    str(c.missing),
                    {k: str(v) for k, v in c.levels.items()},
                    {k: str(v) for k, v in c.level_missing.items()},
                    [ref(n) for n in c.notes],
                ]
                for c in self.categories
            ],
            "pace": {k: str(v) for k, v in self.pace.items()},
            "years": {str(k): str(v) for k, v in self.years.items()},
            "entries": [
                [
                    e.id,
                    e.category,
                    str(e.amount),
                    e.earned_on.isoformat(),
                    e.source_type,
                    e.source_id,
                    e.level,
                    e.reverses_id,
                    e.project_id,
                    e.note,
                ]
                for e in self.entries
            ],
            "expl": [[str(x.counted), x.status, x.category, [ref(r) for r in x.reasons]] for x in self.explanations],
            "msgs": msgs,
        }

    @classmethod
    def from_json(cls, rules: Rules, data: dict) -> Summary:
        cats = {c.code: c for c in rules.categories}
        msgs = [Msg.from_json(m) for m in data["msgs"]]
        categories = []
        for code, earned, counted, required, t_in, t_out, missing, levels, level_missing, notes in data["cats"]:
            rule = cats[code]
            categories.append(
                CategoryStanding(
                    code=code,
                    label=rule.label,
                    earned=Decimal(earned),
                    counted=Decimal(counted),
                    required=Decimal(required),
                    transferred_in=Decimal(t_in),
                    transferred_out=Decimal(t_out),
                    missing=Decimal(missing),
                    cap=rule.cap_per_cycle,
                    separate=rule.separate,
                    levels={k: Decimal(v) for k, v in levels.items()},
                    level_missing={k: Decimal(v) for k, v in level_missing.items()},
                    notes=[msgs[n] for n in notes],
                )
            )
        entries = [
            Entry(i, cat, Decimal(amount), date.fromisoformat(day), src, sid, level, rev, project, note)
            for i, cat, amount, day, src, sid, level, rev, project, note in data["entries"]
        ]
        explanations = [
            Explanation(e, Decimal(counted), status, [msgs[r] for r in reasons], category)
            for e, (counted, status, category, reasons) in zip(entries, data["expl"], strict=True)
        ]
        return cls(
            cycle=data["cycle"],
            probation=data["probation"],
            categories=categories,
            pace={k: Decimal(v) for k, v in data["pace"].items()},
            years={int(k): Decimal(v) for k, v in data["years"].items()},
            entries=entries,
            explanations=explanations,
        )


def standing(
    rules: Rules,
    entries: Iterable[Entry],
    *,
    cycle: int | None = None,
    as_of: date,
    upcoming: Iterable[tuple[date, str, Decimal]] = (),
    exempt: bool = False,
    explain: bool = True,
    probation: bool = False,
) -> Standing:
    """The teacher's standing in ``cycle`` (default: the cycle containing ``as_of``).

    ``upcoming`` holds (date, category, credits) of confirmed classes not yet credited;
    ``upcoming_from_projects`` turns (date, project) pairs into that form. Categories kept
    apart from the cycle (probation credits) are required only of teachers in ``probation``.
    """
    cycle = rules.cycle_of(as_of) if cycle is None else cycle
    summary = summarize(rules, entries, cycle=cycle, explain=explain, probation=probation)
    return finish(rules, summary, as_of=as_of, upcoming=upcoming, exempt=exempt)


def summarize(
    rules: Rules, entries: Iterable[Entry], *, cycle: int, explain: bool = True, probation: bool = False
) -> Summary:
    """Everything of a standing that does not depend on the date it is read on (see ``Summary``)."""
    start, end = rules.cycle_bounds(cycle)
    entries = sorted(entries, key=lambda e: (e.earned_on, e.id))
    by_id = {e.id: e for e in entries}
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
    cats = {c.code: c for c in rules.categories}
    explanations: dict[int, Explanation] = {}

    # 1. Live entries of this cycle, by effective category.
    live: dict[str, list[Entry]] = defaultdict(list)
    earned: dict[str, Decimal] = defaultdict(lambda: ZERO)
    levels: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for e in entries:
        code = rules.effective_category(e.category)
        in_cycle = start <= e.earned_on <= end
        if e.reverses_id is not None:
            original = by_id.get(e.reverses_id)
            explanations[e.id] = Explanation(
                e,
                ZERO,
                "none",
                [msg(M_REVERSES, id=e.reverses_id)],
                code,
            )
            if original is None and in_cycle and code in cats:
                earned[code] += e.amount  # reverses an entry of another cycle: keep sums honest
            continue
        if e.id in reversed_ids:
            explanations[e.id] = Explanation(e, ZERO, "none", [msg(M_REVERSED)], code)
            continue
        if not in_cycle:
            explanations[e.id] = Explanation(e, ZERO, "none", [msg(M_OUTSIDE_CYCLE)], code)
            continue
        if code not in cats:
            explanations[e.id] = Explanation(
                e,
                ZERO,
                "none",
                [
                    msg(
                        M_NO_CATEGORY,
                        category=("cat", e.category),
                    )
                ],
                code,
            )
            continue
        live[code].append(e)
        earned[code] += e.amount
        levels[code][e.level] += e.amount

    # 2. Per-entry values after source caps (per school year, then per cycle).
    value: dict[int, Decimal] = {}
    reasons: dict[int, list[Msg]] = defaultdict(list)
    year_value: dict[int, Decimal] = defaultdict(lambda: ZERO)  # school year -> credits for the annual minimum
    pace: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for code, items in live.items():
        rule = cats[code]
        used_cycle: dict[str, Decimal] = defaultdict(lambda: ZERO)
        used_year: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        for e in items:
            cap = rules.sources.get(e.source_type)
            amount = e.amount
            year = rules.school_year_of(e.earned_on)
            if cap is not None and cap.category == code and amount > 0:
                allowed = amount
                if cap.cap_per_year is not None:
                    left = max(ZERO, cap.cap_per_year - used_year[(e.source_type, year)])
                    if left < allowed:
                        reasons[e.id].append(msg(M_YEAR_CAP, cap=cap.cap_per_year))
                    allowed = min(allowed, left)
                    used_year[(e.source_type, year)] += allowed
                year_part = allowed
                if cap.cap_per_cycle is not None:
                    left = max(ZERO, cap.cap_per_cycle - used_cycle[e.source_type])
                    if left < allowed:
                        reasons[e.id].append(msg(M_CYCLE_CAP, cap=cap.cap_per_cycle))
                    allowed = min(allowed, left)
                    used_cycle[e.source_type] += allowed
                value[e.id] = allowed
                if not rule.separate:
                    year_value[year] += year_part * rule.weight
            else:
                value[e.id] = amount
                if not rule.separate:
                    year_value[year] += amount * rule.weight
            if e.source_type in PACE_SOURCES:
                pace[code] += e.amount

    # 3. Category totals: weight, then the category's cap; explanations allocate the total.
    results: list[CategoryStanding] = []
    for rule in rules.categories:
        items = live.get(rule.code, [])
        raw = sum((value[e.id] for e in items), ZERO)
        weighted = raw * rule.weight
        counted = q2(_min(weighted, rule.cap_per_cycle))
        cs = CategoryStanding(
            code=rule.code,
            label=rule.label,
            earned=q2(earned.get(rule.code, ZERO)),
            counted=counted,
            required=rule.minimum if (probation or not rule.separate) else ZERO,
            cap=rule.cap_per_cycle,
            separate=rule.separate,
            levels={k: q2(v) for k, v in levels.get(rule.code, {}).items()},
        )
        if rule.weight != 1:
            cs.notes.append(msg(M_CATEGORY_WEIGHT, pct=plain(q2(rule.weight * 100))))
        if rule.cap_per_cycle is not None and weighted > rule.cap_per_cycle:
            cs.notes.append(msg(M_CATEGORY_CAPPED, cap=rule.cap_per_cycle))
        if not rule.levels_interchangeable and cs.required > 0:
            for level, minimum in rule.level_minimums.items():
                have = levels.get(rule.code, {}).get(level, ZERO) * rule.weight
                if have < minimum:
                    cs.level_missing[level] = q2(minimum - have)
        results.append(cs)
        if explain:
            _allocate(items, value, reasons, rule, counted, explanations)

    # 4. Interchange inside groups; missing per category.
    by_code = {c.code: c for c in results}
    for cs in results:
        cs.missing = max(ZERO, cs.required - cs.counted)
    for group in rules.interchange:
        members = [by_code[c] for c in group if c in by_code]
        for short in members:
            for donor in members:
                if short.missing <= 0:
                    break
                if donor is short:
                    continue
                excess = donor.counted - donor.transferred_out - donor.required
                if excess <= 0:
                    continue
                moved = min(excess, short.missing)
                donor.transferred_out += moved
                short.transferred_in += moved
                short.missing -= moved
                short.notes.append(
                    msg(
                        M_FILLED,
                        credits=moved,
                        category=("cat", donor.code),
                    )
                )
    for cs in results:
        level_gap = sum(cs.level_missing.values(), ZERO)
        cs.missing = q2(max(cs.missing, level_gap))
        rule = cats[cs.code]
        if cs.counted > cs.required and cs.required > 0 and not any(cs.code in g for g in rules.interchange):
            others = tuple(c.code for c in results if c.code != cs.code and not c.separate)
            if others:
                cs.notes.append(
                    msg(
                        M_NOT_INTERCHANGEABLE,
                        others=("cats", others),
                    )
                )
        if rule.separate:
            cs.notes.append(msg(M_SEPARATE))
    return Summary(
        cycle=cycle,
        probation=probation,
        categories=results,
        pace=dict(pace),
        years=dict(year_value),
        entries=entries,
        explanations=[explanations[e.id] for e in entries if e.id in explanations] if explain else [],
    )


def finish(
    rules: Rules,
    summary: Summary,
    *,
    as_of: date,
    upcoming: Iterable[tuple[date, str, Decimal]] = (),
    exempt: bool = False,
) -> Standing:
    """The date-dependent rest of a standing: the projection at cycle end (pace so far and
    confirmed upcoming classes), the total, the annual minimums and compliance on ``as_of``."""
    cycle = summary.cycle
    start, end = rules.cycle_bounds(cycle)
    cats = {c.code: c for c in rules.categories}
    fraction = elapsed_fraction(rules, cycle, as_of)
    factor = pace_factor(fraction)
    upcoming_by_cat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for day, category, credits in upcoming:
        code = rules.effective_category(category)
        if code in cats and start <= day <= end:
            upcoming_by_cat[code] += credits
    results = summary.categories
    for cs in results:
        rule = cats[cs.code]
        cs.upcoming = q2(upcoming_by_cat.get(cs.code, ZERO) * rule.weight)
        projected = cs.counted + summary.pace.get(cs.code, ZERO) * rule.weight * factor + cs.upcoming
        cs.projected = q2(_min(projected, rule.cap_per_cycle))
    # Projection with interchange: a group's projected excess fills its members.
    by_code = {c.code: c for c in results}
    for group in rules.interchange:
        members = [by_code[c] for c in group if c in by_code]
        pool = sum((max(ZERO, m.projected - m.required) for m in members), ZERO)
        for m in members:
            gap = max(ZERO, m.required - m.projected)
            moved = min(gap, pool)
            m.projected += moved
            pool -= moved

    # Total and annual minimums.
    cycle_cats = [c for c in results if not c.separate]
    total = None
    if rules.total_minimum is not None:
        total_counted = sum((c.counted for c in cycle_cats), ZERO)
        total = CategoryStanding(
            code="total",
            label=_("Total for the cycle"),
            earned=sum((c.earned for c in cycle_cats), ZERO),
            counted=total_counted,
            required=rules.total_minimum,
            missing=max(ZERO, rules.total_minimum - total_counted),
            projected=sum((c.projected for c in cycle_cats), ZERO),
            upcoming=sum((c.upcoming for c in cycle_cats), ZERO),
        )
    current_year = rules.school_year_of(as_of)
    years: list[YearStanding] = []
    if rules.annual_minimum is not None:
        for year in rules.cycle_years(cycle):
            if date(year + 1, 8, 31) <= as_of:
                state = "done"
            else:
                state = "current" if year == current_year else "future"
            years.append(YearStanding(year, q2(summary.years.get(year, ZERO)), rules.annual_minimum, state))
    years_ok = all(y.missing <= 0 for y in years if y.state == "done")
    compliant = (
        all(c.missing <= 0 for c in cycle_cats)
        and (total is None or total.missing <= 0)
        and (years_ok if as_of < end else all(y.missing <= 0 for y in years))
    )
    projected_ok = (
        years_ok and all(c.projected_met for c in cycle_cats) and (total is None or total.projected >= total.required)
    )
    return Standing(
        cycle=cycle,
        cycle_start=start,
        cycle_end=end,
        as_of=as_of,
        categories=results,
        explanations=summary.explanations,
        total=total,
        years=years,
        compliant=compliant,
        projected_compliant=compliant or projected_ok,
        elapsed=fraction,
        exempt=exempt,
    )


def _allocate(items, value, reasons, rule, counted, explanations) -> None:
    """Spread a category's counted total over its entries (negatives first, then by date)."""
    remaining = counted
    order = sorted(items, key=lambda e: (value[e.id] >= 0, e.earned_on, e.id))
    for e in order:
        share = q2(value[e.id] * rule.weight)
        notes = list(reasons.get(e.id, []))
        if share >= 0:
            take = max(ZERO, min(share, remaining))
        else:
            take = share
        if take < share and rule.cap_per_cycle is not None and share > 0:
            notes.append(msg(M_CAP_REACHED, cap=rule.cap_per_cycle))
        if rule.weight != 1:
            notes.append(msg(M_ENTRY_WEIGHT, pct=plain(q2(rule.weight * 100))))
        remaining -= take
        if take == e.amount:
            status = "full"
        elif take == 0 and e.amount != 0:
            status = "none"
        else:
            status = "partial"
        if not notes:
            notes.append(msg(M_COUNTS_TOWARD, category=("cat", rule.code)))
        explanations[e.id] = Explanation(e, take, status, notes, rule.code)


# --- conversion -------------------------------------------------------------------------


def hours_per_credit(rules: Rules, category: str, level: str, fmt: str) -> Decimal:
    """学时 per credit for (category, level, format) under ``rules``: the most specific rule wins."""
    category = rules.effective_category(category)
    for rule in rules.conversion:  # most specific first
        if rule.category and rule.category != category:
            continue
        if rule.level and rule.level != level:
            continue
        if rule.format and rule.format != fmt:
            continue
        return rule.hours_per_credit
    raise LookupError("the policy has no default conversion rule")


def convert_parts(
    rules: Rules, *, category: str, level: str, hours_offline: Decimal, hours_online: Decimal
) -> tuple[Decimal, Decimal]:
    """(offline credits, online credits) before any share limit: offline hours at the
    face-to-face rate, online hours at the online rate, each rounded down to the policy's step."""
    step = rules.step
    offline = Decimal(hours_offline or 0) / hours_per_credit(rules, category, level, "face")
    online = Decimal(hours_online or 0) / hours_per_credit(rules, category, level, "online")
    return offline.quantize(step, rounding=ROUND_DOWN), online.quantize(step, rounding=ROUND_DOWN)


def convert_hours(
    rules: Rules, *, category: str, level: str, fmt: str, hours_offline: Decimal, hours_online: Decimal
) -> tuple[Decimal, Decimal]:
    """(credits, of which online) for a project of these attributes under ``rules``.

    Offline hours convert at the face-to-face rate, online hours at the online rate; in a
    blended project online credits are limited to ``online_share_max`` of the project's
    credits. Rounded down to the policy's step.
    """
    step = rules.step
    offline, online = convert_parts(
        rules, category=category, level=level, hours_offline=hours_offline, hours_online=hours_online
    )
    if fmt == "blended" and rules.online_share_max is not None and rules.online_share_max < 1:
        share = rules.online_share_max
        limit = (offline * share / (1 - share)).quantize(step, rounding=ROUND_DOWN)
        online = min(online, limit)
    return q2(offline + online), q2(online)


def convert_project(project, policy=None) -> tuple[Decimal, Decimal]:
    """The credits a project gives under the active policy (or ``policy``): (credits, of which online)."""
    from .selectors import active_rules, rules_for

    rules = active_rules() if policy is None else rules_for(policy)
    return convert_hours(
        rules,
        category=project.credit_category,
        level=project.credit_level or project.level,
        fmt=project.format,
        hours_offline=project.hours_offline,
        hours_online=project.hours_online,
    )


def upcoming_from_projects(rules: Rules, items: Iterable[tuple[date, Any]]) -> list[tuple[date, str, Decimal]]:
    """Turn (date, project) pairs of confirmed upcoming classes into (date, category, credits)."""
    out = []
    for day, project in items:
        credits, _online = convert_hours(
            rules,
            category=project.credit_category,
            level=project.credit_level or project.level,
            fmt=project.format,
            hours_offline=project.hours_offline,
            hours_online=project.hours_online,
        )
        out.append((day, project.credit_category, credits))
    return out
