"""Certificate pages and API: downloads, the credit-page link, menu, scopes, public verification."""

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from peixun.core.roles import Role
from peixun.credits.services import ledger_reverse_source
from peixun.reports import services_certificates as services
from peixun.reports.models import IssuedCertificate
from tests.factories import TeacherFactory, credit_policy, make_actor, post_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


@pytest.fixture
def teacher(policy, school):
    teacher = TeacherFactory(school=school, name="司马文静")
    post_credit(teacher, "3", category="tongchou", earned_on=date(2024, 5, 1))
    return teacher


def test_teacher_downloads_own_statement_from_the_credit_page(client, teacher):
    actor = make_actor(Role.TEACHER, teacher=teacher)
    client.force_login(actor.user)
    html = client.get(reverse("credits:my_credits")).content.decode()
    assert 'data-testid="credit-statement"' in html and "下载学分证明" in html
    home = client.get(reverse("reports:certificate_home"))
    assert home.status_code == 200 and "学分证明" in home.content.decode()
    assert reverse("reports:certificate_home") in client.get(reverse("home")).content.decode()  # menu
    response = client.get(reverse("reports:certificate_mine"))
    assert response.status_code == 200
    assert "司马文静" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    issued = IssuedCertificate.objects.get()
    again = client.get(reverse("reports:certificate_issued", args=[issued.serial]))
    assert again.status_code == 200 and again["Content-Type"] == "application/pdf"
    assert issued.serial in client.get(reverse("reports:certificate_home")).content.decode()


def test_officer_pages_are_scoped(client, teacher, school, other_school, county, other_county):
    stranger = TeacherFactory(school=other_school, name="外校教师")
    theirs = services.credit_statement_issue(actor=make_actor(Role.TEACHER, teacher=stranger), teacher=stranger)
    for actor in (make_actor(Role.SCHOOL, school=school), make_actor(Role.COUNTY, region=county)):
        client.force_login(actor.user)
        html = client.get(reverse("reports:certificate_home")).content.decode()
        assert "司马文静" in html and "外校教师" not in html and theirs.serial not in html
        assert teacher.national_id not in html  # masked in the list
        page = client.get(reverse("credits:teacher_credits", args=[teacher.pk])).content.decode()
        assert reverse("reports:certificate_teacher", args=[teacher.pk]) in page
        assert client.get(reverse("reports:certificate_teacher", args=[stranger.pk])).status_code == 404
        assert client.get(reverse("reports:certificate_issued", args=[theirs.serial])).status_code == 404
        assert client.get(reverse("reports:certificate_teacher", args=[teacher.pk])).status_code == 200
    client.force_login(make_actor(Role.COUNTY, region=other_county).user)
    assert client.get(reverse("reports:certificate_teacher", args=[teacher.pk])).status_code == 404
    client.force_login(make_actor(Role.AUDITOR, region=county).user)
    assert client.get(reverse("reports:certificate_home")).status_code == 403


def test_officer_list_query_count_does_not_grow(client, policy, county, school, django_assert_max_num_queries):
    teachers = TeacherFactory.create_batch(15, school=school)
    officer = make_actor(Role.COUNTY, region=county)
    for t in teachers[:8]:
        services.credit_statement_issue(actor=officer, teacher=t)
    client.force_login(officer.user)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("reports:certificate_home")).status_code == 200


def test_api_issue_list_download_and_scope(client, teacher, school, other_school, county):
    client.force_login(make_actor(Role.COUNTY, region=county).user)
    data = client.post(
        "/api/reports/certificates/statements", {"teacher_id": teacher.pk}, content_type="application/json"
    ).json()
    assert data["teacher_name"] == "司马文静" and data["kind"] == "credit" and len(data["serial"]) == 12
    assert data["verify_url"].startswith("http://testserver/reports/certificates/verify/")
    pdf = client.get(data["download_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    listing = client.get("/api/reports/certificates/issued").json()
    assert listing["count"] == 1 and listing["items"][0]["serial"] == data["serial"]
    assert client.get(f"/api/reports/certificates/issued/{data['serial']}").json()["cycle"] == data["cycle"]

    stranger = TeacherFactory(school=other_school)
    response = client.post(
        "/api/reports/certificates/statements", {"teacher_id": stranger.pk}, content_type="application/json"
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    bad = client.post(
        "/api/reports/certificates/statements",
        {"teacher_id": teacher.pk, "cycle": 2990},
        content_type="application/json",
    )
    assert bad.status_code == 422

    client.force_login(make_actor(Role.SCHOOL, school=other_school).user)
    assert client.get("/api/reports/certificates/issued").json()["count"] == 0
    assert client.get(f"/api/reports/certificates/issued/{data['serial']}").status_code == 404
    assert client.get(f"/api/reports/certificates/issued/{data['serial']}/pdf").status_code == 404


def test_public_verification_api_needs_no_login_and_shows_masked_data(teacher):
    issued = services.credit_statement_issue(actor=make_actor(Role.TEACHER, teacher=teacher), teacher=teacher)
    token = services.make_token(issued.serial, issued.digest)
    anonymous = Client()
    data = anonymous.get("/api/reports/certificates/verify", {"token": token}).json()
    assert data["state"] == "valid" and data["teacher_name"] == "司**静"
    assert teacher.national_id not in str(data) and data["national_id"].endswith(teacher.national_id[-4:])
    entry = teacher.ledger_entries.get()
    ledger_reverse_source(actor=None, source_type=entry.source_type, source_id=entry.source_id, reason="撤销")
    assert anonymous.get("/api/reports/certificates/verify", {"token": token}).json()["state"] == "outdated"
    tampered = anonymous.get("/api/reports/certificates/verify", {"token": token + "x"}).json()
    assert tampered["state"] == "invalid" and tampered["serial"] == ""
    page = anonymous.get(reverse("reports:certificate_verify", args=[token]))
    assert page.status_code == 200 and 'data-state="outdated"' in page.content.decode()
