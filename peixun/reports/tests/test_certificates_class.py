"""Class completion certificates: only for approved passed results; outdated after 取消审核; scopes; pages; API."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from peixun.core.errors import Conflict, NotFound
from peixun.core.roles import Role
from peixun.reports import services_certificates as services
from peixun.reports import services_class_certificates as class_services
from peixun.reports.certificates import render_pdf
from peixun.reports.models import IssuedCertificate
from peixun.reports.tests.qrdecode import decode, matrices_in_pdf
from peixun.results import services as result_services
from tests.factories import (
    EnrollmentFactory,
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    credit_policy,
    make_actor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


@pytest.fixture
def project_class(policy, institution, province):
    project = ProjectFactory(
        institution=institution,
        region=province,
        name="小学数学深度学习研修",
        hours_offline=Decimal("40"),
        credits=Decimal("4"),
    )
    # 第1期: tests add the project's other classes by number (2–5, 9); the factory's own number
    # comes from a process-wide counter and could be any of them.
    return ProjectClassFactory(project=project, number=1, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))


@pytest.fixture
def trainees(project_class, school):
    names = ["上官婉儿", "诸葛明", "东方朔"]
    return [
        EnrollmentFactory(project_class=project_class, teacher=TeacherFactory(school=school, name=n)).teacher
        for n in names
    ]


@pytest.fixture
def reviewer(institution):
    return make_actor(Role.INSTITUTION_REVIEWER, institution=institution)


def approve(project_class, institution, reviewer, values):
    """Enter, submit and approve a class's results; values: teacher id -> (offline hours, passed)."""
    clerk = make_actor(Role.INSTITUTION, institution=institution)
    sheet = result_services.sheet_open(actor=clerk, project_class=project_class)
    rows = [
        {
            "id": r.pk,
            "hours_offline": values[r.teacher_id][0],
            "hours_online": "",
            "passed": values[r.teacher_id][1],
            "remarks": "",
        }
        for r in sheet.results.all()
    ]
    result_services.results_save(actor=clerk, sheet=sheet, rows=rows)
    sheet = result_services.sheet_submit(actor=clerk, sheet=sheet)
    return result_services.sheet_approve(actor=reviewer, sheet=sheet)


@pytest.fixture
def sheet(project_class, trainees, institution, reviewer):
    values = {trainees[0].pk: ("40", True), trainees[1].pk: ("30", True), trainees[2].pk: ("40", False)}
    return approve(project_class, institution, reviewer, values)


def pdf_text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def url_of(issued) -> str:
    return "http://testserver" + reverse(
        "reports:certificate_verify", args=[services.make_token(issued.serial, issued.digest)]
    )


def test_certificate_for_a_passed_trainee_verifies_until_the_approval_is_cancelled(
    sheet, project_class, trainees, reviewer
):
    passed = trainees[0]
    actor = make_actor(Role.TEACHER, teacher=passed)
    issued = class_services.class_certificate_issue(actor=actor, teacher=passed, project_class=project_class)
    assert issued.kind == "class" and issued.authority == project_class.project.institution.name
    url = url_of(issued)
    pdf = render_pdf(issued, url)
    text = pdf_text(pdf)
    assert "上官婉儿" in text and "培训结业证书" in text and "小学数学深度学习研修" in text
    assert "40" in text and "4" in text and passed.national_id not in text
    (link, matrix), *_ = matrices_in_pdf(pdf)
    assert link == url and decode(matrix) == url
    token = url.rstrip("/").rsplit("/", 1)[-1]
    result = services.verify_token(token)
    assert result.state == services.VALID and result.public_data()["credits"] == "4"

    result_services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason="学分类型选错")
    assert services.verify_token(token).state == services.OUTDATED
    with pytest.raises(Conflict):
        class_services.class_certificate_issue(actor=actor, teacher=passed, project_class=project_class)
    result_services.sheet_approve(actor=reviewer, sheet=sheet.__class__.objects.get(pk=sheet.pk))
    assert services.verify_token(token).state == services.OUTDATED  # a new approval round: issue anew
    fresh = class_services.class_certificate_issue(actor=actor, teacher=passed, project_class=project_class)
    assert fresh.serial != issued.serial
    assert services.verify_token(services.make_token(fresh.serial, fresh.digest)).state == services.VALID


