"""A county officer opens the dashboard, drills down to a school, exports it and opens the downloaded file."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from peixun.core.demodata import DEMO_PASSWORD
from peixun.roster.models import Teacher
from tests.e2e.conftest import login, screenshot


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


def test_county_officer_drills_down_and_exports_a_school(demo, live_server, page):
    login(page, live_server, "demo_county", DEMO_PASSWORD)
    page.click("[data-testid=dashboard-link]")
    page.wait_for_selector("[data-chart='chart-status'][data-rendered='1']")
    county = page.locator("[data-testid=node-name]").inner_text()
    assert "统计看板" in county
    assert "各学校达标情况" in page.content()
    screenshot(page, "reports-county-dashboard")

    link = page.locator("[data-testid=completion-row] a").first
    school_name = link.inner_text()
    link.click()
    page.wait_for_selector("[data-testid=crumbs]")
    assert school_name in page.locator("[data-testid=node-name]").inner_text()
    crumbs = page.locator("[data-testid=crumbs]").inner_text()
    assert school_name in crumbs and county.split()[0] in crumbs, "the breadcrumb leads back up"
    rows = page.locator("[data-testid=completion-row]")
    assert rows.count() > 0
    screenshot(page, "reports-school-dashboard")

    with page.expect_download() as info:
        page.click("[data-testid=export-completion]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and school_name in download.suggested_filename
    data = download.path().read_bytes()
    sheet = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "教师" and sheet[0][1] in ("在职教师", "在岗教师")
    names = {r[0] for r in sheet[1:]}
    expected = set(Teacher.objects.filter(school__name=school_name, status="active").values_list("name", flat=True))
    assert expected <= names

    # the last level: one teacher's standing and what is still open to them
    rows.first.locator("a").click()
    page.wait_for_selector("[data-testid=standing]")
    assert "符合该教师条件且仍有余额的已发布班期" in page.content()
