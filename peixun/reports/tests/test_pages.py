"""Dashboard pages, drill-down, exports and home panels: each role sees its part and nothing else."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core import exports as core_exports
from peixun.core.masking import mask_national_id
from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.roster.models import Teacher
from tests.factories import make_actor

pytestmark = pytest.mark.django_db


def sheet(response):
    assert response.status_code == 200, response.content[:300]
    data = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def login(client, actor):
    client.force_login(actor.user)
    return client


def test_county_officer_opens_dashboard_and_drills_down(client, area, county_actor):
    county = area["counties"]["a1"]
    login(client, county_actor)
    response = client.get(reverse("reports:dashboard") + "?term=")
    assert response.status_code == 200 and county.name in response.content.decode()
    page = client.get(reverse("reports:region", args=[county.pk])).content.decode()
    assert "统计看板" in page and "各学校达标情况" in page
    for school in area["schools"]["a1"]:
        assert school.name in page
    for school in area["schools"]["a2"] + area["schools"]["b1"]:
        assert school.name not in page
    school = area["schools"]["a1"][0]
    page = client.get(reverse("reports:school", args=[school.pk]), {"status": "at_risk"}).content.decode()
    assert "教师名册" in page
    teacher = school.teachers.filter(status="active").first()
    assert teacher.name in page
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import ProjectClassFactory, ProjectFactory

    start = timezone.localdate() + timedelta(days=10)
    open_class = ProjectClassFactory(
        project=ProjectFactory(name="尚可选学的项目"), starts_on=start, ends_on=start + timedelta(days=2)
    )
    ProjectClassFactory(
        project=ProjectFactory(name="已满的项目"),
        starts_on=start,
        ends_on=start + timedelta(days=2),
        capacity=3,
        seats_taken=3,
    )
    detail = client.get(reverse("reports:teacher", args=[teacher.pk])).content.decode()
    assert teacher.name in detail and "符合该教师条件且仍有余额的已发布班期" in detail
    assert open_class.project.name in detail
    assert "已满的项目" not in detail


def test_pages_outside_the_scope_are_404(client, area, county_actor):
    login(client, county_actor)
    other_school = area["schools"]["a2"][0]
    stranger = other_school.teachers.first()
    assert client.get(reverse("reports:region", args=[area["counties"]["a2"].pk])).status_code == 404
    assert client.get(reverse("reports:region", args=[area["province"].pk])).status_code == 404
    assert client.get(reverse("reports:school", args=[other_school.pk])).status_code == 404
    assert client.get(reverse("reports:teacher", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("reports:teacher_list"), {"school": other_school.pk}).status_code == 404
    assert client.get(reverse("reports:institutions")).status_code == 403


def test_province_drills_down_through_city_and_county(client, area, province_actor):
    login(client, province_actor)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert "各市达标情况" in page and area["cities"]["a"].name in page
    city_url = reverse("reports:region", args=[area["cities"]["a"].pk])
    assert f'href="{city_url}' in page
    city = client.get(city_url, {"term": "", "status": "at_risk"}).content.decode()
    assert "各区县达标情况" in city and area["counties"]["a1"].name in city
    county_url = reverse("reports:region", args=[area["counties"]["a1"].pk]) + "?status=at_risk"
    assert county_url in city, "the drill-down link keeps the filters"
    assert area["counties"]["b1"].name not in city


def test_teacher_list_filters_sorts_and_pages(client, area, county_actor):
    county = area["counties"]["a1"]
    login(client, county_actor)
    url = reverse("reports:teacher_list")
    all_rows = client.get(url, {"region": county.pk})
    assert all_rows.status_code == 200
    at_risk = client.get(url, {"region": county.pk, "status": "at_risk", "sort": "-missing"})
    body = at_risk.content.decode()
    assert "有风险教师" in body
    names = [t.name for t in Teacher.objects.filter(school__county=county)]
    assert any(n in body for n in names)
    # IDs are shown in full to the county (its role needs them) and sorting by name works
    by_name = client.get(url, {"region": county.pk, "sort": "name"})
    assert by_name.status_code == 200
    school = area["schools"]["a1"][1]
    only = client.get(url, {"region": county.pk, "in_school": school.pk}).content.decode()
    other = area["schools"]["a1"][0].teachers.first()
    assert school.teachers.first().name in only and other.name not in only


def test_teacher_list_has_a_fixed_number_of_queries(client, area, county_actor):
    login(client, county_actor)
    url = reverse("reports:teacher_list")
    params = {"region": area["counties"]["a1"].pk, "status": "at_risk"}
    client.get(url, params)
    with CaptureQueriesContext(connection) as small:
        client.get(url, params)
    for school in area["schools"]["a1"]:
        from tests.factories import TeacherFactory

        TeacherFactory.create_batch(5, school=school)
    with CaptureQueriesContext(connection) as large:
        client.get(url, {**params, "status": ""})
    assert len(large) <= len(small) + 1


def test_county_export_never_contains_another_county(client, area, county_actor):
    login(client, county_actor)
    county = area["counties"]["a1"]
    rows = sheet(client.get(reverse("reports:teacher_list"), {"region": county.pk, "export": "1"}))
    assert rows[0][:3] == ("姓名", "身份证号", "学校代码")
    mine = Teacher.objects.filter(school__county=county, status="active")
    assert {r[1] for r in rows[1:]} == set(mine.values_list("national_id", flat=True))  # full IDs for the county
    assert all(r[4] == county.name for r in rows[1:])
    assert AuditLog.objects.filter(action="core.export", user=county_actor.user).exists()
    completion = sheet(client.get(reverse("reports:region", args=[county.pk]), {"export": "completion"}))
    assert completion[0][0] == "学校"
    assert [r[0] for r in completion[1:-1]] == [s.name for s in area["schools"]["a1"]]
    assert completion[-1][0] == "合计"
    # asking for another county's export is a 404, not an empty file
    other = client.get(reverse("reports:teacher_list"), {"region": area["counties"]["b1"].pk, "export": "1"})
    assert other.status_code == 404


def test_city_export_masks_ids(client, area, city_actor):
    login(client, city_actor)
    rows = sheet(client.get(reverse("reports:teacher_list"), {"region": area["cities"]["a"].pk, "export": "1"}))
    ids = {r[1] for r in rows[1:]}
    expected = Teacher.objects.filter(school__city=area["cities"]["a"], status="active").values_list(
        "national_id", flat=True
    )
    assert ids == {mask_national_id(i) for i in expected}


def test_at_risk_export_lists_exactly_the_at_risk(client, area, county_actor):
    from peixun.reports import selectors

    login(client, county_actor)
    county = area["counties"]["a1"]
    rows = sheet(client.get(reverse("reports:teacher_list"), {"region": county.pk, "status": "at_risk", "export": "1"}))
    node = selectors.home_node(county_actor)
    expected = selectors.teacher_list(county_actor, node, selectors.TeacherFilters(status="at_risk"))
    assert len(rows) - 1 == len(expected) > 0
    assert {r[5] for r in rows[1:]} == {"有风险"}


@pytest.mark.django_db(transaction=True)
def test_large_teacher_export_runs_as_a_job(client, area, county_actor, monkeypatch):
    monkeypatch.setattr(core_exports, "INLINE_EXPORT_LIMIT", 5)
    login(client, county_actor)
    county = area["counties"]["a1"]
    response = client.get(reverse("reports:teacher_list"), {"region": county.pk, "export": "1"})
    job = Job.objects.get(owner=county_actor.user)
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    rows = sheet(client.get(reverse("core:job_download", args=[job.pk])))
    assert len(rows) - 1 == Teacher.objects.filter(school__county=county, status="active").count()
    assert AuditLog.objects.filter(action="core.export", object_id=str(job.pk)).exists()


def test_home_panels_link_to_the_dashboard(client, area, county_actor, school_actor, province_actor):
    for actor in (county_actor, school_actor, province_actor):
        login(client, actor)
        page = client.get(reverse("home")).content.decode()
        assert 'data-testid="dashboard-panel"' in page and reverse("reports:dashboard") in page


def test_institution_sees_its_own_dashboard(client, area):
    from tests.factories import InstitutionFactory, ProjectClassFactory, ProjectFactory, TermFactory

    term = TermFactory()
    mine, other = InstitutionFactory(), InstitutionFactory()
    ProjectClassFactory(project=ProjectFactory(term=term, institution=mine), capacity=12, seats_taken=5)
    ProjectFactory(term=term, institution=other)
    actor = make_actor(Role.INSTITUTION, institution=mine)
    login(client, actor)
    page = client.get(reverse("reports:dashboard"), {"term": term.pk}).content.decode()
    assert "已申报项目" in page or "申报项目数" in page
    stats = client.get(reverse("reports:institutions"), {"term": term.pk}).content.decode()
    assert mine.name in stats and other.name not in stats
    rows = sheet(client.get(reverse("reports:institutions"), {"term": term.pk, "export": "1"}))
    assert [r[1] for r in rows[1:]] == [mine.name]


def test_province_institution_statistics(client, area, province_actor):
    from tests.factories import InstitutionFactory, ProjectFactory, TermFactory

    term = TermFactory()
    a, b = InstitutionFactory(), InstitutionFactory()
    ProjectFactory(term=term, institution=a)
    ProjectFactory(term=term, institution=b, status="submitted")
    login(client, province_actor)
    page = client.get(reverse("reports:institutions"), {"term": term.pk, "sort": "-applied"}).content.decode()
    assert a.name in page and b.name in page and 'data-chart="chart-institutions"' in page


def test_dashboard_query_count_does_not_grow_with_rows(client, area, county_actor):
    from tests.factories import SchoolFactory, TeacherFactory

    login(client, county_actor)
    url = reverse("reports:region", args=[area["counties"]["a1"].pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for _ in range(3):
        TeacherFactory.create_batch(4, school=SchoolFactory(county=area["counties"]["a1"]))
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
