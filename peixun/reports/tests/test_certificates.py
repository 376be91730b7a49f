"""Credit statements: PDF content, QR verification, outdated and forged documents, scopes."""

import io
from datetime import date

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from peixun.core.errors import NotFound, PermissionDenied
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.credits import selectors as credit_selectors
from peixun.credits.services import ledger_reverse_source
from peixun.reports import services_certificates as services
from peixun.reports.certificates import render_pdf
from peixun.reports.models import IssuedCertificate
from peixun.reports.tests.qrdecode import decode, matrices_in_pdf
from tests.factories import TeacherFactory, credit_policy, make_actor, post_credit

pytestmark = pytest.mark.django_db

URL_BASE = "http://testserver"


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


def cycle_day(month=10):
    rules = credit_selectors.active_rules()
    start, _end = rules.cycle_bounds(rules.cycle_of(timezone.localdate()))
    day = date(start.year, month, 1)
    return min(day, timezone.localdate())


@pytest.fixture
def teacher(policy, school):
    teacher = TeacherFactory(school=school, name="欧阳晓明", probation_end=date(2010, 8, 31))
    post_credit(teacher, "4.5", category="tongchou", level="province", earned_on=cycle_day(9))
    post_credit(teacher, "2", category="zizhu", source_type="schoolbased", earned_on=cycle_day(10))
    return teacher


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def verify_url(issued):
    token = services.make_token(issued.serial, issued.digest)
    return URL_BASE + reverse("reports:certificate_verify", args=[token])


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_statement_pdf_is_chinese_with_the_teachers_name_standing_and_authority(teacher, school):
    bureau = make_actor(Role.COUNTY, region=school.county)
    issued = services.credit_statement_issue(actor=bureau, teacher=teacher)
    text = pdf_text(render_pdf(issued, verify_url(issued)))
    assert "欧阳晓明" in text
    assert "教师继续教育学分证明" in text
    assert teacher.national_id not in text and teacher.national_id[-4:] in text  # masked
    assert school.name in text
    assert "统筹培训" in text and "自主培训" in text and "4.5" in text
    assert "教育局" in text and issued.serial in text
    assert "出具日期" in text
    standing, _entries = credit_selectors.teacher_standing(actor=bureau, teacher=teacher)
    assert standing.category("tongchou").counted == 4.5  # the engine's figure is what was printed


def test_qr_code_drawn_in_the_pdf_decodes_to_the_verification_url(teacher):
    actor = make_actor(Role.TEACHER, teacher=teacher)
    issued = services.credit_statement_issue(actor=actor, teacher=teacher)
    url = verify_url(issued)
    found = matrices_in_pdf(render_pdf(issued, url))
    assert len(found) == 1
    link, matrix = found[0]
    assert link == url
    assert decode(matrix) == url


def test_verification_passes_then_fails_once_the_ledger_changes(teacher, client):
    actor = make_actor(Role.TEACHER, teacher=teacher)
    issued = services.credit_statement_issue(actor=actor, teacher=teacher)
    url = verify_url(issued)
    token = token_of(url)
    assert services.verify_token(token).state == services.VALID
    page = client.get(url)
    assert page.status_code == 200 and page.context["result"].state == "valid"
    body = page.content.decode()
    assert "欧**明" in body and "欧阳晓明" not in body and teacher.national_id not in body
    assert "真实有效" in body

    entry = teacher.ledger_entries.get(category="tongchou")
    ledger_reverse_source(actor=None, source_type=entry.source_type, source_id=entry.source_id, reason="成绩撤销审核")
    result = services.verify_token(token)
    assert result.state == services.OUTDATED
    body = client.get(url).content.decode()
    assert "已过期" in body and "账本" in body

    # a new statement reflects the reversal and verifies; the old one stays outdated
    fresh = services.credit_statement_issue(actor=actor, teacher=teacher)
    assert fresh.serial != issued.serial
    assert services.verify_token(token_of(verify_url(fresh))).state == services.VALID
    assert services.verify_token(token).state == services.OUTDATED


def test_new_credit_also_outdates_the_statement(teacher):
    actor = make_actor(Role.TEACHER, teacher=teacher)
    issued = services.credit_statement_issue(actor=actor, teacher=teacher)
    post_credit(teacher, "1", category="tongchou", earned_on=cycle_day(11))
    assert services.verify_token(token_of(verify_url(issued))).state == services.OUTDATED


