"""Catalog and term pages for every role: they render, enforce scope, do the steps, and stay O(1) in queries."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from peixun.catalog import services
from peixun.catalog.models import ChangeRequest, Lecturer, LecturerCheck, Project, ProjectEvent, ProjectLecturer
from peixun.core.models import Notification
from peixun.core.roles import Role
from peixun.terms.models import Window, WindowKind
from tests.factories import CountyFactory, InstitutionFactory, ProjectClassFactory, ProjectFactory, make_actor

from .conftest import active_policy_with, class_dates, make_draft

pytestmark = pytest.mark.django_db
S = Project.Status


def login(client, actor):
    client.force_login(actor.user)
    return client


def test_institution_applies_through_the_pages(client, term, inst_actor, leader):
    login(client, inst_actor)
    form = {
        "name": "初中物理实验教学能力提升",
        "theme": "实验教学",
        "field": "science_lab",
        "subject_category": "math",
        "level": "provincial",
        "format": "face",
        "days": "5",
        "hours_offline": "40",
        "hours_online": "0",
        "credit_category": "tongchou",
        "goals": "提升实验教学能力",
        "content": "实验设计与改进",
        "fee_training": "1000",
        "fee_accommodation": "400",
        "fee_meals": "100",
        "fee_total": "1500",
        "target_stages": ["junior"],
        "leader": str(leader.pk),
    }
    response = client.post(reverse("catalog:project_create") + f"?term={term.pk}", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(name="初中物理实验教学能力提升")
    detail = client.get(response.url).content.decode()
    assert "请至少添加一个班期" in detail and 'data-testid="checklist"' in detail
    starts_on, ends_on = class_dates(term)
    response = client.post(
        reverse("catalog:class_create", args=[project.pk]),
        {
            "starts_on": starts_on,
            "ends_on": ends_on,
            "place": "示范师范大学",
            "capacity": "45",
            "waitlist_enabled": "on",
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("catalog:lecturer_add", args=[project.pk]),
        {
            "name": "周老师",
            "organisation": "省教研室",
            "title": "正高级教师",
            "expertise": "物理实验",
            "phone": "13700000000",
        },
    )
    assert response.status_code == 302
    response = client.post(reverse("catalog:project_action", args=[project.pk, "submit"]), follow=True)
    assert "已提交审核" in response.content.decode()
    project.refresh_from_db()
    assert project.status == S.SUBMITTED
    # The list shows the quota used.
    page = client.get(reverse("catalog:project_list")).content.decode()
    assert 'data-testid="quota"' in page and "已用 1 / 40" in page


def test_form_errors_are_shown_in_chinese(client, term, inst_actor):
    login(client, inst_actor)
    response = client.post(
        reverse("catalog:project_create") + f"?term={term.pk}",
        {
            "name": "x",
            "theme": "x",
            "field": "general",
            "subject_category": "math",
            "level": "county",
            "format": "face",
            "days": "1",
            "hours_offline": "8",
            "credit_category": "tongchou",
            "goals": "g",
            "content": "c",
            "fee_training": "1",
            "fee_accommodation": "0",
            "fee_meals": "0",
            "fee_total": "1",
        },
    )
    assert response.status_code == 200
    assert "请选择负责审核该县级项目的区县" in response.content.decode()


def test_credits_preview_fragment(client, inst_actor):
    login(client, inst_actor)
    url = reverse("catalog:credits_preview")
    html = client.get(
        url,
        {
            "credit_category": "tongchou",
            "level": "provincial",
            "format": "blended",
            "hours_offline": "20",
            "hours_online": "20",
        },
    ).content.decode()
    assert 'data-testid="preview-credits">4<' in html and "30%" in html
    html = client.get(
        url, {"credit_category": "tongchou", "level": "provincial", "format": "face", "hours_offline": "36"}
    ).content.decode()
    assert 'data-testid="preview-credits">3.6<' in html and "方案A" in html


def test_credits_preview_fragment_uses_the_active_policy(client, inst_actor, province):
    active_policy_with(province, preset="B")
    login(client, inst_actor)
    params = {"credit_category": "tongchou", "level": "provincial", "format": "blended", "hours_offline": "70"}
    html = client.get(reverse("catalog:credits_preview"), {**params, "hours_online": "30"}).content.decode()
    assert 'data-testid="preview-credits">100<' in html and "alert-info" in html and "方案B" in html
    html = client.get(reverse("catalog:credits_preview"), {**params, "hours_online": "40"}).content.decode()
    assert "alert-danger" in html and "30%" in html


def test_bureau_reviews_in_bulk_and_publishes(client, term, inst_actor, leader, province_actor):
    projects = [
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, leader)) for _ in range(2)
    ]
    login(client, province_actor)
    page = client.get(reverse("catalog:project_list") + "?status=submitted").content.decode()
    assert all(p.name in page for p in projects) and 'data-testid="bulk-bar"' in page
    response = client.post(
        reverse("catalog:project_bulk"), {"ids": [p.pk for p in projects], "action": "approve"}, follow=True
    )
    assert "2" in response.content.decode()
    assert set(Project.objects.filter(pk__in=[p.pk for p in projects]).values_list("status", flat=True)) == {S.APPROVED}
    response = client.post(reverse("catalog:project_bulk"), {"ids": [projects[0].pk], "action": "return"}, follow=True)
    assert "退回理由" in response.content.decode()
    client.post(reverse("catalog:project_action", args=[projects[0].pk, "publish"]))
    assert Project.objects.get(pk=projects[0].pk).status == S.PUBLISHED
    export = client.get(reverse("catalog:project_list") + "?export=1")
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "项目编号" and len(rows) == 3


def test_teacher_browses_and_sees_no_internal_data(client, term, school):
    project = ProjectFactory(term=term, target_stages=",primary,", target_subjects=",math,")
    ProjectClassFactory(project=project, capacity=30, seats_taken=28)
    lecturer = Lecturer.objects.create(
        name="吴老师", organisation="省教研室", title="教授", expertise="数学", phone="13911112222"
    )
    ProjectLecturer.objects.create(project=project, lecturer=lecturer)
    ProjectFactory(term=term, target_stages=",senior,")
    ProjectFactory(term=term, status=S.SUBMITTED, name="未发布的项目")
    teacher = make_actor(Role.TEACHER, school=school)
    login(client, teacher)
    page = client.get(reverse("catalog:browse")).content.decode()
    assert project.name in page and "未发布的项目" not in page
    assert 'data-testid="seats-left">2<' in page
    page = client.get(reverse("catalog:browse") + "?mine=on").content.decode()
    assert page.count('data-testid="seats-left"') == 1
    detail = client.get(reverse("catalog:project_detail", args=[project.pk])).content.decode()
    assert "吴老师" in detail and "13911112222" not in detail and "¥300.00" in detail
    hidden = ProjectFactory(term=term, status=S.DRAFT)
    assert client.get(reverse("catalog:project_detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("catalog:project_list")).status_code == 403


def test_change_request_pages(client, term, flagship, province_actor):
    project = ProjectFactory(term=term, institution=flagship)
    starts_on, ends_on = class_dates(term)
    project_class = ProjectClassFactory(project=project, starts_on=starts_on, ends_on=ends_on)
    inst = make_actor(Role.INSTITUTION, institution=flagship)
    login(client, inst)
    new_start, new_end = class_dates(term, offset=14)
    response = client.post(
        reverse("catalog:change_create", args=[project.pk]),
        {
            "kind": "dates",
            "reason": "与期中考试冲突",
            "project_class": project_class.pk,
            "starts_on": new_start,
            "ends_on": new_end,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    change = ChangeRequest.objects.get()
    login(client, province_actor)
    page = client.get(reverse("catalog:change_list")).content.decode()
    assert "与期中考试冲突" in page and 'data-testid="approve-change"' in page
    client.post(reverse("catalog:change_decide", args=[change.pk, "approve"]), {"note": "同意"})
    change.refresh_from_db()
    project_class.refresh_from_db()
    assert change.status == "approved" and project_class.starts_on == new_start
    assert Notification.objects.filter(user=inst.user, title__contains="变更已批准").exists()
    log = client.get(reverse("catalog:change_log") + f"?term={term.pk}").content.decode()
    assert flagship.name in log and "变更已批准" in log


def test_advanced_panel_deletes_softly(client, term, flagship, province_actor):
    project = ProjectFactory(term=term, institution=flagship)
    login(client, province_actor)
    page = client.get(reverse("catalog:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="advanced"' in page
    client.post(
        reverse("catalog:project_action", args=[project.pk, "delete"]),
        {"delete-reason": "重复", "delete-confirm": "nope"},
    )
    assert Project.objects.get(pk=project.pk).status == S.PUBLISHED
    client.post(
        reverse("catalog:project_action", args=[project.pk, "delete"]),
        {"delete-reason": "重复申报", "delete-confirm": project.code},
    )
    project.refresh_from_db()
    assert project.status == S.DELETED and ProjectEvent.objects.filter(project=project, kind="deleted").exists()
    # A county officer sees no advanced panel on a provincial project.
    county_officer = make_actor(Role.COUNTY, region=CountyFactory())
    login(client, county_officer)
    other = ProjectFactory(term=term)
    assert (
        'data-testid="advanced"' not in client.get(reverse("catalog:project_detail", args=[other.pk])).content.decode()
    )


def test_expert_draws_and_records_on_the_page(client, term, flagship, province):
    project = ProjectFactory(term=term, institution=flagship, status=S.SUBMITTED)
    for i in range(3):
        ProjectLecturer.objects.create(
            project=project,
            lecturer=Lecturer.objects.create(
                name=f"讲师{i}", organisation="单位", title="教授", expertise="数学", phone=f"1390000000{i}"
            ),
        )
    expert = make_actor(Role.EXPERT, region=province)
    login(client, expert)
    assert project.name in client.get(reverse("catalog:sampling")).content.decode()
    client.post(reverse("catalog:lecturer_sample", args=[project.pk]), {"sample-count": "2"})
    check = LecturerCheck.objects.filter(project=project).first()
    assert LecturerCheck.objects.filter(project=project).count() == 2
    client.post(
        reverse("catalog:check_record", args=[check.pk]), {"check-result": "unreachable", "check-note": "三次未接通"}
    )
    check.refresh_from_db()
    assert check.result == "unreachable"
    db = client.get(reverse("catalog:lecturer_db")).content.decode()
    assert "讲师0" in db and "13900000000" in db


def test_schedule_pages(client, term, flagship, province_actor):
    project = ProjectFactory(term=term, institution=flagship)
    soon = timezone.localdate() + timedelta(days=2)
    late_class = ProjectClassFactory(project=project, starts_on=soon, ends_on=soon)
    inst = make_actor(Role.INSTITUTION, institution=flagship)
    login(client, inst)
    page = client.get(reverse("catalog:schedules") + f"?term={term.pk}").content.decode()
    assert 'data-testid="due-row"' in page and 'data-testid="late-row"' in page
    response = client.post(
        reverse("catalog:class_schedule", args=[late_class.pk]), {"schedule": "第1天 开班仪式"}, follow=True
    )
    assert "晚于规定时间" in response.content.decode()
    login(client, province_actor)
    page = client.get(reverse("catalog:schedules") + f"?term={term.pk}").content.decode()
    assert "逾期公布" in page and 'data-testid="late-row"' in page


def test_quota_caps_rules_and_terms_pages(client, term, flagship, province_actor, county):
    login(client, province_actor)
    page = client.get(reverse("catalog:quota_list") + f"?term={term.pk}").content.decode()
    assert flagship.name in page and "0 / 40" in page
    client.post(reverse("catalog:quota_list") + f"?term={term.pk}", {"institution": flagship.pk, "limit": "30"})
    assert "0 / 30" in client.get(reverse("catalog:quota_list") + f"?term={term.pk}").content.decode()
    officer = make_actor(Role.COUNTY, region=county)
    login(client, officer)
    client.post(reverse("catalog:region_caps") + f"?term={term.pk}", {"region": county.pk, "limit": "8"})
    assert 'value="8"' in client.get(reverse("catalog:region_caps") + f"?term={term.pk}").content.decode()
    # Terms: the province creates one from the preset and extends a window with a reason.
    login(client, province_actor)
    response = client.post(
        reverse("terms:term_create"),
        {
            "code": "2027H1",
            "name": "2027年上半年",
            "year": "2027",
            "selection_mode": "fcfs",
            "per_teacher_limit": "3",
            "schedule_lead_days": "5",
        },
    )
    assert response.status_code == 302
    window = Window.objects.get(term__code="2027H1", kind=WindowKind.PROJECT_APPLY)
    response = client.post(
        reverse("terms:window_extend", args=[window.pk]), {"new_ends_at": "2027-03-13T18:00", "reason": "系统故障顺延"}
    )
    assert response.status_code == 302
    page = client.get(reverse("terms:term_detail", args=[window.term_id])).content.decode()
    assert "系统故障顺延" in page and "2027-03-13 18:00" in page


@pytest.mark.parametrize(
    "role",
    [Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSTITUTION, Role.EXPERT, Role.MONITOR, Role.TEACHER, Role.SCHOOL],
)
def test_home_and_menu_pages_with_a_term(client, term, role, province, county, school, flagship):
    published = ProjectFactory(term=term, institution=flagship)
    ProjectClassFactory(project=published)
    scope = {
        Role.PROVINCE: {"region": province},
        Role.CITY: {"region": county.parent},
        Role.COUNTY: {"region": county},
        Role.INSTITUTION: {"institution": flagship},
        Role.EXPERT: {"region": province},
        Role.MONITOR: {"region": province},
        Role.TEACHER: {"school": school},
        Role.SCHOOL: {"school": school},
    }[role]
    actor = make_actor(role, **scope)
    login(client, actor)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="windows-panel"' in home and term.name in home
    from peixun.core.navigation import menu_for

    for item in menu_for(actor):
        assert client.get(item.url).status_code == 200, item.url_name
    assert client.get(reverse("catalog:project_detail", args=[published.pk])).status_code == 200
    assert client.get(reverse("terms:term_detail", args=[term.pk])).status_code == 200


# --- query counts: list pages do not grow with their rows ----------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _add_projects(term, institution, n, user, **kwargs):
    for _ in range(n):
        project = ProjectFactory(term=term, institution=institution, **kwargs)
        ProjectClassFactory(project=project)
        ProjectLecturer.objects.create(
            project=project,
            lecturer=Lecturer.objects.create(
                name="L", organisation=f"O{project.pk}", title="T", expertise="E", phone="1"
            ),
        )
        ChangeRequest.objects.create(
            project=project, kind="other", reason="r", proposed={"description": "d"}, requested_by=user
        )
        ProjectEvent.objects.create(project=project, kind="change_requested", note="n")


@pytest.mark.parametrize(
    "role,url_name",
    [
        (Role.TEACHER, "catalog:browse"),
        (Role.PROVINCE, "catalog:project_list"),
        (Role.INSTITUTION, "catalog:project_list"),
        (Role.PROVINCE, "catalog:change_list"),
        (Role.PROVINCE, "catalog:change_log"),
        (Role.PROVINCE, "catalog:lecturer_db"),
        (Role.PROVINCE, "catalog:quota_list"),
        (Role.PROVINCE, "catalog:schedules"),
        (Role.EXPERT, "catalog:sampling"),
        (Role.INSTITUTION, "catalog:staff_list"),
        (Role.PROVINCE, "terms:term_list"),
    ],
)
def test_list_pages_query_count_is_constant(client, term, province, school, flagship, role, url_name):
    scope = {
        Role.TEACHER: {"school": school},
        Role.PROVINCE: {"region": province},
        Role.INSTITUTION: {"institution": flagship},
        Role.EXPERT: {"region": province},
    }[role]
    actor = make_actor(role, **scope)
    login(client, actor)
    status = {"catalog:sampling": S.SUBMITTED}.get(url_name, S.PUBLISHED)
    url = reverse(url_name) + f"?term={term.pk}"
    _add_projects(term, flagship, 2, actor.user, status=status)
    InstitutionFactory()
    few = _queries(client, url)
    _add_projects(term, flagship, 6, actor.user, status=status)
    InstitutionFactory()
    assert _queries(client, url) == few, url_name


def test_management_lists_show_only_what_the_actor_manages(client, term, flagship, county):
    mine = ProjectFactory(term=term, institution=flagship)
    theirs = ProjectFactory(term=term)
    soon = timezone.localdate() + timedelta(days=2)
    ProjectClassFactory(project=mine, starts_on=soon, ends_on=soon)
    ProjectClassFactory(project=theirs, starts_on=soon, ends_on=soon)
    login(client, make_actor(Role.INSTITUTION, institution=flagship))
    page = client.get(reverse("catalog:project_list")).content.decode()
    assert mine.name in page and theirs.name not in page
    page = client.get(reverse("catalog:schedules") + f"?term={term.pk}").content.decode()
    assert mine.name in page and theirs.name not in page
    # A county bureau's review list holds its county's projects, not every published provincial one.
    local = ProjectFactory(term=term, level="county", region=county)
    login(client, make_actor(Role.COUNTY, region=county))
    page = client.get(reverse("catalog:project_list")).content.decode()
    assert local.name in page and mine.name not in page
