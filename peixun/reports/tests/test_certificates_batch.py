"""A school's credit statements as one background job: the real worker, a zip of PDFs, scopes, retry."""

import csv
import io
import zipfile
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.core.services import JOB_TASKS
from peixun.reports import services_certificates as services
from peixun.reports.models import IssuedCertificate
from peixun.roster.models import Teacher
from tests.factories import SchoolFactory, TeacherFactory, credit_policy, make_actor, post_credit


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections like in production
def test_school_batch_runs_in_the_worker_and_zips_every_statement(client, policy, school, county):
    names = ["赵一", "钱二", "孙三"]
    for i, name in enumerate(names):
        post_credit(TeacherFactory(school=school, name=name), str(i + 1), earned_on=date(2024, 3, 1))
    TeacherFactory(school=school, name="离职者", status=Teacher.Status.LEFT)
    TeacherFactory(school=SchoolFactory(county=county), name="别校教师")
    actor = make_actor(Role.SCHOOL, school=school)
    client.force_login(actor.user)
    response = client.post(reverse("reports:certificate_batch"), {"cycle": ""})
    job = Job.objects.get(owner=actor.user, kind="certificates")
    assert response.status_code == 302 and response.url == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.QUEUED and job.total == 3
    assert AuditLog.objects.filter(action="reports.certificate.batch", user=actor.user).exists()

    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.progress == 3 and "3" in job.message
    download = client.get(reverse("core:job_download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 3
    texts = {n: PdfReader(io.BytesIO(archive.read(n))).pages[0].extract_text() for n in pdfs}
    for name in names:
        assert any(name in n and name in text for n, text in texts.items())
    assert not any("离职者" in t or "别校教师" in t for t in texts.values())
    listing = [n for n in archive.namelist() if n.endswith(".csv")]
    rows = list(csv.reader(io.StringIO(archive.read(listing[0]).decode("utf-8-sig"))))
    assert rows[0][0] == "姓名" and len(rows) == 4
    for row in rows[1:]:
        assert row[-1].startswith("http://testserver/reports/certificates/verify/")
        assert services.verify_token(row[-1].rstrip("/").rsplit("/", 1)[-1]).state == services.VALID
    assert IssuedCertificate.objects.count() == 3
    assert AuditLog.objects.filter(action="reports.certificate.issue", user=actor.user).count() == 3

    # running it again re-issues the unchanged statements (same serials), so a retry is harmless
    client.post(reverse("reports:certificate_batch"), {"cycle": ""})
    run_worker()
    assert IssuedCertificate.objects.count() == 3


@pytest.mark.django_db
def test_batch_scope_and_bad_input(client, policy, school, other_school, county, other_county):
    TeacherFactory(school=school)
    TeacherFactory(school=other_school)
    bureau = make_actor(Role.COUNTY, region=county)
    client.force_login(bureau.user)
    response = client.post(reverse("reports:certificate_batch"), {"school": other_school.code}, follow=True)
    assert "不在您的管理范围" in response.content.decode()  # another county's school does not exist for this officer
    response = client.post(reverse("reports:certificate_batch"), {"school": ""}, follow=True)
    assert "请选择学校" in response.content.decode()
    empty = SchoolFactory(county=county)
    response = client.post(reverse("reports:certificate_batch"), {"school": empty.code}, follow=True)
    assert "没有在职教师" in response.content.decode()
    response = client.post(reverse("reports:certificate_batch"), {"school": school.code, "cycle": "2019"}, follow=True)
    assert "学分周期无效" in response.content.decode()
    assert not Job.objects.exists()

    api = client.post(
        "/api/reports/certificates/batches", {"school_id": other_school.pk}, content_type="application/json"
    )
    assert api.status_code == 404
    ok = client.post("/api/reports/certificates/batches", {"school_id": school.pk}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "queued" and ok.json()["total"] == 1

    teacher = make_actor(Role.TEACHER, school=school)
    client.force_login(teacher.user)
    assert client.post(reverse("reports:certificate_batch"), {"school": school.code}).status_code == 403
    with pytest.raises(Exception, match="角色"):
        services.certificate_batch_start(actor=teacher, school=school, base_url="http://x/")
    assert "certificates" in JOB_TASKS  # failed batches can be retried from the jobs page


@pytest.mark.django_db
def test_batch_form_on_the_page(client, policy, school, county):
    TeacherFactory(school=school, name="周五")
    client.force_login(make_actor(Role.COUNTY, region=county).user)
    html = client.get(reverse("reports:certificate_home") + f"?school={school.code}").content.decode()
    assert 'data-testid="batch-form"' in html and school.code in html and "周五" in html
    client.force_login(make_actor(Role.SCHOOL, school=school).user)
    html = client.get(reverse("reports:certificate_home")).content.decode()
    assert 'data-testid="batch-form"' in html and school.name in html