def test_tampered_or_forged_tokens_are_invalid(teacher, client):
    actor = make_actor(Role.TEACHER, teacher=teacher)
    issued = services.credit_statement_issue(actor=actor, teacher=teacher)
    token = token_of(verify_url(issued))
    serial, digest = services.read_token(token)
    other_digest = "A" + digest[1:] if digest[0] != "A" else "B" + digest[1:]
    cases = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature altered
        token.replace(digest, other_digest),  # digest altered, old signature
        f"{serial}.{digest}",  # no signature
        signing.Signer(salt="another", key="not-the-secret").sign(f"{serial}.{digest}"),  # forged signature
        services.make_token(serial, other_digest),  # genuine signature over a digest never issued
        services.make_token("NOSUCHSERIAL", digest),
        "garbage",
    ]
    for bad in cases:
        assert services.verify_token(bad).state == services.INVALID, bad
    response = client.get(reverse("reports:certificate_verify", args=[cases[0]]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "签名无效" in body and "欧" not in body  # nothing about the teacher is shown


def test_digest_changes_with_any_entry_or_amount_and_is_keyed(teacher, settings):
    statement = services.credit_statement(teacher)
    payload = dict(statement.payload)
    assert services.digest_of(payload) == statement.digest
    changed = dict(payload, entries=[[i, "9"] for i, _amount in payload["entries"]])
    assert services.digest_of(changed) != statement.digest
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert services.digest_of(payload) != statement.digest


def test_unchanged_ledger_reissues_the_same_statement_and_audits_each_issue(teacher, school):
    officer = make_actor(Role.SCHOOL, school=school)
    first = services.credit_statement_issue(actor=officer, teacher=teacher)
    second = services.credit_statement_issue(actor=officer, teacher=teacher)
    assert first.pk == second.pk
    assert IssuedCertificate.objects.count() == 1
    actions = list(
        AuditLog.objects.filter(object_type="reports.issuedcertificate", object_id=str(first.pk)).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["reports.certificate.issue", "reports.certificate.reissue"]
    assert first.issued_by == officer.user and first.issued_role == Role.SCHOOL


def test_scopes_teacher_own_only_officers_in_scope(teacher, school, other_school, county, other_county):
    other_teacher = TeacherFactory(school=other_school)
    own = make_actor(Role.TEACHER, teacher=teacher)
    with pytest.raises(NotFound):
        services.credit_statement_issue(actor=own, teacher=other_teacher)
    with pytest.raises(NotFound):
        services.credit_statement_issue(actor=make_actor(Role.SCHOOL, school=other_school), teacher=teacher)
    with pytest.raises(NotFound):
        services.credit_statement_issue(actor=make_actor(Role.COUNTY, region=other_county), teacher=teacher)
    with pytest.raises(PermissionDenied):
        services.credit_statement_issue(actor=make_actor(Role.AUDITOR, region=county), teacher=teacher)
    assert services.credit_statement_issue(actor=make_actor(Role.COUNTY, region=county), teacher=teacher)
    assert IssuedCertificate.objects.count() == 1


def test_download_pages_and_scope(teacher, school, other_school, client):
    own = make_actor(Role.TEACHER, teacher=teacher)
    client.force_login(own.user)
    response = client.get(reverse("reports:certificate_mine"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "欧阳晓明" in pdf_text(response.content)
    other = TeacherFactory(school=other_school)
    assert client.get(reverse("reports:certificate_teacher", args=[other.pk])).status_code == 404
    assert client.get(reverse("reports:certificate_teacher", args=[teacher.pk])).status_code == 200
    bad = client.get(reverse("reports:certificate_mine") + "?cycle=abc")
    assert bad.status_code == 400 and "学分周期" in bad.content.decode()

    client.logout()
    assert client.get(reverse("reports:certificate_mine")).status_code == 302  # sign in first
    admin = make_actor(Role.SCHOOL, school=school)
    client.force_login(admin.user)
    assert client.get(reverse("reports:certificate_teacher", args=[teacher.pk])).status_code == 200
    assert client.get(reverse("reports:certificate_teacher", args=[other.pk])).status_code == 404


def test_document_is_chinese_whatever_the_requesters_language(teacher):
    from django.utils import translation

    actor = make_actor(Role.TEACHER, teacher=teacher)
    with translation.override("en"):
        issued = services.credit_statement_issue(actor=actor, teacher=teacher)
        text = pdf_text(render_pdf(issued, verify_url(issued)))
    assert "统筹培训" in text and "Coordinated" not in text and "姓名" in text


def test_markup_and_missing_glyphs_in_data_are_drawn_as_text(policy, school):
    teacher = TeacherFactory(school=school, name="<b>李·四</b>")
    post_credit(teacher, "1", earned_on=cycle_day(9))
    issued = services.credit_statement_issue(actor=make_actor(Role.TEACHER, teacher=teacher), teacher=teacher)
    text = pdf_text(render_pdf(issued, verify_url(issued)))
    assert "<b>李・四</b>" in text


def test_statement_of_a_cycle_the_policy_no_longer_has_verifies_as_outdated(teacher, monkeypatch):
    from peixun.core.errors import InvalidInput

    issued = services.credit_statement_issue(actor=make_actor(Role.TEACHER, teacher=teacher), teacher=teacher)
    token = token_of(verify_url(issued))

    def no_such_cycle(rules, cycle):
        raise InvalidInput("学分周期无效。")

    monkeypatch.setattr(services, "check_cycle", no_such_cycle)
    assert services.verify_token(token).state == services.OUTDATED
