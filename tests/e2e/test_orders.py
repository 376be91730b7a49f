"""The order flow of attachment 2 in the browser, on the demo province:
county posts → province publishes the list → institution responds → county chooses →
institution formally applies → county approves and publishes → the class is in the catalog.

The demo's order response, selection and application windows are open (the province extended
them); the demand and list-publication days are past, so the test opens them as the province would.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from peixun.core.demodata import DEMO_PASSWORD
from tests.e2e.conftest import login, screenshot

NAME = "端到端订单：小学数学作业设计与评价"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)
    from peixun.terms.models import WindowKind
    from peixun.terms.windows import current_term
    from tests.factories import term_windows_open

    term_windows_open(current_term(), WindowKind.ORDER_DEMAND, WindowKind.ORDER_PUBLISH)


def _as(page, live_server, username):
    page.context.clear_cookies()
    login(page, live_server, username, DEMO_PASSWORD)


def test_county_posts_institution_responds_county_chooses_and_publishes(demo, live_server, page, phone_page):
    from peixun.catalog.models import Project
    from peixun.core.models import Notification
    from peixun.orders.models import Order, OrderResponse
    from peixun.roster.models import Teacher

    page.on("dialog", lambda dialog: dialog.accept())
    teacher = Teacher.objects.select_related("school").get(user__username="demo_teacher")

    # 1. The county fills in attachment 3 naming 示范师范大学, and posts it.
    _as(page, live_server, "demo_county")
    page.goto(f"{live_server.url}/orders/")
    page.click("[data-testid=new-order]")
    page.fill("#id_name", NAME)
    page.fill("#id_theme", "作业设计与评价")
    page.fill("#id_target_trainees", "全县小学数学教师")
    page.check(f"input[name=target_stages][value={teacher.stage}]")
    page.check(f"input[name=target_subjects][value={teacher.subject}]")
    page.select_option("#id_field", "subject_teaching")
    page.fill("#id_trainee_count", "40")
    page.fill("#id_days", "3")
    page.select_option("#id_level", "county")
    page.select_option("#id_format", "face")
    page.fill("#id_goals", "掌握分层作业设计与评价方法")
    page.fill("#id_course_requirements", "案例研讨与实操为主")
    page.check("label:has-text('示范师范大学') >> xpath=preceding-sibling::input")
    page.fill("#id_contact_person", "周老师")
    page.fill("#id_contact_phone", "13900001234")
    screenshot(page, "orders-1-county-order-form")
    page.click("[data-testid=post-order]")
    page.wait_for_selector("[data-testid=order-stage]")
    order = Order.objects.get(name=NAME)
    assert order.status == Order.Status.POSTED

    # 2. The province publishes the order list: it is pushed to the named institution only.
    _as(page, live_server, "demo_province")
    page.goto(f"{live_server.url}/orders/coverage/")
    page.click("[data-testid=publish-list]")
    page.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.status == Order.Status.PUBLISHED
    assert list(order.recipients.values_list("institution__code", flat=True)) == ["I001"]

    # 3. The institution responds with a draft project prefilled from the order.
    _as(page, live_server, "demo_institution")
    assert Notification.objects.filter(user__username="demo_institution", title__contains=NAME).exists()
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("[data-testid=respond]")
    assert "取自订单" in page.inner_text("main")
    page.select_option("#id_leader", index=1)
    start = timezone.localdate() + timedelta(days=30)
    page.fill("#id_class_starts_on", start.isoformat())
    page.fill("#id_class_place", "示范师范大学教师教育学院")
    page.fill("#id_fee_training", "600")
    page.fill("#id_fee_meals", "150")
    page.fill("#id_note", "可安排省级学科带头人授课")
    screenshot(page, "orders-2-response-form")
    page.click("[data-testid=create-response]")
    page.wait_for_selector("[data-testid=submit-response]")
    response = OrderResponse.objects.get(order=order)
    # It is an ordinary catalog project: a lecturer is entered on the project page.
    page.click("[data-testid=project-page]")
    page.click("[data-testid=add-lecturer]")
    page.fill("#id_name", "端木老师")
    page.fill("#id_organisation", "省教研室")
    page.fill("#id_title", "正高级教师")
    page.fill("#id_expertise", "小学数学")
    page.fill("#id_phone", "13812340000")
    page.click("main button[type=submit]:not([name])")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/orders/responses/{response.pk}/")
    page.click("[data-testid=submit-response]")
    page.wait_for_load_state("networkidle")
    response.refresh_from_db()
    assert response.status == OrderResponse.Status.SUBMITTED

    # 4. The county compares the responses side by side and chooses, with a remark.
    _as(page, live_server, "demo_county")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    table = page.locator("[data-testid=responses-compare]")
    assert "示范师范大学" in table.inner_text() and "符合全部申报规则" in table.inner_text()
    page.fill(f"#remark-{response.pk}", "方案贴合我县需求")
    screenshot(page, "orders-3-county-compares")
    page.click("[data-testid=select-response]")
    page.wait_for_selector("[data-testid=chosen-card]")
    order.refresh_from_db()
    assert order.status == Order.Status.SELECTED

    # 5. The chosen institution formally applies (on a phone).
    _as(phone_page, live_server, "demo_institution")
    phone_page.on("dialog", lambda dialog: dialog.accept())
    phone_page.goto(f"{live_server.url}/orders/responses/{response.pk}/")
    assert "方案贴合我县需求" in phone_page.inner_text("[data-testid=county-remark]")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone_page, "orders-4-institution-applies-phone")
    phone_page.click("[data-testid=apply-response]")
    phone_page.wait_for_load_state("networkidle")
    project = Project.objects.get(pk=response.project_id)
    assert project.status == Project.Status.SUBMITTED and project.is_order_project

    # 6. The county approves and publishes; the board shows the order's stage.
    _as(page, live_server, "demo_county")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("[data-testid=approve-project]")
    page.wait_for_selector("[data-testid=publish-project]")
    page.click("[data-testid=publish-project]")
    page.wait_for_load_state("networkidle")
    assert "项目已发布" in page.inner_text("[data-testid=order-stage]")
    project.refresh_from_db()
    assert project.status == Project.Status.PUBLISHED and project.region_id == order.county_id
    _as(page, live_server, "demo_province")
    page.goto(f"{live_server.url}/orders/?q={NAME}")
    assert "项目已发布" in page.inner_text("[data-testid=order-table]")
    screenshot(page, "orders-5-province-board")

    # 7. The class is in the catalog, for the county's teachers to select.
    _as(phone_page, live_server, "demo_teacher")
    phone_page.goto(f"{live_server.url}/catalog/?q=作业设计与评价")
    assert NAME in phone_page.inner_text("[data-testid=catalog-results]")
    screenshot(phone_page, "orders-6-teacher-catalog-phone")
