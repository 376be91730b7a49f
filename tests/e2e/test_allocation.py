"""Fair allocation: a teacher ranks classes on a phone, the province runs and verifies the allocation,
the teacher sees which preference they got and why."""

import pytest
from django.core.management import call_command

from peixun.core.roles import Role
from peixun.enrollment.models import AllocationRun, Enrollment
from peixun.enrollment.tests.allocation_helpers import close_selection, make_class, teacher_with_credits
from peixun.terms.models import Term
from tests.e2e.conftest import login, screenshot
from tests.factories import (
    PASSWORD,
    CountyFactory,
    SchoolFactory,
    TermFactory,
    credit_policy,
    make_actor,
    term_windows_open,
)


@pytest.fixture
def setup(transactional_db, province):
    credit_policy("A", province=province)
    school = SchoolFactory(county=CountyFactory(parent__parent=province))
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR, name="2026年秋季学期")
    term_windows_open(term, "select_r1")
    first = make_class(term, capacity=1, starts_in=30)
    second = make_class(term, capacity=5, starts_in=60)
    rival = teacher_with_credits(school, 0)
    teacher = teacher_with_credits(school, 20)  # less behind on credits than the rival
    return {
        "term": term,
        "first": first,
        "second": second,
        "rival": rival,
        "teacher": teacher,
        "province": make_actor(Role.PROVINCE, region=province),
    }


def rank_on_phone(page, live_server, actor, *classes):
    login(page, live_server, actor.user.username, PASSWORD)
    page.goto(f"{live_server.url}/enrollment/allocation/mine/")
    for klass in classes:
        page.locator("[data-testid=candidate]", has_text=klass.project.name).locator("button").click()
        page.wait_for_selector(".alert-success")


def test_rank_allocate_verify_and_see_the_reason(setup, live_server, phone_page, page, browser):
    s = setup
    rank_on_phone(phone_page, live_server, s["teacher"], s["second"], s["first"])
    phone_page.locator("[data-testid=preference]", has_text=s["first"].project.name).locator("button[value=up]").click()
    prefs = phone_page.locator("[data-testid=preference]")
    assert s["first"].project.name in prefs.nth(0).inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
    screenshot(phone_page, "allocation-teacher-ranks-phone")

    rival_context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    rival_page = rival_context.new_page()
    rank_on_phone(rival_page, live_server, s["rival"], s["first"])
    rival_context.close()

    close_selection(s["term"])
    login(page, live_server, s["province"].user.username, PASSWORD)
    page.goto(f"{live_server.url}/enrollment/allocation/?term={s['term'].pk}")
    assert "已填报志愿的教师" in page.inner_text("body")
    page.fill("input[name=seed]", "20240307")
    page.click("[data-testid=start-allocation]")
    page.wait_for_selector("[data-testid=run-status]")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    run = AllocationRun.objects.get()
    assert run.status == AllocationRun.Status.DONE and run.seed == 20240307
    page.reload()
    assert "名额已分配" in page.inner_text("[data-testid=run-status]")
    page.click("[data-testid=verify]")
    assert "结果一致" in page.inner_text("[data-testid=verify-result]")
    screenshot(page, "allocation-run-verified")
    with page.expect_download() as info:
        page.click("[data-testid=export-csv]")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    lines = download.path().read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("姓名,身份证件号,学校") and len(lines) == 1 + 3  # the two teachers' three preferences

    phone_page.goto(f"{live_server.url}/enrollment/allocation/mine/")
    results = phone_page.locator("[data-testid=result-row]")
    assert "低于录取线" in results.nth(0).inner_text()  # the rival was further behind on credits
    assert "获得第2志愿" in results.nth(1).inner_text()
    screenshot(phone_page, "allocation-teacher-result-phone")
    assert Enrollment.objects.get(teacher_id=s["teacher"].teacher_id).project_class_id == s["second"].pk
