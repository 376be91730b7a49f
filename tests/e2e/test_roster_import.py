"""A school admin imports the national system's export through the pages: a file with a bad row is
refused with its line number and changes nothing; the corrected file previews, then applies."""

import random

import pytest

from peixun.core.roles import Role
from peixun.roster.models import Teacher
from peixun.roster.synthetic import national_rows
from peixun.roster.tests.test_import import csv_bytes
from tests.e2e.conftest import login, screenshot
from tests.factories import PASSWORD, SchoolFactory, make_actor


@pytest.fixture
def school_admin(transactional_db):
    school = SchoolFactory()
    actor = make_actor(Role.SCHOOL, school=school)
    return actor.user, school


def upload(page, live_server, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{live_server.url}/roster/imports/new/")
    page.set_input_files("[data-testid=upload-form] input[type=file]", str(path))
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("[data-testid=import-status]")


def test_school_imports_its_roster_through_the_pages(live_server, page, school_admin, tmp_path):
    user, school = school_admin
    rows = list(national_rows(random.Random(7), [school], 3))
    bad = [dict(row) for row in rows]
    bad[1]["身份证件号"] = bad[1]["身份证件号"][:-1] + ("0" if bad[1]["身份证件号"][-1] != "0" else "1")
    login(page, live_server, user.username, PASSWORD)

    upload(page, live_server, tmp_path, "bad.csv", csv_bytes(bad, encoding="gbk"))
    page.wait_for_selector("[data-testid=import-invalid]")
    first_error = page.locator("[data-testid=error-table] tbody tr").first
    assert first_error.locator("td").first.inner_text() == "3"  # line 3 of the file (the header is line 1)
    assert "校验位" in first_error.inner_text()
    assert page.locator("[data-testid=apply-import]").count() == 0
    screenshot(page, "roster_import_invalid")
    assert not Teacher.objects.filter(school=school).exists()

    upload(page, live_server, tmp_path, "good.csv", csv_bytes(rows))
    assert page.inner_text("[data-testid=count-new]").strip() == "3"
    assert page.inner_text("[data-testid=count-errors]").strip() == "0"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=apply-import]")
    page.wait_for_selector("[data-testid=import-result]")
    screenshot(page, "roster_import_applied")
    assert set(Teacher.objects.filter(school=school).values_list("national_id", flat=True)) == {
        r["身份证件号"] for r in rows
    }

    page.goto(f"{live_server.url}/roster/teachers/")
    assert rows[0]["姓名"] in page.inner_text("main")
