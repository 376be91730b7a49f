"""The policy engine: properties (hypothesis) and the FAQ's answers as scenarios (pure Python, no database)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peixun.credits import engine
from peixun.credits.engine import Entry, convert_hours, standing
from peixun.credits.policy import Rules, preset_data

D = Decimal
A = Rules.from_data(preset_data("A"))
B = Rules.from_data(preset_data("B"))
AS_OF = date(2026, 11, 25)  # cycle 2023-09-01 .. 2028-08-31 under both presets
CYCLE_START = date(2023, 9, 1)
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CATEGORIES = ["tongchou", "zizhu", "centralised", "school_based", "principal_qual", "probation", "unknown"]
SOURCES = ["result", "schoolbased", "degree", "floor", "adjustment"]


@st.composite
def ledgers(draw, max_size=25):
    n = draw(st.integers(0, max_size))
    entries = []
    for i in range(1, n + 1):
        source = draw(st.sampled_from(SOURCES))
        low = -5 if source == "adjustment" else 0
        amount = D(draw(st.integers(low * 10, 200))) / 10
        entries.append(
            Entry(
                id=i,
                category=draw(st.sampled_from(CATEGORIES)),
                level=draw(st.sampled_from(["", "national", "provincial", "county", "practical"])),
                amount=amount,
                earned_on=CYCLE_START + timedelta(days=draw(st.integers(-200, 5 * 365 + 100))),
                source_type=source,
                source_id=i,
            )
        )
    # Reverse some of them.
    reversals = []
    for e in entries:
        if draw(st.booleans()) and draw(st.booleans()):
            reversals.append(
                Entry(
                    id=1000 + e.id,
                    category=e.category,
                    level=e.level,
                    amount=-e.amount,
                    earned_on=e.earned_on,
                    source_type=e.source_type,
                    source_id=e.source_id,
                    reverses_id=e.id,
                )
            )
    return entries + reversals


def counted_by_source(result, source_type, category):
    """What counts from one source type in the category its cap applies to."""
    return sum(
        (
            x.counted
            for x in result.explanations
            if x.entry.source_type == source_type and x.category == category and x.counted > 0
        ),
        D(0),
    )


@PROFILE
@given(ledgers(), st.sampled_from([A, B]), st.dates(date(2023, 9, 1), date(2029, 1, 1)))
def test_no_category_counts_more_than_its_cap(entries, rules, as_of):
    result = standing(rules, entries, cycle=2023, as_of=as_of)
    for c in result.categories:
        if c.cap is not None:
            assert c.counted <= c.cap
    for source, cap in rules.sources.items():
        if cap.cap_per_cycle is not None:
            assert counted_by_source(result, source, cap.category) <= cap.cap_per_cycle
        if cap.cap_per_year is not None:
            for year in rules.cycle_years(2023):
                in_year = sum(
                    (
                        x.counted
                        for x in result.explanations
                        if x.entry.source_type == source
                        and x.category == cap.category
                        and rules.school_year_of(x.entry.earned_on) == year
                        and x.counted > 0
                    ),
                    D(0),
                )
                assert in_year <= cap.cap_per_year


@PROFILE
@given(ledgers(), ledgers())
def test_interchange_never_crosses_tongchou_and_zizhu_in_preset_a(base, extra):
    """Adding any 自主 credits never changes what counts toward 统筹, and vice versa."""
    tongchou_only = [e for e in base if A.effective_category(e.category) == "tongchou"]
    zizhu_extra = [
        Entry(id=5000 + e.id, category="zizhu", amount=abs(e.amount), earned_on=e.earned_on, source_type="schoolbased")
        for e in extra
        if e.reverses_id is None
    ]
    alone = standing(A, tongchou_only, cycle=2023, as_of=AS_OF)
    together = standing(A, tongchou_only + zizhu_extra, cycle=2023, as_of=AS_OF)
    assert together.category("tongchou").counted == alone.category("tongchou").counted
    assert together.category("tongchou").missing == alone.category("tongchou").missing
    assert together.category("tongchou").transferred_in == 0
    zizhu_alone = standing(A, zizhu_extra, cycle=2023, as_of=AS_OF)
    assert together.category("zizhu").missing == zizhu_alone.category("zizhu").missing


def _figures(result):
    return [(c.code, c.counted, c.missing, c.projected) for c in result.categories], result.compliant


@PROFILE
@given(ledgers(), st.data())
def test_reverse_then_repost_is_idempotent(entries, data):
    live = [e for e in entries if e.reverses_id is None and e.id not in {x.reverses_id for x in entries}]
    if not live:
        return
    victim = data.draw(st.sampled_from(live))
    for rules in (A, B):
        before = standing(rules, entries, cycle=2023, as_of=AS_OF)
        reversal = Entry(
            id=9000,
            category=victim.category,
            level=victim.level,
            amount=-victim.amount,
            earned_on=victim.earned_on,
            source_type=victim.source_type,
            source_id=victim.source_id,
            reverses_id=victim.id,
        )
        repost = Entry(
            id=9001,
            category=victim.category,
            level=victim.level,
            amount=victim.amount,
            earned_on=victim.earned_on,
            source_type=victim.source_type,
            source_id=victim.source_id,
        )
        after = standing(rules, [*entries, reversal, repost], cycle=2023, as_of=AS_OF)
        assert _figures(after) == _figures(before)


@PROFILE
@given(ledgers(), st.sampled_from([A, B]))
def test_sums_equal_the_ledger(entries, rules):
    result = standing(rules, entries, cycle=2023, as_of=AS_OF)
    start, end = rules.cycle_bounds(2023)
    known = {c.code for c in rules.categories}
    expected = sum(
        (e.amount for e in entries if start <= e.earned_on <= end and rules.effective_category(e.category) in known),
        D(0),
    )
    assert sum((c.earned for c in result.categories), D(0)) == expected
    # Explanations add up to what each category counts (weight 1 categories: exactly).
    for c in result.categories:
        if rules.category(c.code).weight == 1:
            assert sum((x.counted for x in result.explanations if x.category == c.code), D(0)) == c.counted
    # Every entry is explained exactly once.
    assert sorted(x.entry.id for x in result.explanations) == sorted(e.id for e in entries)


@PROFILE
@given(ledgers(), st.sampled_from([A, B]))
def test_totals_grain_gives_the_same_figures(entries, rules):
    """Reports compute from per-(school year, category, level, source) totals: same figures as from entries."""
    from collections import defaultdict

    grouped = defaultdict(D)
    for e in entries:
        grouped[(rules.school_year_of(e.earned_on), e.category, e.level, e.source_type)] += e.amount
    pseudo = [
        Entry(id=i, category=cat, level=level, amount=amount, earned_on=date(year, 9, 1), source_type=source)
        for i, ((year, cat, level, source), amount) in enumerate(grouped.items(), start=1)
    ]
    full = standing(rules, entries, cycle=2023, as_of=AS_OF)
    fast = standing(rules, pseudo, cycle=2023, as_of=AS_OF, explain=False)
    assert _figures(full) == _figures(fast)


@PROFILE
@given(ledgers(), st.sampled_from([A, B]), st.dates(date(2023, 9, 1), date(2029, 1, 1)), st.booleans())
def test_stored_summary_gives_the_same_standing(entries, rules, as_of, probation):
    """The teacher's page reads the stored summary (through JSON) and finishes it on the day it is read:
    every figure, explanation and message is the same as computing from the entries."""
    import json

    from django.utils.translation import override

    direct = standing(rules, entries, cycle=2023, as_of=as_of, probation=probation)
    stored = json.loads(json.dumps(engine.summarize(rules, entries, cycle=2023, probation=probation).to_json()))
    read = engine.finish(rules, engine.Summary.from_json(rules, stored), as_of=as_of)
    assert _figures(read) == _figures(direct)
    assert (read.compliant, read.projected_compliant, read.elapsed) == (
        direct.compliant,
        direct.projected_compliant,
        direct.elapsed,
    )
    assert [(y.school_year, y.credits, y.state) for y in read.years] == [
        (y.school_year, y.credits, y.state) for y in direct.years
    ]
    for language in ("zh-hans", "en"):
        with override(language):
            assert [
                (x.entry, x.counted, x.status, x.category, [str(r) for r in x.reasons]) for x in read.explanations
            ] == [(x.entry, x.counted, x.status, x.category, [str(r) for r in x.reasons]) for x in direct.explanations]
            assert [
                (c.label, c.transferred_in, c.level_missing, c.projected, [str(n) for n in c.notes])
                for c in read.categories
            ] == [
                (c.label, c.transferred_in, c.level_missing, c.projected, [str(n) for n in c.notes])
                for c in direct.categories
            ]


# --- the FAQ's answers ----------------------------------------------------------------------


def e(i, category, amount, day, source="result", level=""):
    return Entry(
        id=i, category=category, amount=D(str(amount)), earned_on=day, source_type=source, level=level, source_id=i
    )


def test_faq_q2_levels_interchangeable_inside_tongchou_but_not_with_zizhu():
    # 26 统筹 credits all from county-level projects: the levels are interchangeable.
    result = standing(A, [e(i, "tongchou", 2, date(2024, 3, i + 1), level="county") for i in range(13)], as_of=AS_OF)
    assert result.category("tongchou").missing == 0
    assert result.category("tongchou").levels == {"county": D("26.00")}
    # 40 自主 credits never fill 统筹.
    result = standing(A, [e(1, "zizhu", 40, date(2024, 3, 1), "schoolbased")], as_of=AS_OF)
    assert result.category("zizhu").counted == D("40.00")
    assert result.category("tongchou").missing == D("26.00")
    assert any("不能" in str(n) or "not count toward" in str(n) for n in result.category("zizhu").notes)
    assert not result.compliant


def test_faq_q11_q12_floor_training_caps():
    entries = [e(i, "tongchou", 2, date(2023 + i, 11, 1), "floor") for i in range(5)]  # 2 a year, 5 years
    entries.append(e(9, "tongchou", 1, date(2024, 12, 1), "floor"))  # a second programme in one year
    result = standing(A, entries, as_of=date(2028, 8, 31))
    assert result.category("tongchou").counted == D("7.50")
    by_id = {x.entry.id: x for x in result.explanations}
    assert by_id[0].counted == D("1.5") and by_id[0].status == "partial"
    assert by_id[9].counted == 0 and by_id[9].status == "none"


def test_faq_q12_floor_plus_15_still_leaves_a_gap():
    entries = [e(1, "tongchou", 15, date(2024, 5, 1))] + [
        e(10 + i, "tongchou", 1.5, date(2023 + i, 11, 1), "floor") for i in range(5)
    ]
    result = standing(A, entries, as_of=date(2028, 8, 31))
    assert result.category("tongchou").counted == D("22.50")
    assert result.category("tongchou").missing == D("3.50")


def test_faq_q13_projects_alone_reach_26_without_all_staff_training():
    entries = [
        e(1, "tongchou", 10, date(2024, 5, 1), level="national"),
        e(2, "tongchou", 10, date(2025, 5, 1), level="provincial"),
        e(3, "tongchou", 6, date(2026, 5, 1), level="city"),
        e(4, "zizhu", 10, date(2026, 6, 1), "schoolbased"),
    ]
    result = standing(A, entries, as_of=AS_OF)
    assert result.compliant and not result.at_risk
    assert result.category("tongchou").levels == {"national": D("10.00"), "provincial": D("10.00"), "city": D("6.00")}


def test_faq_q16_credits_of_different_projects_add_up():
    entries = [
        e(1, "tongchou", 4, date(2024, 5, 1), level="national"),
        e(2, "tongchou", 3, date(2024, 5, 20), level="county"),
    ]
    result = standing(A, entries, as_of=AS_OF)
    assert result.category("tongchou").counted == D("7.00")
    assert all(x.status == "full" for x in result.explanations)


def test_faq_q5_degree_offsets_share_eight():
    entries = [e(1, "tongchou", 8, date(2024, 5, 1), "degree"), e(2, "tongchou", 6, date(2025, 5, 1), "degree")]
    result = standing(A, entries, as_of=AS_OF)
    assert result.category("tongchou").counted == D("8.00")
    assert result.explanations[1].status == "none"


def test_faq_q9_each_item_is_one_credit():
    entries = [
        e(1, "zizhu", 1, date(2024, 6, 1), "schoolbased", "item"),
        e(2, "zizhu", 1, date(2024, 6, 2), "schoolbased", "item"),
    ]
    assert standing(A, entries, as_of=AS_OF).category("zizhu").counted == D("2.00")


def test_exempt_flag_keeps_credits_visible():
    result = standing(A, [e(1, "tongchou", 4, date(2024, 5, 1))], as_of=AS_OF, exempt=True)
    assert result.category("tongchou").counted == D("4.00") and not result.at_risk


def test_projection_uses_pace_and_upcoming_classes():
    entries = [e(1, "tongchou", 10, date(2024, 5, 1))]
    plain = standing(A, entries, as_of=AS_OF)
    assert plain.category("tongchou").projected > D("10")
    with_class = standing(A, entries, as_of=AS_OF, upcoming=[(date(2027, 5, 1), "tongchou", D("4"))])
    assert with_class.category("tongchou").upcoming == D("4.00")
    assert with_class.category("tongchou").projected == plain.category("tongchou").projected + 4


def test_preset_b_total_annual_and_caps():
    entries = [e(i, "centralised", 30, date(2023 + i, 10, 1)) for i in range(5)]  # 150 centralised, 30 a year
    entries += [e(10 + i, "school_based", 50, date(2023 + i, 11, 1), "schoolbased") for i in range(5)]  # 250 -> 150
    entries.append(e(20, "principal_qual", 100, date(2025, 1, 1)))  # counts at 50%
    result = standing(B, entries, as_of=date(2028, 8, 31))
    assert result.category("school_based").counted == D("150.00")
    assert result.category("principal_qual").counted == D("50.00")
    assert result.total.counted == D("350.00") and result.total.missing == D("10.00")
    assert all(y.missing == 0 for y in result.years)
    assert not result.compliant


def test_preset_b_annual_minimum():
    entries = [e(i, "centralised", 100, date(2023 + i, 10, 1)) for i in range(4)]  # nothing in the last year
    result = standing(B, entries, as_of=date(2028, 8, 31))
    assert result.total.missing == 0
    assert [y.missing for y in result.years] == [0, 0, 0, 0, D("24")]
    assert not result.compliant


def test_preset_b_probation_kept_apart():
    entries = [e(1, "probation", 100, date(2024, 1, 1), level="practical"), e(2, "centralised", 90, date(2024, 2, 1))]
    result = standing(B, entries, as_of=AS_OF, probation=True)
    assert result.total.counted == D("90.00")
    probation = result.category("probation")
    assert probation.separate and probation.missing == D("80.00")
    not_new = standing(B, entries, as_of=AS_OF)
    assert not_new.category("probation").required == 0


def test_interchange_group_fills_shortfall_when_the_policy_allows_it():
    data = preset_data("A")
    data["interchange"] = [["tongchou", "zizhu"]]
    rules = Rules.from_data(data)
    result = standing(
        rules, [e(1, "tongchou", 20, date(2024, 1, 1)), e(2, "zizhu", 16, date(2024, 2, 1), "schoolbased")], as_of=AS_OF
    )
    assert result.category("tongchou").missing == 0 and result.category("tongchou").transferred_in == D("6")
    assert result.compliant


@pytest.mark.parametrize(
    ("rules", "fmt", "offline", "online", "expected"),
    [
        (A, "face", 40, 0, (D("4.00"), D("0.00"))),
        (A, "blended", 40, 30, (D("7.00"), D("3.00"))),
        (B, "face", 90, 0, (D("90.00"), D("0.00"))),
        (B, "blended", 60, 40, (D("85.70"), D("25.70"))),  # online ≤ 30% of the project's credits
        (B, "online", 0, 24, (D("24.00"), D("24.00"))),
    ],
)
def test_conversion(rules, fmt, offline, online, expected):
    credits, of_online = convert_hours(
        rules, category="tongchou", level="provincial", fmt=fmt, hours_offline=D(offline), hours_online=D(online)
    )
    assert (credits, of_online) == expected
    if fmt == "blended" and rules.online_share_max is not None:
        assert of_online <= credits * rules.online_share_max


def test_policy_validation_messages_are_chinese():
    from django.utils import translation

    from peixun.core.errors import InvalidInput

    data = preset_data("A")
    data["cycle"]["length"] = 0
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as info:
        Rules.from_data(data)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)


def test_pace_factor_bounds():
    assert engine.pace_factor(D(1)) == 0
    assert engine.pace_factor(D("0.01")) == D("4.000000")


def test_policy_codes_cannot_smuggle_sql():
    from peixun.core.errors import InvalidInput

    data = preset_data("A")
    data["categories"][0]["code"] = "tongchou' OR 1=1 --"
    with pytest.raises(InvalidInput):
        Rules.from_data(data)
    data = preset_data("A")
    data["aliases"] = {"x'; DROP TABLE y; --": "tongchou"}
    with pytest.raises(InvalidInput):
        Rules.from_data(data)
