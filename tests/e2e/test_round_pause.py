"""Pausing round 1 in the browser: the province pauses it on the term page with a notice, the teacher's phone
shows the notice as a banner with the select buttons off, and after the province resumes, the teacher selects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.roles import Role
from peixun.terms.models import WindowKind
from tests.e2e.conftest import DESKTOP, login, screenshot
from tests.factories import (
    PASSWORD,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    ProvinceFactory,
    SchoolFactory,
    TeacherFactory,
    TermFactory,
    make_actor,
    term_windows_open,
)

NOTICE = "系统维护中，预计10:30恢复选课，请勿反复刷新。"


@pytest.fixture
def scene(transactional_db):
    province = ProvinceFactory()
    term = TermFactory(name="2026年下半年")
    term_windows_open(term, WindowKind.SELECT_R1)
    project = ProjectFactory(term=term, institution=InstitutionFactory(), name="小学数学大单元教学设计")
    start = timezone.localdate() + timedelta(days=30)
    ProjectClassFactory(project=project, starts_on=start, ends_on=start + timedelta(days=2), capacity=30)
    teacher = make_actor(Role.TEACHER, teacher=TeacherFactory(school=SchoolFactory(), name="钱老师"))
    officer = make_actor(Role.PROVINCE, region=province)
    return {"term": term, "teacher": teacher.user.username, "province": officer.user.username}


def test_province_pauses_and_resumes_round_one(scene, live_server, browser, phone_page):
    desk_context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    desk = desk_context.new_page()
    try:
        login(desk, live_server, scene["province"], PASSWORD)
        desk.goto(f"{live_server.url}/terms/{scene['term'].pk}/")
        desk.fill("#pause-notice", NOTICE)
        desk.once("dialog", lambda dialog: dialog.accept())
        desk.click("[data-testid=pause]")
        desk.wait_for_load_state("networkidle")
        assert "选课已暂停" in desk.locator(".alert-success[role=alert]").inner_text()
        assert "已暂停" in desk.locator("[data-testid=pause-row]").inner_text()
        screenshot(desk, "pause-term-page")

        phone = phone_page
        login(phone, live_server, scene["teacher"], PASSWORD)
        phone.goto(f"{live_server.url}/enrollment/")
        banner = phone.locator("[data-testid=round-paused]")
        assert "第1轮选课已暂停" in banner.inner_text() and NOTICE in banner.inner_text()
        assert phone.locator("[data-select-button]").first.is_disabled()
        screenshot(phone, "pause-teacher-phone")

        desk.click("[data-testid=resume]")
        desk.wait_for_load_state("networkidle")
        assert "选课已恢复" in desk.locator(".alert-success[role=alert]").inner_text()

        phone.reload()
        assert phone.locator("[data-testid=round-paused]").count() == 0
        phone.locator("[data-testid=class-card] button", has_text="选择此班期").click()
        phone.wait_for_load_state("networkidle")
        assert "选课成功" in phone.locator(".alert-success[role=alert]").inner_text()
    finally:
        desk_context.close()
