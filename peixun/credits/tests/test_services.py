"""Degree offsets (Q5), floor training (Q11/12), exemptions (Q20/21), what-if, pages and API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from peixun.core.errors import Conflict, InvalidInput
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.credits import reports, selectors, services
from peixun.credits.models import FloorProgramme, LedgerEntry
from peixun.roster.models import Exemption
from tests.factories import TeacherFactory, credit_policy, make_actor, post_credit

pytestmark = pytest.mark.django_db


def cert():
    return SimpleUploadedFile("学位证.pdf", b"%PDF-1.4 certificate", content_type="application/pdf")


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


def current_cycle_day(month=7, offset_years=0):
    rules = selectors.active_rules()
    start, _end = rules.cycle_bounds(rules.cycle_of(timezone.localdate()))
    return date(start.year + 1 + offset_years, month, 1)


def test_faq_q5_two_degrees_share_eight_credits(policy, county, school):
    teacher_actor = make_actor(Role.TEACHER, teacher=TeacherFactory(school=school, probation_end=date(2015, 8, 31)))
    bureau = make_actor(Role.COUNTY, region=county)
    first = services.degree_offset_apply(
        actor=teacher_actor,
        degree="bachelor",
        institution_name="示范师范大学",
        obtained_on=current_cycle_day(),
        certificate=cert(),
    )
    first = services.degree_offset_review(actor=bureau, offset=first, approve=True)
    assert first.credits == Decimal("6")
    second = services.degree_offset_apply(
        actor=teacher_actor,
        degree="master",
        institution_name="示范师范大学",
        obtained_on=current_cycle_day(month=8),
        certificate=cert(),
    )
    second = services.degree_offset_review(actor=bureau, offset=second, approve=True)
    assert second.credits == Decimal("2")  # 8 by the policy, 2 left of the shared 8
    assert "2" in second.decision_note
    with pytest.raises(Conflict, match="8"):
        services.degree_offset_apply(
            actor=teacher_actor,
            degree="doctor",
            institution_name="示范大学",
            obtained_on=current_cycle_day(month=9),
            certificate=cert(),
        )
    teacher = first.teacher
    standing, _rows = selectors.teacher_standing(actor=bureau, teacher=teacher)
    assert standing.category("tongchou").counted == Decimal("8.00")


def test_faq_q5_degree_in_probation_or_outside_cycle_is_refused_in_chinese(policy, school):
    probation_end = current_cycle_day(month=12)
    actor = make_actor(Role.TEACHER, teacher=TeacherFactory(school=school, probation_end=probation_end))
    with pytest.raises(Conflict) as info:
        services.degree_offset_apply(
            actor=actor, degree="bachelor", institution_name="大学", obtained_on=current_cycle_day(), certificate=cert()
        )
    assert info.value.code == "degree_in_probation" and "试用期" in info.value.message
    with pytest.raises(Conflict) as info:
        services.degree_offset_apply(
            actor=actor, degree="bachelor", institution_name="大学", obtained_on=date(2017, 7, 1), certificate=cert()
        )
    assert info.value.code == "degree_outside_cycle" and "本培训周期" in info.value.message


def test_floor_programme_lifecycle_and_caps(policy, county, school):
    bureau = make_actor(Role.COUNTY, region=county)
    city = make_actor(Role.CITY, region=county.parent)
    teachers = TeacherFactory.create_batch(3, school=school)
    year = selectors.active_rules().school_year_of(timezone.localdate())
    with pytest.raises(InvalidInput):
        services.floor_propose(actor=bureau, name="托底", school_year=year, reason="预计缺口", credits_per_teacher="2")
    programme = services.floor_propose(
        actor=bureau, name="全员托底培训", school_year=year, reason="全县预计统筹学分不足", credits_per_teacher="1.5"
    )
    assert programme.forecast["teachers"] == 3 and programme.forecast["projected_short"] == 3
    services.floor_file(actor=bureau, programme=programme)
    with pytest.raises(InvalidInput):
        services.floor_decide(actor=city, programme=programme, accept=False)
    services.floor_decide(actor=city, programme=programme, accept=True)
    ids = reports.at_risk_teacher_ids(county=county, rules=selectors.active_rules())
    assert services.floor_add_participants(actor=bureau, programme=programme, teacher_ids=ids) == 3
    # One teacher already has 1 floor credit this school year: only 0.5 more fits under 1.5 a year.
    post_credit(teachers[0], "1", source_type="floor", earned_on=timezone.localdate())
    done = services.floor_complete(
        actor=bureau, programme=FloorProgramme.objects.get(pk=programme.pk), teacher_ids=[t.pk for t in teachers]
    )
    credits = {p.teacher_id: p.credits for p in done}
    assert credits[teachers[0].pk] == Decimal("0.5") and credits[teachers[1].pk] == Decimal("1.5")
    assert AuditLog.objects.filter(action="credits.floor.accept").exists()


def test_floor_needs_a_policy_with_floor_training(province, county):
    credit_policy("B", province=province)
    with pytest.raises(Conflict):
        services.floor_propose(
            actor=make_actor(Role.COUNTY, region=county),
            name="x",
            school_year=2025,
            reason="y",
            credits_per_teacher="1",
        )


def test_faq_q20_q21_exempt_teachers_left_out_of_figures_but_see_credits(client, policy, school):
    exempt = TeacherFactory(school=school)
    Exemption.objects.create(teacher=exempt, kind="seconded", reason="借调至市教育局", starts_on=date(2020, 1, 1))
    TeacherFactory(school=school)
    post_credit(exempt, "4")
    summary = reports.scope_summary(selectors.Teacher.objects.filter(school=school), rules=selectors.active_rules())
    assert summary == {"teachers": 2, "exempt": 1, "compliant": 0, "on_track": 0, "at_risk": 1}
    actor = make_actor(Role.TEACHER, teacher=exempt)
    standing, _rows = selectors.teacher_standing(actor=actor, teacher=exempt)
    assert standing.exempt and standing.category("tongchou").counted == Decimal("4.00")
    assert selectors.allocation_priority([exempt.pk])[exempt.pk] == 0
    client.force_login(actor.user)
    html = client.get(reverse("credits:my_credits")).content.decode()
    assert "豁免" in html and "4.00" in html


def test_allocation_priority_is_the_shortfall(policy, school):
    behind, ahead = TeacherFactory(school=school), TeacherFactory(school=school)
    post_credit(ahead, "20")
    post_credit(ahead, "10", category="zizhu", source_type="schoolbased")
    priority = selectors.allocation_priority([behind.pk, ahead.pk])
    assert priority[behind.pk] == Decimal("36") and priority[ahead.pk] == Decimal("6")


def test_whatif_compares_draft_with_active_without_touching_the_ledger(client, province, county, school):
    credit_policy("A", province=province)
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "26")
    post_credit(teacher, "10", category="zizhu", source_type="schoolbased")
    officer = make_actor(Role.PROVINCE, region=province)
    draft = services.policy_create_draft(actor=officer, name="提高要求", based_on=selectors.active_policy())
    data = draft.data
    data["categories"][0]["minimum"] = "30"
    services.policy_update_draft(actor=officer, policy=draft, data=data)
    before = LedgerEntry.objects.count()
    result = reports.whatif(actor=officer, draft=selectors.rules_for(draft), active=selectors.active_rules())
    assert result["totals"]["before_compliant"] == 1 and result["totals"]["after_compliant"] == 0
    client.force_login(officer.user)
    assert client.get(reverse("credits:policy_whatif", args=[draft.pk])).status_code == 200
    assert client.post(reverse("credits:policy_activate", args=[draft.pk])).status_code == 302
    assert LedgerEntry.objects.count() == before
    standing, _rows = selectors.teacher_standing(actor=officer, teacher=teacher)
    assert standing.category("tongchou").missing == Decimal("4.00")


def test_policy_edit_form_updates_quick_fields(client, province):
    credit_policy("A", province=province)
    officer = make_actor(Role.PROVINCE, region=province)
    draft = services.policy_create_draft(actor=officer, name="草案", preset="B")
    client.force_login(officer.user)
    page = client.get(reverse("credits:policy_edit", args=[draft.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    post = {k: ("" if v is None else v) for k, v in form.initial.items()}
    post["total_minimum"] = "300"
    post["min_centralised"] = "80"
    response = client.post(reverse("credits:policy_edit", args=[draft.pk]), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.data["total_minimum"] == "300" and draft.data["categories"][0]["minimum"] == "80"


@pytest.mark.parametrize("role", [Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR])
def test_standing_pages_render_in_scope(client, policy, county, school, other_school, role):
    mine, theirs = TeacherFactory(school=school), TeacherFactory(school=other_school)
    post_credit(mine, "5")
    scope = (
        {"school": school}
        if role == Role.SCHOOL
        else {"region": county if role == Role.COUNTY else county.parent if role == Role.CITY else policy.province}
    )
    actor = make_actor(role, **scope)
    client.force_login(actor.user)
    html = client.get(reverse("credits:standing_list")).content.decode()
    assert mine.name in html
    if role in (Role.COUNTY, Role.SCHOOL):
        assert theirs.name not in html
        assert client.get(reverse("credits:teacher_credits", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("credits:teacher_credits", args=[mine.pk])).status_code == 200
    if role != Role.SCHOOL:
        assert client.get(reverse("credits:region_report")).status_code == 200


def test_standing_list_query_count_does_not_grow(client, policy, county, school, django_assert_max_num_queries):
    for t in TeacherFactory.create_batch(15, school=school):
        post_credit(t, "3")
    client.force_login(make_actor(Role.COUNTY, region=county).user)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("credits:standing_list")).status_code == 200


def test_teacher_page_and_api(client, policy, school):
    actor = make_actor(Role.TEACHER, school=school)
    teacher = selectors.Teacher.objects.get(pk=actor.teacher_id)
    post_credit(teacher, "4", level="provincial")
    post_credit(teacher, "12", category="zizhu", source_type="schoolbased")
    client.force_login(actor.user)
    html = client.get(reverse("credits:my_credits")).content.decode()
    assert "credit-chart-data" in html and "全部计入" in html and "统筹培训" in html
    data = client.get("/api/credits/me").json()
    assert {c["code"] for c in data["categories"]} == {"tongchou", "zizhu"}
    assert data["categories"][0]["counted"] == "4.00"
    assert len(data["explanations"]) == 2


def test_degree_certificate_served_only_in_scope(client, policy, county, other_county, school):
    actor = make_actor(Role.TEACHER, teacher=TeacherFactory(school=school))
    offset = services.degree_offset_apply(
        actor=actor, degree="bachelor", institution_name="大学", obtained_on=current_cycle_day(), certificate=cert()
    )
    url = reverse("credits:degree_certificate", args=[offset.pk])
    client.force_login(make_actor(Role.COUNTY, region=county).user)
    assert client.get(url).status_code == 200
    client.force_login(make_actor(Role.COUNTY, region=other_county).user)
    assert client.get(url).status_code == 404


def test_standings_export_is_scoped(client, policy, county, school, other_school):
    import io

    from openpyxl import load_workbook

    mine = TeacherFactory(school=school)
    TeacherFactory(school=other_school)
    post_credit(mine, "5")
    client.force_login(make_actor(Role.COUNTY, region=county).user)
    response = client.get(reverse("credits:standing_list") + "?export=1")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][0] == "姓名" and [r[0] for r in rows[1:]] == [mine.name]
    assert "5.00" in str(rows[1][3]) or rows[1][3] == 5
