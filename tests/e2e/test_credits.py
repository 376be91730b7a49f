"""A teacher opens the credit page on a phone: categories, progress rings and explanations."""

import pytest
from django.core.management import call_command

from peixun.core.demodata import DEMO_PASSWORD
from tests.e2e.conftest import login, screenshot


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


def test_teacher_sees_credits_and_explanations_on_a_phone(demo, live_server, phone_page):
    login(phone_page, live_server, "demo_teacher", DEMO_PASSWORD)
    phone_page.goto(f"{live_server.url}/credits/mine/")
    phone_page.wait_for_selector("#credit-chart[data-rendered='1']")
    assert phone_page.locator("h1").first.inner_text() == "我的学分"
    tongchou = phone_page.locator("[data-testid=category-tongchou]")
    assert "统筹培训" in tongchou.inner_text() and "26" in tongchou.inner_text()
    assert "自主培训" in phone_page.locator("[data-testid=category-zizhu]").inner_text()
    ledger = phone_page.locator("[data-testid=ledger]").inner_text()
    assert "全部计入" in ledger and "计入统筹培训" in ledger
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
    screenshot(phone_page, "credits-teacher-phone")


def test_province_compares_a_draft_policy(demo, live_server, page):
    login(page, live_server, "demo_province", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/credits/policies/")
    page.click("text=学分制改革征求意见稿（预设方案B）")
    page.click("text=基于真实数据的假设分析")
    page.click("[data-testid=whatif-run]")  # a background job: progress first, the result when done
    page.wait_for_selector("[id^=job-]")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    page.reload()
    table = page.locator("[data-testid=whatif]").inner_text()
    assert "上城区" in table
    screenshot(page, "credits-whatif")


def test_province_activates_a_draft_and_the_policy_page_follows_the_recomputation(demo, live_server, page):
    login(page, live_server, "demo_province", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/credits/policies/")
    page.click("text=学分制改革征求意见稿（预设方案B）")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('启用')")
    job = page.locator("[data-testid=activation-job] [id^=job-]")
    job.wait_for()
    assert "启用后的重新计算" in page.locator("[data-testid=activation-job]").inner_text()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    # The card polls the job (htmx) and shows it done without a reload.
    page.wait_for_selector("[data-testid=activation-job] [data-testid=job-message]:has-text('重新计算')")
    assert "100%" in job.inner_text()
    screenshot(page, "credits-policy-activated")
