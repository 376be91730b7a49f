"""Institution applies a project → the province reviews and publishes it → a teacher finds it in the catalog.

Runs on the demo province (its current term has application, review and publication open).
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from peixun.core.demodata import DEMO_PASSWORD
from tests.e2e.conftest import login, screenshot

NAME = "端到端测试：小学数学项目式学习设计"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


def _leader_label():
    """An eligible leader of the demo institution with classes to spare this term."""
    from peixun.catalog import rules
    from peixun.catalog.models import StaffMember
    from peixun.terms.windows import current_term

    term = current_term()
    for staff in StaffMember.objects.filter(
        institution__code="I001", is_formal_employee=True, title__in=("senior", "assoc_senior")
    ).order_by("pk"):
        if "math" in staff.specialty_list and rules.leader_classes_elsewhere(term, staff.national_id) <= 2:
            return f"{staff.name}（{staff.get_title_display()}）"
    raise AssertionError("the demo has no free leader")


def test_apply_review_publish_and_find_in_catalog(demo, live_server, page, phone_page):
    from peixun.catalog.models import Project
    from peixun.roster.models import Teacher

    teacher = Teacher.objects.get(user__username="demo_teacher")
    # 1. The institution fills in the application form; credits appear as the hours are typed.
    login(page, live_server, "demo_institution", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/catalog/manage/")
    assert page.locator("[data-testid=quota]").is_visible()
    page.click("[data-testid=new-project]")
    page.fill("#id_name", NAME)
    page.fill("#id_theme", "项目式学习")
    page.select_option("#id_field", "subject_teaching")
    page.select_option("#id_subject_category", "math")
    page.select_option("#id_level", "provincial")
    page.select_option("#id_leader", label=_leader_label())
    page.check(f"input[name=target_stages][value={teacher.stage}]")
    page.select_option("#id_target_subjects", teacher.subject)
    page.select_option("#id_format", "face")
    page.fill("#id_days", "4")
    page.fill("#id_hours_offline", "32")
    page.locator("#id_hours_offline").dispatch_event("change")
    expect(page.locator("[data-testid=preview-credits]")).to_have_text("3.2")  # htmx swapped in the computed credits
    page.select_option("#id_credit_category", "tongchou")
    page.fill("#id_goals", "掌握项目式学习的设计方法，完成一个可实施的学习项目")
    page.fill("#id_content", "项目式学习理论；案例分析；分组设计；展示评价")
    page.fill("#id_fee_training", "800")
    page.fill("#id_fee_accommodation", "300")
    page.fill("#id_fee_meals", "100")
    page.fill("#id_fee_total", "1200")
    screenshot(page, "catalog-1-application-form")
    page.click("[data-testid=save-project]")
    page.wait_for_selector("[data-testid=checklist]")
    assert "请至少添加一个班期" in page.inner_text("[data-testid=checklist]")
    # 2. A class and a lecturer, then submit.
    page.click("[data-testid=add-class]")
    start = timezone.localdate() + timedelta(days=30)
    page.fill("#id_starts_on", start.isoformat())
    page.fill("#id_ends_on", (start + timedelta(days=3)).isoformat())
    page.fill("#id_place", "示范师范大学教师教育学院")
    page.fill("#id_capacity", "40")
    page.click("main button[type=submit]")
    page.click("[data-testid=add-lecturer]")
    page.fill("#id_name", "端木老师")
    page.fill("#id_organisation", "省教研室")
    page.fill("#id_title", "正高级教师")
    page.fill("#id_expertise", "小学数学")
    page.fill("#id_phone", "13812340000")
    page.click("main button[type=submit]:not([name])")
    page.wait_for_selector("[data-testid=submit-project]")
    assert "已满足全部申报要求" in page.inner_text("[data-testid=checklist]")
    page.click("[data-testid=submit-project]")
    page.wait_for_load_state("networkidle")
    assert "已提交审核" in page.content()
    project = Project.objects.get(name=NAME)
    assert project.status == "submitted"
    screenshot(page, "catalog-2-submitted")

    # 3. The province reviews: finds it in the review list, approves, publishes.
    page.context.clear_cookies()
    login(page, live_server, "demo_province", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/catalog/manage/?status=submitted")
    page.click(f"text={NAME}")
    page.click("[data-testid=approve]")
    page.wait_for_selector("[data-testid=publish]")
    screenshot(page, "catalog-3-review")
    page.click("[data-testid=publish]")
    page.wait_for_load_state("networkidle")
    project.refresh_from_db()
    assert project.status == "published"

    # 4. The teacher finds it on a phone, filtered to what fits them, and opens it.
    login(phone_page, live_server, "demo_teacher", DEMO_PASSWORD)
    phone_page.goto(f"{live_server.url}/catalog/?mine=on&q=项目式学习")
    results = phone_page.locator("[data-testid=catalog-results]")
    assert NAME in results.inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone_page, "catalog-4-teacher-catalog-phone")
    phone_page.click(f"text={NAME}")
    phone_page.wait_for_selector("[data-testid=fees]")
    text = phone_page.inner_text("main")
    assert "¥1200.00" in text and "端木老师" in text and "3.2" in text
    assert "13812340000" not in text  # lecturers' phones are for reviewers only
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone_page, "catalog-5-project-phone")


def test_bureau_and_institution_pages_on_phone_and_desktop(demo, live_server, page, phone_page):
    from peixun.terms.windows import current_term

    login(page, live_server, "demo_county", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-testid=windows-panel]").is_visible()
    screenshot(page, "catalog-home-county")
    page.goto(f"{live_server.url}/catalog/manage/")
    screenshot(page, "catalog-review-list-county")
    page.goto(f"{live_server.url}/terms/")
    page.click(f"text={current_term().name}")
    screenshot(page, "terms-detail")
    login(phone_page, live_server, "demo_institution", DEMO_PASSWORD)
    for path, name in (
        ("/", "home-institution-phone"),
        ("/catalog/manage/", "projects-institution-phone"),
        ("/catalog/schedules/", "schedules-institution-phone"),
        ("/catalog/changes/", "changes-institution-phone"),
    ):
        phone_page.goto(f"{live_server.url}{path}")
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, path
        screenshot(phone_page, name)
