"""School-based plans, records and the FAQ's item rules (Q9, Q10, Q14, Q15)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.credits.models import LedgerEntry
from peixun.schoolbased import services
from peixun.schoolbased.models import ActivityRecord, SchoolPlan
from tests.factories import SchoolFactory, TeacherFactory, credit_policy, make_actor

pytestmark = pytest.mark.django_db
YEAR = 2024  # school year 2024–2025


def pdf(name="签到表.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


@pytest.fixture
def setup(province, county, school):
    credit_policy("A", province=province)
    admin = make_actor(Role.SCHOOL, school=school)
    bureau = make_actor(Role.COUNTY, region=county)
    plan = services.plan_create(
        actor=admin,
        school_year=YEAR,
        title="2024学年校本研修方案",
        forms=["school_training", "workshop", "other"],
        other_forms="读书沙龙",
        hours_per_credit="10",
        activities="每月一次专题培训；读书沙龙",
        responsible="教务处 王老师",
    )
    services.plan_submit(actor=admin, plan=plan)
    services.plan_review(actor=bureau, plan=plan, approve=True, review_body="dev_school")
    return admin, bureau, SchoolPlan.objects.get(pk=plan.pk)


def record(admin, plan, teacher, **kw):
    defaults = {"held_on": date(2025, 3, 1), "description": "听课记录本第1-20页"}
    rec = services.record_create(actor=admin, plan=plan, teacher=teacher, **{**defaults, **kw})
    services.evidence_add(actor=admin, record=rec, file=pdf())
    return rec


def live_sum(teacher):
    return sum(e.amount for e in LedgerEntry.objects.filter(teacher=teacher))


def test_faq_q10_other_forms_need_at_least_ten_hours_per_credit(province, school):
    credit_policy("A", province=province)
    admin = make_actor(Role.SCHOOL, school=school)
    with pytest.raises(InvalidInput, match="10"):
        services.plan_create(
            actor=admin,
            school_year=YEAR,
            title="x",
            forms=["other"],
            other_forms="读书",
            hours_per_credit="8",
            activities="a",
            responsible="b",
        )


def test_plan_return_with_feedback_then_resubmit(province, county, school):
    credit_policy("A", province=province)
    admin, bureau = make_actor(Role.SCHOOL, school=school), make_actor(Role.COUNTY, region=county)
    plan = services.plan_create(
        actor=admin,
        school_year=YEAR,
        title="x",
        forms=["school_research"],
        hours_per_credit="12",
        activities="a",
        responsible="b",
    )
    services.plan_submit(actor=admin, plan=plan)
    with pytest.raises(InvalidInput):
        services.plan_review(actor=bureau, plan=plan, approve=False)
    plan = services.plan_review(actor=bureau, plan=plan, approve=False, feedback="请补充过程记录要求")
    assert plan.status == "returned" and plan.feedback
    services.plan_update(
        actor=admin,
        plan=plan,
        title="x2",
        forms=["school_research"],
        hours_per_credit="12",
        activities="a",
        responsible="b",
    )
    assert services.plan_submit(actor=admin, plan=plan).status == "submitted"


def test_faq_q14_village_school_files_its_own_plan(province, county):
    credit_policy("A", province=province)
    village = SchoolFactory(county=county, is_rural=True)
    admin = make_actor(Role.SCHOOL, school=village)
    plan = services.plan_create(
        actor=admin,
        school_year=YEAR,
        title="村小方案",
        forms=["workshop"],
        hours_per_credit="10",
        activities="县级名师工作坊",
        responsible="校长",
    )
    assert plan.school == village


def test_faq_q9_items_count_one_credit_each(setup, school):
    admin, _bureau, plan = setup
    teacher = TeacherFactory(school=school)
    listen = record(admin, plan, teacher, kind="listen", quantity=25)
    lessons = record(admin, plan, teacher, kind="open_lesson", level="school", quantity=2)
    lecture = record(admin, plan, teacher, kind="lecture", level="county", quantity=1)
    for r in (listen, lessons, lecture):
        services.record_approve(actor=admin, record=r)
    assert live_sum(teacher) == Decimal("3.00")
    assert set(LedgerEntry.objects.filter(teacher=teacher).values_list("category", "level")) == {("zizhu", "item")}
    # One school-level open lesson alone does not reach a credit: refused with the reason.
    single = record(admin, plan, teacher, kind="open_lesson", level="school", quantity=1)
    with pytest.raises(Conflict, match="1"):
        services.record_approve(actor=admin, record=single)


def test_hours_under_the_plan_conversion_and_double_approval(setup, school):
    admin, _bureau, plan = setup
    teacher = TeacherFactory(school=school)
    rec = record(admin, plan, teacher, kind="hours", form="school_training", hours="25")
    services.record_approve(actor=admin, record=rec)
    services.record_approve(actor=admin, record=rec)  # a double click posts nothing more
    assert live_sum(teacher) == Decimal("2.50")
    services.record_revoke(actor=admin, record=ActivityRecord.objects.get(pk=rec.pk), reason="重复登记")
    assert live_sum(teacher) == 0


def test_workshop_results_follow_the_bodys_assessment(setup, school):
    admin, _bureau, plan = setup
    teacher = TeacherFactory(school=school)
    failed = record(
        admin, plan, teacher, kind="workshop", form="workshop", hours="20", assessing_body="县初中数学名师工作室"
    )
    with pytest.raises(Conflict):
        services.record_approve(actor=admin, record=failed)
    passed = record(
        admin,
        plan,
        teacher,
        kind="workshop",
        form="workshop",
        hours="20",
        assessing_body="县初中数学名师工作室",
        assessment_passed=True,
    )
    assert services.record_approve(actor=admin, record=passed).credits == Decimal("2.0")


def test_records_need_approved_plan_evidence_and_own_school(setup, school, other_school):
    admin, _bureau, plan = setup
    with pytest.raises(InvalidInput):
        services.record_create(
            actor=admin,
            plan=plan,
            teacher=TeacherFactory(school=other_school),
            kind="listen",
            quantity=20,
            held_on=date(2025, 3, 1),
            description="x",
        )
    rec = services.record_create(
        actor=admin,
        plan=plan,
        teacher=TeacherFactory(school=school),
        kind="listen",
        quantity=20,
        held_on=date(2025, 3, 1),
        description="x",
    )
    with pytest.raises(Conflict):
        services.record_approve(actor=admin, record=rec)  # no evidence yet
    with pytest.raises(NotFound):
        services.record_approve(actor=make_actor(Role.SCHOOL, school=other_school), record=rec)


def test_evidence_is_served_only_in_scope(client, setup, school, other_school):
    admin, bureau, plan = setup
    teacher = TeacherFactory(school=school)
    rec = record(admin, plan, teacher, kind="listen", quantity=20)
    evidence = rec.evidence.get()
    url = reverse("schoolbased:evidence_download", args=[evidence.pk])
    client.force_login(bureau.user)
    assert client.get(url).status_code == 200
    client.force_login(make_actor(Role.SCHOOL, school=other_school).user)
    assert client.get(url).status_code == 404


def test_pages_render(client, setup, school):
    admin, bureau, plan = setup
    rec = record(admin, plan, TeacherFactory(school=school), kind="listen", quantity=20)
    for actor in (admin, bureau):
        client.force_login(actor.user)
        for url in (
            reverse("schoolbased:plan_list"),
            reverse("schoolbased:plan_detail", args=[plan.pk]),
            reverse("schoolbased:record_detail", args=[rec.pk]),
        ):
            assert client.get(url).status_code == 200, url
    client.force_login(admin.user)
    response = client.post(reverse("schoolbased:record_detail", args=[rec.pk]), {"form": "approve"})
    assert response.status_code == 302
    assert ActivityRecord.objects.get(pk=rec.pk).status == "approved"


def test_plan_list_query_count(client, setup, county, django_assert_max_num_queries):
    admin, bureau, plan = setup
    for _ in range(5):
        s = SchoolFactory(county=county)
        services.plan_create(
            actor=make_actor(Role.SCHOOL, school=s),
            school_year=YEAR,
            title="方案",
            forms=["school_training"],
            hours_per_credit="10",
            activities="a",
            responsible="b",
        )
    client.force_login(bureau.user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("schoolbased:plan_list")).status_code == 200
