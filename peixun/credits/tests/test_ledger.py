"""The ledger is append-only (model layer and, on PostgreSQL, the database) and postings are idempotent."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from peixun.catalog.signals import project_deleted
from peixun.core.errors import Conflict, InvalidInput, PermissionDenied
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.credits import selectors, services
from peixun.credits.models import CreditTotal, LedgerEntry, LedgerImmutable, TeacherStanding
from tests.factories import ProjectFactory, TeacherFactory, credit_policy, make_actor, post_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


@pytest.fixture
def reviewer(institution):
    return make_actor(Role.INSTITUTION_REVIEWER, institution=institution)


def totals(teacher):
    from peixun.credits.models import CycleTotal

    coarse = {
        (r.category, r.source_type): r.amount for r in CycleTotal.objects.filter(teacher=teacher).exclude(amount=0)
    }
    fine = {
        (r.category, r.source_type): r.amount for r in CreditTotal.objects.filter(teacher=teacher).exclude(amount=0)
    }
    assert coarse == fine  # every test here posts in one cycle
    return fine


def test_model_layer_refuses_update_and_delete(policy, school):
    entry = post_credit(TeacherFactory(school=school), "4")
    entry.amount = Decimal("40")
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("40"))
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.bulk_update([entry], ["amount"])
    entry.refresh_from_db()
    assert entry.amount == Decimal("4.00")


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(policy, school):
    entry = post_credit(TeacherFactory(school=school), "4")
    assert connection.vendor == "postgresql"
    for sql in (
        "UPDATE credits_ledgerentry SET amount = 40 WHERE id = %s",
        "DELETE FROM credits_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("4.00")


def test_double_posting_posts_once(policy, school, reviewer):
    teacher = TeacherFactory(school=school)
    kwargs = {
        "teacher": teacher,
        "category": "tongchou",
        "level": "provincial",
        "amount": "4",
        "source_type": "result",
        "source_id": 77,
        "earned_on": date(2024, 6, 1),
    }
    first = services.ledger_post(actor=reviewer, **kwargs)
    second = services.ledger_post(actor=reviewer, **kwargs)
    assert first.pk == second.pk
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 1
    assert totals(teacher) == {("tongchou", "result"): Decimal("4.00")}
    # A different amount for the same source is refused until the first is reversed.
    with pytest.raises(Conflict):
        services.ledger_post(actor=reviewer, **{**kwargs, "amount": "5"})


def test_reverse_source_reverses_exactly_its_live_entries_and_repost(policy, school, reviewer):
    teacher, other = TeacherFactory(school=school), TeacherFactory(school=school)
    for t in (teacher, other):
        services.ledger_post(
            actor=reviewer,
            teacher=t,
            category="tongchou",
            amount="4",
            source_type="result",
            source_id=5,
            earned_on=date(2024, 6, 1),
        )
    post_credit(teacher, "2", source_id=6)
    reversed_ = services.ledger_reverse_source(actor=reviewer, source_type="result", source_id=5, reason="取消审核")
    assert {r.teacher_id for r in reversed_} == {teacher.pk, other.pk}
    assert all(r.amount == Decimal("-4.00") and r.reverses_id for r in reversed_)
    # Reversing again reverses nothing.
    assert services.ledger_reverse_source(actor=reviewer, source_type="result", source_id=5, reason="again") == []
    assert totals(teacher) == {("tongchou", "result"): Decimal("2.00")}
    # Re-posting after the reversal is the next generation, with the corrected amount.
    again = services.ledger_post(
        actor=reviewer,
        teacher=teacher,
        category="tongchou",
        amount="5",
        source_type="result",
        source_id=5,
        earned_on=date(2024, 6, 1),
    )
    assert again.generation == 1
    assert totals(teacher) == {("tongchou", "result"): Decimal("7.00")}
    assert AuditLog.objects.filter(action="credits.ledger.reverse").count() == 1


def test_unique_constraint_backs_idempotency(policy, school):
    """Even bypassing the service's check, the database refuses a second live posting of a generation."""
    from django.db import IntegrityError

    teacher = TeacherFactory(school=school)
    entry = post_credit(teacher, "3", source_id=9)
    duplicate = LedgerEntry(
        teacher=teacher,
        cycle=entry.cycle,
        school_year=entry.school_year,
        category="tongchou",
        amount=Decimal("3"),
        earned_on=entry.earned_on,
        source_type="result",
        source_id=9,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_deleted_project_credits_are_reversed(policy, school, reviewer):
    project = ProjectFactory()
    teacher = TeacherFactory(school=school)
    services.ledger_post(
        actor=reviewer,
        teacher=teacher,
        category="tongchou",
        amount="4",
        source_type="result",
        source_id=1,
        earned_on=date(2024, 6, 1),
        project=project,
    )
    post_credit(teacher, "2", source_id=2)
    actor = make_actor(Role.PROVINCE, region=policy.province)
    project_deleted.send(sender=type(project), project=project, actor=actor, reason="重复发布")
    live = LedgerEntry.objects.filter(teacher=teacher, reverses__isnull=True, reversed_by__isnull=True)
    assert [e.source_id for e in live] == [2]
    reversal = LedgerEntry.objects.get(reverses__project=project)
    assert reversal.amount == Decimal("-4.00") and "重复发布" in reversal.note
    assert totals(teacher) == {("tongchou", "result"): Decimal("2.00")}


def test_posting_needs_a_role_that_may_post(policy, school):
    teacher_actor = make_actor(Role.TEACHER, school=school)
    with pytest.raises(PermissionDenied):
        services.ledger_post(
            actor=teacher_actor,
            teacher=TeacherFactory(school=school),
            category="tongchou",
            amount="1",
            source_type="result",
            source_id=1,
            earned_on=date(2024, 6, 1),
        )


def test_adjustment_is_logged_and_scoped(policy, county, school, other_school):
    officer = make_actor(Role.COUNTY, region=county)
    teacher = TeacherFactory(school=school)
    adj = services.adjustment_create(
        actor=officer, teacher=teacher, category="zizhu", amount="-1.5", reason="重复登记更正"
    )
    entry = LedgerEntry.objects.get(source_type="adjustment", source_id=adj.pk)
    assert entry.amount == Decimal("-1.50") and entry.actor == officer.user
    assert AuditLog.objects.filter(action="credits.adjust", object_id=str(adj.pk)).exists()
    with pytest.raises(InvalidInput):
        services.adjustment_create(actor=officer, teacher=teacher, category="zizhu", amount="1", reason="")
    from peixun.core.errors import NotFound

    with pytest.raises(NotFound):
        services.adjustment_create(
            actor=officer, teacher=TeacherFactory(school=other_school), category="zizhu", amount="1", reason="x"
        )
    with pytest.raises(PermissionDenied):
        services.adjustment_create(
            actor=make_actor(Role.SCHOOL, school=school), teacher=teacher, category="zizhu", amount="1", reason="x"
        )


def test_totals_rebuild_matches_incremental(policy, school, reviewer):
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "4", source_id=1)
    post_credit(teacher, "1", source_id=2, category="zizhu", source_type="schoolbased", earned_on=date(2025, 3, 1))
    services.ledger_reverse_source(actor=reviewer, source_type="result", source_id=1, reason="x")
    before = totals(teacher)
    services.credit_totals_rebuild()
    assert totals(teacher) == before == {("zizhu", "schoolbased"): Decimal("1.00")}


