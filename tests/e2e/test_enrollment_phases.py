"""The seeded demo's later steps of course selection, clicked through as the demo roles would right after
``seed_demo``: the institution asks for 扩班 on a full class with a waitlist and the county bureau accepts
it at once (扩班申请与审批示范), finding it, and 扩班审批示范's pending request, through its home panel;
the first teacher on both waitlists (demo_teacher) is promoted and told, the institution
confirms (复核) and prints the roster, round 2 admits demo_teacher and refuses demo_principal's teacher role
with the rule, and the principal finds 选课审核 from the teacher role. Screenshots at desktop and 375 px."""

import pytest
from django.core.management import call_command

from peixun.core.demodata import DEMO_PASSWORD
from peixun.roster.models import Teacher
from tests.e2e.conftest import DESKTOP, PHONE, login, screenshot


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


def success(page) -> str:
    return page.locator(".alert-success[role=alert]").first.inner_text()


def open_elsewhere(page, text: str) -> None:
    """Follow the home page's link to a window open in another (demo) term."""
    page.locator("[data-testid=window-elsewhere] a", has_text=text).first.click()
    page.wait_for_load_state("networkidle")


def test_expansion_acceptance_promotion_confirmation_and_round_two(demo, live_server, browser):
    desk_context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    phone_context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True
    )
    desk_context.set_default_timeout(30000)
    phone_context.set_default_timeout(30000)
    desk, phone = desk_context.new_page(), phone_context.new_page()
    try:
        # 1. 扩班申请与审批示范: demo_institution asks for two more seats on the county's full class with a waitlist.
        login(desk, live_server, "demo_institution", DEMO_PASSWORD)
        open_elsewhere(desk, "培训机构扩班申请")
        assert "扩班申请与审批示范" in desk.locator("h1").inner_text()
        windows = desk.locator("[data-testid=windows]").inner_text()
        assert "培训机构扩班申请" in windows and "教育局受理扩班" in windows and "进行中" in windows
        desk.locator("[data-testid=class-row] a", has_text="班级管理与家校沟通").first.click()
        assert "候补中" in desk.locator(".nav-pills").inner_text()
        desk.fill("#seats", "2")
        desk.fill("#xreason", "候补教师较多，申请增加2个名额")
        desk.locator("button", has_text="申请扩班").click()
        desk.wait_for_load_state("networkidle")
        assert "扩班申请已提交" in success(desk)
        assert "候补教师较多" in desk.locator(".list-group").last.inner_text()
        screenshot(desk, "phases-expansion-requested")
        desk.context.clear_cookies()

        # 2. demo_county decides it right away: the home panel counts the requests of both terms whose
        # acceptance is open (this one and 扩班审批示范), one line each, linking to that term's requests.
        login(desk, live_server, "demo_county", DEMO_PASSWORD)
        panel = desk.locator("[data-testid=panel-enrollment]", has_text="待审核的扩班申请")
        assert panel.locator("[data-testid=panel-count]").inner_text() == "2"
        assert panel.locator("[data-testid=panel-term]").count() == 2
        screenshot(desk, "phases-county-home-two-terms")
        desk.set_viewport_size(PHONE)
        screenshot(desk, "phases-county-home-two-terms-phone")
        desk.set_viewport_size(DESKTOP)
        panel.locator("[data-testid=panel-term] a", has_text="扩班申请与审批示范").click()
        desk.wait_for_load_state("networkidle")
        row = desk.locator("[data-testid=expansion-row]", has_text="班级管理与家校沟通")
        assert desk.locator("[data-testid=expansion-row]").count() == 1
        assert "候补 4 人" in row.inner_text() and "申请增加 2 个名额" in row.inner_text()
        screenshot(desk, "phases-expansion-to-decide")
        row.locator("[data-testid=decide]").click()
        desk.wait_for_load_state("networkidle")
        assert "候补转正 2 人" in success(desk)
        desk.set_viewport_size(PHONE)
        screenshot(desk, "phases-expansion-decided-phone")
        desk.set_viewport_size(DESKTOP)

        # 扩班审批示范's request is left: the panel now links straight to that term's page.
        desk.goto(f"{live_server.url}/")
        panel = desk.locator("[data-testid=panel-enrollment]", has_text="待审核的扩班申请")
        assert panel.locator("[data-testid=panel-count]").inner_text() == "1"
        assert "扩班审批示范" in panel.locator("[data-testid=panel-term]").inner_text()
        panel.locator("a", has_text="打开").click()
        desk.wait_for_load_state("networkidle")
        row = desk.locator("[data-testid=expansion-row]", has_text="新教师课堂常规")
        row.locator("[data-testid=decide]").click()
        desk.wait_for_load_state("networkidle")
        assert "候补转正 3 人" in success(desk)
        desk.context.clear_cookies()

        # 3. demo_teacher (phone) headed both waitlists: now holds the seats awaiting the school, and is told.
        login(phone, live_server, "demo_teacher", DEMO_PASSWORD)
        phone.goto(f"{live_server.url}/core/notifications/")
        told = phone.locator("main").inner_text()
        assert "班级管理与家校沟通" in told and "新教师课堂常规" in told
        phone.goto(f"{live_server.url}/enrollment/mine/")
        for name in ("班级管理与家校沟通", "新教师课堂常规"):
            mine = phone.locator("[data-testid=enrollment-selected]", has_text=name)
            assert mine.count() == 1 and "待学校审核" in mine.inner_text()
        screenshot(phone, "phases-teacher-promoted-phone")

        # 4. 复核示范: demo_institution confirms demo_teacher and prints the roster.
        # Its home panel counts the trainees awaiting 复核 in both terms whose 复核 window is open.
        login(desk, live_server, "demo_institution", DEMO_PASSWORD)
        panel = desk.locator("[data-testid=panel-enrollment]", has_text="复核")
        assert panel.locator("[data-testid=panel-term]").count() == 2
        assert "第二轮复核示范" in panel.inner_text()
        screenshot(desk, "phases-institution-home-terms")
        panel.locator("[data-testid=panel-term] a", has_text="·复核示范").click()
        desk.wait_for_load_state("networkidle")
        desk.locator("[data-testid=class-row] a", has_text="信息技术支持的课堂教学").first.click()
        teacher_name = Teacher.objects.get(user__username="demo_teacher").name
        row = desk.locator("[data-testid=enrollment-row]", has_text=teacher_name)
        row.locator("[data-testid=confirm]").click()
        desk.wait_for_load_state("networkidle")
        assert "已复核通过 1 名学员" in success(desk)
        desk.locator("a", has_text="名单").first.click()
        desk.wait_for_load_state("networkidle")
        assert teacher_name in desk.locator("[data-testid=roster]").inner_text()
        screenshot(desk, "phases-roster")
        with desk.expect_download() as download:
            desk.locator("a", has_text="导出").first.click()
        assert download.value.suggested_filename.endswith(".xlsx")
        desk.context.clear_cookies()

        # 5. 第二轮选课示范: demo_teacher selected in round 1 and may select again.
        phone.goto(f"{live_server.url}/")
        selection = phone.locator("[data-testid=panel-selection]")
        assert selection.locator("[data-testid=panel-term]").count() == 2  # this term's round 1, the demo's round 2
        screenshot(phone, "phases-teacher-home-rounds-phone")
        open_elsewhere(phone, "第二轮选课")
        assert "第二轮选课仅限第一轮选过课的教师参加" in phone.locator("[data-testid=round-open]").inner_text()
        card = phone.locator("[data-testid=class-card]", has_text="课堂提问与学生思维培养")
        card.locator("button", has_text="选择此班期").click()
        phone.wait_for_load_state("networkidle")
        assert "选课成功" in success(phone)
        screenshot(phone, "phases-round2-selected-phone")

        # 6. demo_principal signs in with the teacher role: round 2 refuses with the rule; 选课审核 is one click away.
        login(desk, live_server, "demo_principal", DEMO_PASSWORD)
        open_elsewhere(desk, "第二轮选课")
        desk.locator("[data-testid=class-card]", has_text="课堂提问与学生思维培养").locator("button").click()
        desk.wait_for_load_state("networkidle")
        error = desk.locator(".alert-danger[role=alert]").first.inner_text()
        assert "第二轮选课仅限第一轮选过课的教师参加" in error
        screenshot(desk, "phases-round2-refused")
        desk.goto(f"{live_server.url}/")
        # The panel counts the school's pending selections of every term whose review is open, one line each.
        switch = desk.locator("[data-testid=panel-principal-switch]")
        assert switch.locator("[data-testid=panel-term]").count() >= 2
        screenshot(desk, "phases-principal-home-terms")
        switch.locator("[data-testid=panel-term]", has_text="校长审核示范").locator(
            "[data-testid=switch-to-term]"
        ).click()
        desk.wait_for_load_state("networkidle")
        assert desk.url.split("?")[0].endswith("/enrollment/review/")
        assert "校长审核示范" in desk.locator("h1").inner_text()
        assert desk.locator("[data-testid=review-row]").count() >= 3
        desk.locator("[data-testid=review-row] [data-testid=approve]").first.click()
        desk.wait_for_load_state("networkidle")
        assert "已审核通过 1 条选课" in success(desk)
        screenshot(desk, "phases-principal-review")
    finally:
        desk_context.close()
        phone_context.close()
