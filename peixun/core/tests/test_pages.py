"""Every role's pages render; scope is enforced on pages and exports."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core.roles import Role
from tests.factories import InstitutionFactory, TeacherFactory, make_actor

pytestmark = pytest.mark.django_db


def login(client, actor):
    client.force_login(actor.user)
    return client


@pytest.mark.parametrize(
    "role",
    [
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.TEACHER,
        Role.INSTITUTION,
        Role.MONITOR,
        Role.AUDITOR,
        Role.EXPERT,
    ],
)
def test_home_and_menu_pages_render_for_each_role(client, role, province, county, school):
    scope = {
        Role.PROVINCE: {"region": province},
        Role.CITY: {"region": county.parent},
        Role.COUNTY: {"region": county},
        Role.SCHOOL: {"school": school},
        Role.TEACHER: {"school": school},
        Role.INSTITUTION: {"institution": InstitutionFactory()},
        Role.MONITOR: {"region": province},
        Role.AUDITOR: {"region": province},
        Role.EXPERT: {"region": province},
    }[role]
    actor = make_actor(role, **scope)
    login(client, actor)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "教师培训管理平台" in html
    from peixun.core.navigation import menu_for

    for item in menu_for(actor):
        if item.url != "#":
            assert client.get(item.url).status_code == 200, item.url_name


def test_teacher_export_is_scoped_and_masked(client, county, school, other_school):
    mine = TeacherFactory(school=school)
    TeacherFactory(school=other_school)
    actor = make_actor(Role.CITY, region=county.parent)
    # A city officer sees both counties only if they share the city; use a county officer to be sure.
    actor = make_actor(Role.COUNTY, region=county)
    login(client, actor)
    response = client.get(reverse("roster:teacher_list") + "?export=1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "身份证件号"
    assert len(rows) == 2 and rows[1][1] == mine.name
    assert rows[1][0] == mine.national_id  # county bureau needs full IDs


def test_page_outside_scope_is_404(client, county, other_school):
    teacher = TeacherFactory(school=other_school)
    login(client, make_actor(Role.COUNTY, region=county))
    assert client.get(reverse("roster:teacher_detail", args=[teacher.pk])).status_code == 404


def test_teacher_cannot_open_roster(client, school):
    login(client, make_actor(Role.TEACHER, school=school))
    assert client.get(reverse("roster:teacher_list")).status_code == 403


def test_home_overview_counts_only_scope(client, county, school, other_school):
    TeacherFactory.create_batch(2, school=school)
    TeacherFactory(school=other_school)
    login(client, make_actor(Role.COUNTY, region=county))
    panels = client.get(reverse("home")).context["panels"]
    overview = next(p for p in panels if p["template"] == "core/panels/overview.html")
    assert {label: value for label, value, _url in overview["stats"]}["在职教师"] == 2


def test_home_query_count_is_bounded(client, county, school, django_assert_max_num_queries):
    TeacherFactory.create_batch(5, school=school)
    login(client, make_actor(Role.COUNTY, region=county))
    with django_assert_max_num_queries(15):
        client.get(reverse("home"))
