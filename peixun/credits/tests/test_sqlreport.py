"""The SQL report gives every teacher the same status and counted credits as the engine."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from peixun.credits import selectors, services, sqlreport
from peixun.credits.models import LedgerEntry
from peixun.credits.policy import Rules, preset_data
from peixun.credits.reports import status_of
from peixun.roster.models import Exemption, Teacher
from tests.factories import TeacherFactory, credit_policy

pytestmark = pytest.mark.django_db


def random_ledger(rng, teachers, rules):
    today = timezone.localdate()
    start, _end = rules.cycle_bounds(rules.cycle_of(today))
    entries = []
    for t in teachers:
        for n in range(rng.randint(0, 14)):
            source = rng.choice(["result", "result", "schoolbased", "degree", "floor", "adjustment", "history"])
            category = rng.choice(["tongchou", "zizhu", "centralised", "school_based", "principal_qual", "probation"])
            amount = Decimal(rng.randint(-20 if source == "adjustment" else 1, 90)) / 2
            day = start + timedelta(days=rng.randint(-100, (today - start).days))
            entries.append(
                LedgerEntry(
                    teacher_id=t.pk,
                    cycle=rules.cycle_of(day),
                    school_year=rules.school_year_of(day),
                    category=category,
                    level=rng.choice(["", "county", "practical"]),
                    amount=amount,
                    earned_on=day,
                    source_type=source,
                    source_id=n,
                    part=str(n),
                )
            )
    services.ledger_insert_bulk(entries)


def policies():
    a, b = preset_data("A"), preset_data("B")
    mixed = preset_data("A")
    mixed["interchange"] = [["tongchou", "zizhu"]]
    mixed["categories"][1]["cap_per_cycle"] = "12"
    mixed["annual_minimum"] = "3"
    mixed["total_minimum"] = "30"
    shifted = preset_data("A")
    shifted["cycle"]["start_year"] = 2019  # another cycle definition: the per-school-year path
    return [Rules.from_data(d) for d in (a, b, mixed, shifted)]


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_statuses_match_the_engine(province, school, seed):
    credit_policy("A", province=province)
    rng = random.Random(seed)
    teachers = TeacherFactory.create_batch(30, school=school)
    Exemption.objects.create(teacher=teachers[0], kind="seconded", reason="借调", starts_on=date(2020, 1, 1))
    random_ledger(rng, teachers, selectors.active_rules())
    qs = Teacher.objects.filter(school=school)
    for rules in policies():
        assert sqlreport.supported(rules)
        sql = sqlreport.teacher_statuses(rules, qs, as_of=timezone.localdate())
        engine = {
            tid: status_of(s) for tid, s in selectors.standings_for([t.pk for t in teachers], rules=rules).items()
        }
        assert sql == engine, rules.scheme
        rows = sqlreport.region_rows(rules, qs, as_of=timezone.localdate(), region="school__county_id")
        data = rows[school.county_id]
        standings = selectors.standings_for([t.pk for t in teachers], rules=rules)
        for code, total in data["sums"].items():
            expected = sum(s.category(code).counted for s in standings.values() if not s.exempt)
            assert abs(total - expected) < Decimal("0.01"), code
        assert data["exempt"] == 1


def test_activating_another_cycle_definition_rebuilds_the_cycle_summary(province, school):
    from peixun.credits.models import CycleTotal

    credit_policy("A", province=province)
    teachers = TeacherFactory.create_batch(12, school=school)
    random_ledger(random.Random(7), teachers, selectors.active_rules())
    data = preset_data("A")
    data["cycle"] = {"start_year": 2020, "length": 3}
    policy = services.policy_create_draft(actor=None, name="三年周期", preset="A", province=province)
    policy.data = data
    policy.save()
    services.policy_activate(actor=None, policy=policy)
    rules = selectors.active_rules()
    assert set(CycleTotal.objects.values_list("cycle_length", flat=True)) == {3}
    qs = Teacher.objects.filter(school=school)
    sql = sqlreport.teacher_statuses(rules, qs, as_of=timezone.localdate())
    engine = {tid: status_of(s) for tid, s in selectors.standings_for([t.pk for t in teachers], rules=rules).items()}
    assert sql == engine


def _draft_with_cycles(province, start_year, length):
    data = preset_data("A")
    data["cycle"] = {"start_year": start_year, "length": length}
    policy = services.policy_create_draft(actor=None, name=f"{length}年周期", preset="A", province=province)
    policy.data = data
    policy.save()
    return policy


def _cycle_lengths():
    from peixun.credits.models import CycleTotal

    return set(CycleTotal.objects.values_list("cycle_length", flat=True))


def _report_matches_the_engine(school, teachers):
    """The report's statuses and sums under the active policy equal the engine's, teacher by teacher."""
    rules = selectors.active_rules()
    qs = Teacher.objects.filter(school=school)
    today = timezone.localdate()
    standings = selectors.standings_for([t.pk for t in teachers], rules=rules)
    assert sqlreport.teacher_statuses(rules, qs, as_of=today) == {tid: status_of(s) for tid, s in standings.items()}
    sums = sqlreport.region_rows(rules, qs, as_of=today, region="school__county_id")[school.county_id]["sums"]
    for code, total in sums.items():
        assert abs(total - sum(s.category(code).counted for s in standings.values() if not s.exempt)) < Decimal("0.01")


def test_new_cycles_are_summarised_in_the_activation_job_and_reports_never_mix(province, school, monkeypatch):
    from peixun.core.roles import Role
    from peixun.credits.models import CycleTotal, TeacherStanding
    from tests.factories import make_actor, post_credit

    credit_policy("A", province=province)
    teachers = TeacherFactory.create_batch(12, school=school)
    random_ledger(random.Random(11), teachers, selectors.active_rules())
    officer = make_actor(Role.PROVINCE, region=province)
    policy = services.policy_activate(actor=officer, policy=_draft_with_cycles(province, 2020, 3))

    # The activation itself leaves the summary alone: reports read the per-school-year totals.
    policy.refresh_from_db()
    assert not policy.cycle_totals_ready and selectors.cycle_totals_definition() is None
    assert _cycle_lengths() == {5}
    _report_matches_the_engine(school, teachers)

    # The job dies after its first chunk: the new cycles' rows exist for some teachers only.
    monkeypatch.setattr(services, "STANDINGS_CHUNK", 5)

    def killed(done, total):
        if done >= 5:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        services.policy_derived_rebuild(progress=killed)
    assert _cycle_lengths() == {3, 5} and selectors.cycle_totals_definition() is None
    _report_matches_the_engine(school, teachers)

    # Postings meanwhile, for a teacher whose rows are done and one whose are not, count once.
    post_credit(teachers[0], "3")
    post_credit(teachers[-1], "4")
    _report_matches_the_engine(school, teachers)

    # The retried job finishes: the summary is of the new cycles only and is read again.
    calls = []
    count, rebuilt = services.policy_derived_rebuild(progress=lambda done, total: calls.append((done, total)))
    everyone = Teacher.objects.count()
    assert rebuilt and calls[-1] == (2 * everyone, 2 * everyone)
    policy.refresh_from_db()
    assert policy.cycle_totals_ready and selectors.cycle_totals_definition() == (2020, 3)
    assert _cycle_lengths() == {3}
    incremental = sorted(
        CycleTotal.objects.values_list("teacher_id", "cycle_start", "category", "source_type", "amount")
    )
    services.cycle_totals_rebuild(selectors.active_rules())
    assert incremental == sorted(
        CycleTotal.objects.values_list("teacher_id", "cycle_start", "category", "source_type", "amount")
    )
    assert set(TeacherStanding.objects.values_list("policy_id", flat=True)) == {policy.pk}
    assert count == TeacherStanding.objects.count()
    _report_matches_the_engine(school, teachers)


def test_an_activation_job_overtaken_by_another_activation_stops(province, school, monkeypatch):
    from peixun.core.roles import Role
    from tests.factories import make_actor

    credit_policy("A", province=province)
    teachers = TeacherFactory.create_batch(6, school=school)
    random_ledger(random.Random(5), teachers, selectors.active_rules())
    officer = make_actor(Role.PROVINCE, region=province)
    first = services.policy_activate(actor=officer, policy=_draft_with_cycles(province, 2020, 3))
    second = _draft_with_cycles(province, 2021, 4)
    monkeypatch.setattr(services, "STANDINGS_CHUNK", 2)
    activated = []

    def activate_the_second(done, total):
        if not activated:
            activated.append(services.policy_activate(actor=officer, policy=second))

    with pytest.raises(services.PolicySuperseded):
        services.policy_derived_rebuild(progress=activate_the_second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.cycle_totals_ready and not second.cycle_totals_ready
    assert selectors.cycle_totals_definition() is None
    _report_matches_the_engine(school, teachers)

    services.policy_derived_rebuild()  # the second activation's job
    second.refresh_from_db()
    assert second.cycle_totals_ready and _cycle_lengths() == {4}
    _report_matches_the_engine(school, teachers)
