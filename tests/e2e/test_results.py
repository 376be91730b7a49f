"""Results in the browser: the institution registers a class's results in the grid, its reviewer approves,
and the trainee sees the credits on their credit page."""

from datetime import date
from decimal import Decimal

import pytest

from peixun.core.roles import Role
from tests.e2e.conftest import DESKTOP, PHONE, login, screenshot
from tests.factories import (
    PASSWORD,
    EnrollmentFactory,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    ProvinceFactory,
    SchoolFactory,
    TeacherFactory,
    credit_policy,
    make_actor,
)


@pytest.fixture
def scene(transactional_db):
    province = ProvinceFactory()
    credit_policy("A", province=province)
    institution = InstitutionFactory(name="示范师范大学")
    project = ProjectFactory(
        institution=institution,
        region=province,
        name="小学数学大单元教学设计",
        hours_offline=Decimal("30"),
        credits=Decimal("3"),
    )
    klass = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
    school = SchoolFactory(county__parent__parent=province)
    teachers = [TeacherFactory(school=school, name=name) for name in ("王晓梅", "李建国", "张丽")]
    for t in teachers:
        EnrollmentFactory(project_class=klass, teacher=t)
    clerk = make_actor(Role.INSTITUTION, institution=institution)
    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
    trainee = make_actor(Role.TEACHER, teacher=teachers[2])  # 张丽: first row of the grid (sorted by name)
    return {
        "clerk": clerk.user.username,
        "reviewer": reviewer.user.username,
        "teacher": trainee.user.username,
    }


def test_register_approve_and_the_teacher_sees_the_credits(scene, live_server, page, browser):
    login(page, live_server, scene["clerk"], PASSWORD)
    page.click("nav.sidebar-nav >> text=成绩登记")
    row = page.locator("[data-testid=class-row]", has_text="小学数学大单元教学设计")
    assert "未开始" in row.inner_text()
    row.locator("[data-testid=open-class]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=grid-row]").count() == 3
    # Keyboard entry: type the first hours, Enter moves down the column.
    first = page.locator("[data-col=off]").first
    first.click()
    first.fill("30")
    page.keyboard.press("Enter")
    page.keyboard.type("24")
    page.keyboard.press("Enter")
    page.keyboard.type("30")
    selects = page.locator("select[data-col=p]")
    selects.nth(0).select_option("1")
    selects.nth(1).select_option("1")
    selects.nth(2).select_option("0")
    page.locator("[data-col=r]").nth(1).fill("缺课一天")
    page.locator("[data-col=r]").nth(2).fill("未提交作业")
    screenshot(page, "results-grid")
    page.once("dialog", lambda d: d.accept())
    page.click("[data-testid=save-submit]")
    page.wait_for_load_state("networkidle")
    assert "待审核" in page.locator("[data-testid=result-status]").first.inner_text()

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    review = context.new_page()
    try:
        login(review, live_server, scene["reviewer"], PASSWORD)
        review.click("nav.sidebar-nav >> text=成绩审核")
        review.locator("[data-testid=class-row]", has_text="小学数学大单元教学设计").locator(
            "[data-testid=open-class]"
        ).click()
        review.wait_for_load_state("networkidle")
        review.click("[data-testid=approve]")
        review.wait_for_load_state("networkidle")
        assert "已审核" in review.locator("[data-testid=result-status]").first.inner_text()
        credits = [c.inner_text() for c in review.locator("[data-testid=row-credits]").all()]
        assert sorted(credits) == ["0", "2.4", "3"]
        screenshot(review, "results-approved")
    finally:
        context.close()

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True)
    mine = phone.new_page()
    try:
        login(mine, live_server, scene["teacher"], PASSWORD)
        mine.goto(f"{live_server.url}/credits/mine/")
        tongchou = mine.locator("[data-testid=category-tongchou]").inner_text()
        assert "3" in tongchou
        assert "小学数学大单元教学设计" in mine.locator("[data-testid=ledger]").inner_text()
        mine.goto(f"{live_server.url}/results/mine/")
        assert mine.locator("[data-testid=my-result-credits]").inner_text().startswith("3")
        assert mine.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(mine, "results-teacher-phone")
    finally:
        phone.close()
