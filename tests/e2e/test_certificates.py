"""A teacher downloads the credit statement on a phone; its QR link verifies publicly until the ledger changes."""

import io

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from peixun.core.demodata import DEMO_PASSWORD
from peixun.reports.tests.qrdecode import decode, matrices_in_pdf
from tests.e2e.conftest import login, screenshot


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--teachers", "300", verbosity=0)


def test_teacher_downloads_statement_and_anyone_verifies_it(demo, live_server, page, phone_page):
    from peixun.credits.models import LedgerEntry
    from peixun.credits.services import ledger_reverse_source
    from peixun.roster.models import Teacher

    teacher = Teacher.objects.get(user__username="demo_teacher")
    login(phone_page, live_server, "demo_teacher", DEMO_PASSWORD)
    phone_page.goto(f"{live_server.url}/credits/mine/")
    with phone_page.expect_download() as download:
        phone_page.click("[data-testid=credit-statement]")
    pdf = download.value.path().read_bytes()
    assert teacher.name in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    (link, matrix), *_rest = matrices_in_pdf(pdf)
    assert decode(matrix) == link and link.startswith(f"{live_server.url}/reports/certificates/verify/")

    # Anyone (not signed in) scans the code.
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(link)
    state = page.locator("[data-testid=verify-state]")
    assert state.get_attribute("data-state") == "valid"
    assert teacher.name not in page.content()  # masked
    screenshot(page, "certificate-verify-valid")

    entry = LedgerEntry.objects.filter(teacher=teacher, reverses__isnull=True, reversed_by__isnull=True).first()
    ledger_reverse_source(
        actor=None, source_type=entry.source_type, source_id=entry.source_id, teacher=teacher, reason="端到端测试撤销"
    )
    page.reload()
    assert page.locator("[data-testid=verify-state]").get_attribute("data-state") == "outdated"
    assert "已过期" in state.inner_text()
    screenshot(page, "certificate-verify-outdated")