def test_policy_activation_is_audited_and_single(province):
    a = credit_policy("A", province=province)
    b = credit_policy("B", province=province)
    a.refresh_from_db()
    assert a.status == "retired" and b.status == "active"
    assert selectors.active_policy() == b
    assert AuditLog.objects.filter(action="credits.policy.activate").count() == 2


def _page(teacher, **kwargs):
    actor = make_actor(Role.COUNTY, region=teacher.school.county)
    standing, entries = selectors.teacher_standing(actor=actor, teacher=teacher, **kwargs)
    return (
        [(c.code, c.earned, c.counted, c.missing, c.projected, [str(n) for n in c.notes]) for c in standing.categories],
        [(x.entry.id, x.counted, x.status, [str(r) for r in x.reasons]) for x in standing.explanations],
        standing.compliant,
        [e.id for e in entries],
    )


def _from_ledger(teacher, rules):
    """The same page computed from the ledger rows alone (no stored standing)."""
    TeacherStanding.objects.filter(teacher=teacher).delete()
    return _page(teacher, rules=rules)


def test_stored_standing_follows_every_posting_and_reversal(policy, school, reviewer, django_assert_num_queries):

    teacher = TeacherFactory(school=school)
    rules = selectors.active_rules()
    post_credit(teacher, "4", source_id=1)
    post_credit(teacher, "2", source_id=2, category="zizhu", source_type="schoolbased", earned_on=date(2025, 3, 1))
    row = TeacherStanding.objects.get(teacher=teacher)
    assert (row.cycle_start, row.cycle_length, row.policy_id, row.policy_version) == (
        2023,
        5,
        policy.pk,
        policy.version,
    )
    assert [e[0] for e in row.data["entries"]] == list(
        LedgerEntry.objects.filter(teacher=teacher).order_by("earned_on", "id").values_list("id", flat=True)
    )
    services.ledger_reverse_source(actor=reviewer, source_type="result", source_id=1, reason="取消审核")
    post_credit(teacher, "3", source_id=1, level="provincial")  # 审核 again: the next generation
    actor = make_actor(Role.COUNTY, region=teacher.school.county)
    with django_assert_num_queries(1):  # scope, exemption and the stored row in one statement
        selectors.teacher_standing(actor=actor, teacher=teacher, rules=rules)
    page = _page(teacher, rules=rules)
    assert len(page[3]) == 4 and page[0][0][2] == Decimal("3.00")
    assert page == _from_ledger(teacher, rules)


