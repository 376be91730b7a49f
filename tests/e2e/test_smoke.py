"""Sign in as each demo role, open the home page, take a screenshot (desktop and phone)."""

import pytest
from django.core.management import call_command

from peixun.core.demodata import DEMO_PASSWORD
from tests.e2e.conftest import login, screenshot

ROLES = [
    "demo_province",
    "demo_city",
    "demo_county",
    "demo_school",
    "demo_teacher",
    "demo_institution",
    "demo_inst_reviewer",
    "demo_expert",
    "demo_monitor",
    "demo_auditor",
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_signs_in_and_sees_home(demo, live_server, page, username):
    login(page, live_server, username, DEMO_PASSWORD)
    assert page.url.rstrip("/") == live_server.url
    assert page.locator("h1").first.inner_text().startswith("您好")
    assert "教师培训管理平台" in page.title()
    screenshot(page, f"home-{username}")


def test_teacher_home_on_phone_and_id_login(demo, live_server, phone_page):
    from peixun.roster.models import Teacher

    teacher = Teacher.objects.get(user__username="demo_teacher")
    login(phone_page, live_server, teacher.national_id, DEMO_PASSWORD)
    assert phone_page.url.rstrip("/") == live_server.url
    # The menu collapses behind a button on a phone and opens on tap.
    phone_page.click("button[data-bs-target='#sidebar']")
    phone_page.wait_for_selector("#sidebar.show")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "page must not scroll sideways on a phone"
    screenshot(phone_page, "home-teacher-phone")


def test_wrong_password_shows_chinese_error(demo, live_server, page):
    login(page, live_server, "demo_county", "wrong-password")
    assert "用户名/身份证件号或密码错误" in page.content()
