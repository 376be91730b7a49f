"""Course selection in the browser: a teacher selects on a phone, the principal approves, the institution
confirms (复核) and the teacher sees the class on the roster."""

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


@pytest.fixture
def scene(transactional_db):
    today = timezone.localdate()
    ProvinceFactory()
    term = TermFactory()
    # Round 1 selection is open (the school may review as selections arrive) and so is 复核.
    term_windows_open(term, WindowKind.SELECT_R1, WindowKind.CONFIRM_R1)
    institution = InstitutionFactory(name="示范师范大学")
    project = ProjectFactory(term=term, institution=institution, name="小学数学大单元教学设计")
    start = today + timedelta(days=30)
    ProjectClassFactory(
        project=project, starts_on=start, ends_on=start + timedelta(days=2), capacity=30, place="示范师范大学"
    )
    school = SchoolFactory(name="上城区实验小学")
    teacher = make_actor(Role.TEACHER, teacher=TeacherFactory(school=school, name="钱老师"))
    principal = make_actor(Role.SCHOOL, school=school)
    inst = make_actor(Role.INSTITUTION, institution=institution)
    return {"teacher": teacher.user.username, "principal": principal.user.username, "institution": inst.user.username}


def test_select_on_a_phone_then_review_and_confirm(scene, live_server, phone_page, browser):
    page = phone_page
    login(page, live_server, scene["teacher"], PASSWORD)
    page.locator("[data-testid=panel-selection] a", has_text="选课").first.click()
    card = page.locator("[data-testid=class-card]", has_text="小学数学大单元教学设计")
    assert "余 30 个名额" in card.inner_text()
    screenshot(page, "enrollment-phone-select")
    card.locator("button", has_text="选择此班期").click()
    page.wait_for_load_state("networkidle")
    assert "选课成功" in page.locator(".alert-success[role=alert]").inner_text()
    assert page.locator("[data-testid=enrollment-selected] [data-testid=state]").inner_text() == "待学校审核"
    screenshot(page, "enrollment-phone-mine")

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    desk = context.new_page()
    try:
        login(desk, live_server, scene["principal"], PASSWORD)
        desk.click("nav.sidebar-nav >> text=选课审核")
        row = desk.locator("[data-testid=review-row]", has_text="钱老师")
        row.locator("[data-testid=approve]").click()
        desk.wait_for_load_state("networkidle")
        assert "已审核通过 1 条选课" in desk.locator(".alert-success[role=alert]").inner_text()
        screenshot(desk, "enrollment-principal-approved")
        desk.context.clear_cookies()

        login(desk, live_server, scene["institution"], PASSWORD)
        desk.click("nav.sidebar-nav >> text=班期选课情况")
        desk.locator("[data-testid=class-row] a", has_text="小学数学大单元教学设计").click()
        desk.locator("[data-testid=enrollment-row]", has_text="钱老师").locator("[data-testid=confirm]").click()
        desk.wait_for_load_state("networkidle")
        assert "已复核通过 1 名学员" in desk.locator(".alert-success[role=alert]").inner_text()
        desk.click("text=名单 >> nth=0")
        assert "钱老师" in desk.locator("[data-testid=roster]").inner_text()
        screenshot(desk, "enrollment-roster")
    finally:
        context.close()

    page.reload()
    assert page.locator("[data-testid=enrollment-confirmed] [data-testid=state]").inner_text() == "机构已复核"
