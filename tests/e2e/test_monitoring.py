"""Quality monitoring in the browser: the monitor records a spot check, the institution answers it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.roles import Role
from tests.e2e.conftest import DESKTOP, login, screenshot
from tests.factories import (
    PASSWORD,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    ProvinceFactory,
    make_actor,
)


@pytest.fixture
def scene(transactional_db):
    today = timezone.localdate()
    province = ProvinceFactory()
    institution = InstitutionFactory(name="示范师范大学")
    project = ProjectFactory(institution=institution, name="初中数学新课标教学能力提升")
    klass = ProjectClassFactory(
        project=project, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=3), place="示范师范大学"
    )
    monitor = make_actor(Role.MONITOR, region=province)
    inst = make_actor(Role.INSTITUTION, institution=institution)
    return {"class": klass, "monitor": monitor.user.username, "institution": inst.user.username, "today": today}


def test_monitor_records_and_institution_answers(scene, live_server, page, browser):
    login(page, live_server, scene["monitor"], PASSWORD)
    page.click("nav.sidebar-nav >> text=待抽查班期")
    page.select_option("#when", "running")
    page.click("main form[method=get] button.btn-primary")
    row = page.locator("[data-testid=class-row]", has_text="初中数学新课标教学能力提升")
    row.locator("text=记录抽查").click()
    page.select_option("#id_method", "on_site")
    page.select_option("#id_rating", "2")
    page.fill("#id_findings", "第二天上午实到学员 32 人，应到 40 人；课表与实际授课一致。")
    page.check("#id_follow_up_required")
    page.fill("#id_follow_up_due", (scene["today"] + timedelta(days=7)).isoformat())
    screenshot(page, "monitoring-record-form")
    page.click("[data-testid=save-spotcheck]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=status]").inner_text() == "待机构答复"
    assert "实到学员 32 人" in page.locator("[data-testid=findings]").inner_text()
    screenshot(page, "monitoring-spotcheck-recorded")

    # The institution finds it on its home page and answers.
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    inst_page = context.new_page()
    try:
        login(inst_page, live_server, scene["institution"], PASSWORD)
        panel = inst_page.locator("[data-testid=panel-spotchecks]")
        assert "待答复的质量抽查意见" in panel.inner_text()
        panel.locator("a", has_text="初中数学新课标教学能力提升").click()
        inst_page.fill("#id_answer-response", "已核实缺勤学员名单并反馈派出学校，次日起由班主任每日两次点名。")
        inst_page.click("[data-testid=send-answer]")
        inst_page.wait_for_load_state("networkidle")
        assert inst_page.locator("[data-testid=status]").inner_text() == "已答复，待关闭"
        assert "每日两次点名" in inst_page.locator("[data-testid=response]").inner_text()
        screenshot(inst_page, "monitoring-institution-answered")
    finally:
        context.close()

    # The monitor sees the answer and closes the follow-up.
    page.reload()
    assert "每日两次点名" in page.locator("[data-testid=response]").inner_text()
    page.click("[data-testid=close-follow-up]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=status]").inner_text() == "整改已关闭"
    screenshot(page, "monitoring-follow-up-closed")