def test_partial_hours_show_the_credits_posted_and_failed_trainees_get_none(sheet, project_class, trainees, school):
    officer = make_actor(Role.SCHOOL, school=school)
    partial = class_services.class_certificate_issue(actor=officer, teacher=trainees[1], project_class=project_class)
    assert partial.snapshot["class"]["credits"] == "3" and partial.snapshot["class"]["hours"] == "30"
    with pytest.raises(Conflict) as info:
        class_services.class_certificate_issue(actor=officer, teacher=trainees[2], project_class=project_class)
    assert "合格" in info.value.message
    stranger = TeacherFactory(school=school)
    with pytest.raises(Conflict):
        class_services.class_certificate_issue(actor=officer, teacher=stranger, project_class=project_class)
    again = class_services.class_certificate_issue(actor=officer, teacher=trainees[1], project_class=project_class)
    assert again.pk == partial.pk
    assert IssuedCertificate.objects.count() == 1


def test_scope(sheet, project_class, trainees, other_school, other_county, county):
    with pytest.raises(NotFound):
        class_services.class_certificate_issue(
            actor=make_actor(Role.SCHOOL, school=other_school), teacher=trainees[0], project_class=project_class
        )
    with pytest.raises(NotFound):
        class_services.class_certificate_issue(
            actor=make_actor(Role.COUNTY, region=other_county), teacher=trainees[0], project_class=project_class
        )
    other_teacher = make_actor(Role.TEACHER, school=other_school)
    with pytest.raises(NotFound):
        class_services.class_certificate_issue(actor=other_teacher, teacher=trainees[0], project_class=project_class)
    assert class_services.class_certificate_issue(
        actor=make_actor(Role.COUNTY, region=county), teacher=trainees[0], project_class=project_class
    )


def test_pages_and_api(client, sheet, project_class, trainees, school, other_school):
    actor = make_actor(Role.TEACHER, teacher=trainees[0])
    client.force_login(actor.user)
    html = client.get(reverse("reports:certificate_home")).content.decode()
    assert f'data-testid="class-certificate-{project_class.pk}"' in html and "小学数学深度学习研修" in html
    response = client.get(reverse("reports:certificate_mine_class", args=[project_class.pk]))
    assert response.status_code == 200 and "上官婉儿" in pdf_text(response.content)

    failed = make_actor(Role.TEACHER, teacher=trainees[2])
    client.force_login(failed.user)
    html = client.get(reverse("reports:certificate_home")).content.decode()
    assert "class-certificate-" not in html
    response = client.get(reverse("reports:certificate_mine_class", args=[project_class.pk]))
    assert response.status_code == 409 and "合格" in response.content.decode()

    officer = make_actor(Role.SCHOOL, school=school)
    client.force_login(officer.user)
    page = client.get(reverse("reports:certificate_teacher_documents", args=[trainees[1].pk])).content.decode()
    assert reverse("reports:certificate_teacher_class", args=[trainees[1].pk, project_class.pk]) in page
    data = client.get(f"/api/reports/certificates/teachers/{trainees[1].pk}/classes").json()
    assert [(d["class_id"], d["credits"]) for d in data] == [(project_class.pk, "3.00")]
    issued = client.post(
        "/api/reports/certificates/class-certificates",
        {"teacher_id": trainees[1].pk, "class_id": project_class.pk},
        content_type="application/json",
    ).json()
    assert issued["kind"] == "class" and issued["project_class_id"] == project_class.pk
    refused = client.post(
        "/api/reports/certificates/class-certificates",
        {"teacher_id": trainees[2].pk, "class_id": project_class.pk},
        content_type="application/json",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_passed_result"

    client.force_login(make_actor(Role.SCHOOL, school=other_school).user)
    url = reverse("reports:certificate_teacher_class", args=[trainees[1].pk, project_class.pk])
    assert client.get(url).status_code == 404
    assert client.get(f"/api/reports/certificates/teachers/{trainees[1].pk}/classes").status_code == 404


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections like in production
def test_institution_generates_a_class_batch_in_the_worker(client, sheet, project_class, trainees, institution):
    import csv
    import zipfile

    from django.core.management import call_command

    from peixun.core.models import AuditLog, Job
    from peixun.core.services import JOB_TASKS

    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
    client.force_login(reviewer.user)
    html = client.get(reverse("reports:certificate_classes")).content.decode()
    assert f'data-testid="class-batch-{project_class.pk}"' in html and "2名学员合格" in html
    response = client.post(reverse("reports:certificate_class_batch", args=[project_class.pk]))
    job = Job.objects.get(owner=reviewer.user, kind="class_certificates")
    assert response.url == reverse("core:job_detail", args=[job.pk]) and job.total == 2
    assert AuditLog.objects.filter(action="reports.certificate.class_batch").exists()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("core:job_download", args=[job.pk])).streaming_content))
    )
    pdfs = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
    assert len(pdfs) == 2
    texts = [pdf_text(archive.read(n)) for n in pdfs]
    assert any("上官婉儿" in t for t in texts) and any("诸葛明" in t for t in texts)
    assert not any("东方朔" in t for t in texts)  # failed
    rows = list(csv.reader(io.StringIO(archive.read("清单.csv").decode("utf-8-sig"))))
    assert len(rows) == 3
    assert all(services.verify_token(r[-1].rstrip("/").rsplit("/", 1)[-1]).state == "valid" for r in rows[1:])
    assert "class_certificates" in JOB_TASKS