def test_stored_standing_of_another_policy_or_probation_is_not_used(policy, province, school):

    teacher = TeacherFactory(school=school)
    post_credit(teacher, "4")
    TeacherStanding.objects.filter(teacher=teacher).update(policy_version=policy.version + 1)
    rules = selectors.active_rules()
    page = _page(teacher, rules=rules)
    assert page[0][0][2] == Decimal("4.00")
    TeacherStanding.objects.filter(teacher=teacher).update(policy_version=policy.version, data={"v": 0})
    assert _page(teacher, rules=rules) == page
    # Probation changed after the row was written: the page computes from the ledger.
    services.standings_rebuild(rules)
    teacher.probation_end = date(2024, 8, 31)
    teacher.save()
    assert TeacherStanding.objects.get(teacher=teacher).probation is False
    assert _page(teacher, rules=rules) == _from_ledger(teacher, rules)


def test_standings_rebuild_matches_incremental(policy, school, other_school, reviewer):

    teachers = [TeacherFactory(school=school), TeacherFactory(school=other_school)]
    for i, teacher in enumerate(teachers):
        post_credit(teacher, "4", source_id=10 + i)
        post_credit(teacher, "1.5", source_id=20 + i, category="zizhu", source_type="schoolbased")
        post_credit(teacher, "2", source_id=30 + i, earned_on=date(2022, 3, 1))  # the previous cycle
    services.ledger_reverse_source(actor=reviewer, source_type="result", source_id=10, reason="x")
    before = {(r.teacher_id, r.cycle_start): r.data for r in TeacherStanding.objects.all()}
    assert len(before) == 4
    assert services.standings_rebuild(selectors.active_rules()) == 4
    assert {(r.teacher_id, r.cycle_start): r.data for r in TeacherStanding.objects.all()} == before
    assert services.standings_rebuild(selectors.active_rules(), teacher_ids=[teachers[0].pk]) == 2
    assert {(r.teacher_id, r.cycle_start): r.data for r in TeacherStanding.objects.all()} == before


def test_stored_standing_is_read_only_in_scope(policy, county, other_county, school, other_school):
    from peixun.core.errors import NotFound

    teacher, without_entries = TeacherFactory(school=school), TeacherFactory(school=school)
    post_credit(teacher, "4")
    for actor in (make_actor(Role.COUNTY, region=other_county), make_actor(Role.SCHOOL, school=other_school)):
        for target in (teacher, without_entries):  # with a stored row and without one
            with pytest.raises(NotFound):
                selectors.teacher_standing(actor=actor, teacher=target)
    for actor in (make_actor(Role.COUNTY, region=county), make_actor(Role.SCHOOL, school=school)):
        assert selectors.teacher_standing(actor=actor, teacher=teacher)[0].category("tongchou").counted == Decimal("4")
        assert selectors.teacher_standing(actor=actor, teacher=without_entries)[1] == []