def test_class_batch_only_by_the_classes_institution(client, sheet, project_class, school):
    from tests.factories import InstitutionFactory

    stranger = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    with pytest.raises(NotFound):
        class_services.class_certificate_batch_start(actor=stranger, project_class=project_class, base_url="http://x/")
    client.force_login(stranger.user)
    assert "class-batch-" not in client.get(reverse("reports:certificate_classes")).content.decode()
    api = client.post(
        "/api/reports/certificates/class-batches", {"class_id": project_class.pk}, content_type="application/json"
    )
    assert api.status_code == 404
    client.force_login(make_actor(Role.SCHOOL, school=school).user)
    assert client.get(reverse("reports:certificate_classes")).status_code == 403
    empty = ProjectClassFactory(project=project_class.project, number=9)
    own = make_actor(Role.INSTITUTION, institution=project_class.project.institution)
    with pytest.raises(Conflict):
        class_services.class_certificate_batch_start(actor=own, project_class=empty, base_url="http://x/")


def test_document_and_class_pages_query_counts(
    client, sheet, project_class, trainees, school, institution, django_assert_max_num_queries
):
    officer = make_actor(Role.SCHOOL, school=school)
    for t in trainees[:2]:
        class_services.class_certificate_issue(actor=officer, teacher=t, project_class=project_class)
    client.force_login(officer.user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("reports:certificate_teacher_documents", args=[trainees[0].pk])).status_code == 200
    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
    for n in range(2, 6):
        k = ProjectClassFactory(
            project=project_class.project, number=n, starts_on=date(2024, 6, n), ends_on=date(2024, 6, n)
        )
        teacher = EnrollmentFactory(project_class=k, teacher=TeacherFactory(school=school)).teacher
        approve(k, institution, reviewer, {teacher.pk: ("40", True)})
    client.force_login(make_actor(Role.INSTITUTION, institution=institution).user)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("reports:certificate_classes")).content.decode()
    assert html.count('data-testid="class-batch-') == 5


def test_teachers_results_page_links_the_certificate_of_passed_classes(client, sheet, project_class, trainees):
    link = reverse("reports:certificate_mine_class", args=[project_class.pk])
    client.force_login(make_actor(Role.TEACHER, teacher=trainees[0]).user)
    assert link in client.get(reverse("results:my_results")).content.decode()
    client.force_login(make_actor(Role.TEACHER, teacher=trainees[2]).user)  # did not pass
    assert link not in client.get(reverse("results:my_results")).content.decode()
