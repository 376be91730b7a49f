"""Pages, exports and home panels of monitoring: each role sees its part and nothing else."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core.masking import mask_national_id
from peixun.core.models import Notification
from peixun.core.roles import Role
from peixun.monitoring.models import MisconductReport, Rating, SpotCheck
from tests.factories import EnrollmentFactory, SchoolFactory, TeacherFactory, make_actor

from .conftest import running_class
from .test_services import record, report

pytestmark = pytest.mark.django_db


def sheet_rows(response):
    assert response.status_code == 200, response.content[:300]
    data = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def login(client, actor):
    client.force_login(actor.user)
    return client


# --- spot checks -----------------------------------------------------------------------------


def test_monitor_records_a_spot_check_through_the_page(client, monitor, klass, inst_actor, today):
    login(client, monitor)
    listing = client.get(reverse("monitoring:class_list"), {"when": "running"})
    assert klass.project.name in listing.content.decode()
    url = reverse("monitoring:spotcheck_create", args=[klass.pk])
    form = client.get(url)
    assert form.status_code == 200 and "记录抽查" in form.content.decode()
    response = client.post(
        url,
        {
            "checked_on": today.isoformat(),
            "method": SpotCheck.Method.ON_SITE,
            "rating": Rating.PASS,
            "findings": "部分学员未签到。",
            "follow_up_required": "on",
            "follow_up_due": (today + timedelta(days=5)).isoformat(),
            "attachments": [SimpleUploadedFile("签到表.pdf", b"%PDF-1.4")],
        },
    )
    check = SpotCheck.objects.get()
    assert response.status_code == 302 and response.url == reverse("monitoring:spotcheck_detail", args=[check.pk])
    assert check.attachments.get().name == "签到表.pdf"
    detail = client.get(response.url).content.decode()
    assert "部分学员未签到。" in detail and "待机构答复" in detail and "关闭整改跟进" in detail
    assert Notification.objects.filter(user=inst_actor.user).exists()


def test_spot_check_form_shows_errors_in_chinese(client, monitor, klass, today):
    login(client, monitor)
    response = client.post(
        reverse("monitoring:spotcheck_create", args=[klass.pk]),
        {"checked_on": today.isoformat(), "method": "on_site", "rating": Rating.FAIL, "findings": "严重问题"},
    )
    assert response.status_code == 200
    assert "评为“不合格”的班级须要求培训机构整改。" in response.content.decode()
    assert not SpotCheck.objects.exists()


def test_institution_answers_on_the_page_and_monitor_closes(client, monitor, klass, inst_actor, today):
    check = record(monitor, klass, today)
    login(client, inst_actor)
    url = reverse("monitoring:spotcheck_detail", args=[check.pk])
    assert "提交答复" in client.get(url).content.decode()
    response = client.post(url, {"form": "answer", "answer-response": "已整改完毕。"})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.status == SpotCheck.Status.ANSWERED and check.response == "已整改完毕。"
    login(client, monitor)
    client.post(url, {"form": "close", "close-note": ""})
    check.refresh_from_db()
    assert check.status == SpotCheck.Status.CLOSED


def test_an_institution_never_sees_another_institutions_findings(
    client, monitor, klass, other_klass, inst_actor, other_inst_actor, today
):
    mine = record(monitor, klass, today, findings="我们的班")
    theirs = record(monitor, other_klass, today, findings="别人的班", attachments=[SimpleUploadedFile("a.pdf", b"x")])
    login(client, inst_actor)
    page = client.get(reverse("monitoring:spotcheck_list")).content.decode()
    assert klass.project.name in page and other_klass.project.name not in page
    assert client.get(reverse("monitoring:spotcheck_detail", args=[theirs.pk])).status_code == 404
    attachment = theirs.attachments.get()
    url = reverse("monitoring:attachment_download", args=[theirs.pk, attachment.pk])
    assert client.get(url).status_code == 404
    rows = sheet_rows(client.get(reverse("monitoring:spotcheck_list"), {"export": "1"}))
    assert rows[0][0] == "抽查日期" and [r[8] for r in rows[1:]] == ["我们的班"]
    # The other institution downloads its own attachment.
    login(client, other_inst_actor)
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"x"
    assert client.get(reverse("monitoring:spotcheck_detail", args=[mine.pk])).status_code == 404


def test_responsible_bureau_reads_checks_of_its_projects(
    client, monitor, term, institution, county, other_county, today
):
    local = record(monitor, running_class(term, institution, county, today), today)
    elsewhere = record(monitor, running_class(term, institution, other_county, today), today)
    login(client, make_actor(Role.COUNTY, region=county))
    assert client.get(reverse("monitoring:spotcheck_detail", args=[local.pk])).status_code == 200
    assert client.get(reverse("monitoring:spotcheck_detail", args=[elsewhere.pk])).status_code == 404
    rows = sheet_rows(client.get(reverse("monitoring:spotcheck_list"), {"export": "1"}))
    assert [r[2] for r in rows[1:]] == [local.project_class.project.code]


def test_spot_check_list_filters(client, monitor, klass, other_klass, today):
    record(monitor, klass, today, rating=Rating.EXCELLENT, follow_up_required=False)
    open_one = record(monitor, other_klass, today, rating=Rating.PASS)
    login(client, monitor)

    def shown(**params):
        return client.get(reverse("monitoring:spotcheck_list"), params).context["state"].rows

    assert list(shown(status="open")) == [open_one]
    assert list(shown(rating=Rating.PASS)) == [open_one]
    assert list(shown(institution=other_klass.project.institution_id)) == [open_one]
    assert len(shown()) == 2


# --- misconduct reports ----------------------------------------------------------------------


def test_institution_reports_a_trainee_through_the_page(client, klass, inst_actor, trainee, school_actor, today):
    login(client, inst_actor)
    listing = client.get(reverse("monitoring:class_list"), {"when": "started"}).content.decode()
    assert reverse("monitoring:misconduct_create", args=[klass.pk]) in listing
    url = reverse("monitoring:misconduct_create", args=[klass.pk])
    data = {
        "national_id": trainee.national_id,
        "name": trainee.name,
        "kind": MisconductReport.Kind.EARLY_LEAVE,
        "starts_on": today.isoformat(),
        "ends_on": today.isoformat(),
        "description": "下午提前离开。",
    }
    wrong = client.post(url, {**data, "name": "张三"})
    assert "没有与该身份证件号和姓名相符的教师。" in wrong.content.decode()
    response = client.post(url, data)
    filed = MisconductReport.objects.get()
    assert response.status_code == 302 and filed.teacher == trainee
    assert Notification.objects.filter(user=school_actor.user, kind="monitoring.misconduct").exists()


def test_institution_cannot_open_another_institutions_class(client, other_klass, inst_actor):
    login(client, inst_actor)
    assert client.get(reverse("monitoring:misconduct_create", args=[other_klass.pk])).status_code == 404
    assert client.get(reverse("monitoring:spotcheck_create", args=[other_klass.pk])).status_code == 403


def test_school_sees_masked_ids_and_acknowledges(client, klass, inst_actor, trainee, school_actor, today):
    filed = report(inst_actor, klass, trainee, today)
    login(client, school_actor)
    page = client.get(reverse("monitoring:misconduct_list")).content.decode()
    assert mask_national_id(trainee.national_id) in page and trainee.national_id not in page
    url = reverse("monitoring:misconduct_detail", args=[filed.pk])
    assert trainee.national_id not in client.get(url).content.decode()
    response = client.post(url, {"note": "已约谈该教师。"})
    assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.school_ack_note == "已约谈该教师。" and filed.county_ack_at is None
    assert "确认已知悉" not in client.get(url).content.decode()


def test_a_county_never_sees_another_countys_reports(
    client, klass, other_klass, inst_actor, other_inst_actor, trainee, other_trainee, county_actor, today
):
    mine = report(inst_actor, klass, trainee, today)
    theirs = report(other_inst_actor, other_klass, other_trainee, today)
    login(client, county_actor)
    page = client.get(reverse("monitoring:misconduct_list")).content.decode()
    assert trainee.name in page and other_trainee.name not in page
    assert client.get(reverse("monitoring:misconduct_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("monitoring:misconduct_detail", args=[mine.pk])).status_code == 200
    rows = sheet_rows(client.get(reverse("monitoring:misconduct_list"), {"export": "1"}))
    assert rows[0][5:7] == ("学员", "身份证件号")
    assert [(r[5], r[6]) for r in rows[1:]] == [(trainee.name, mask_national_id(trainee.national_id))]


def test_teacher_has_no_misconduct_pages(client, klass, inst_actor, trainee, today):
    filed = report(inst_actor, klass, trainee, today)
    login(client, make_actor(Role.TEACHER, teacher=trainee))
    assert client.get(reverse("monitoring:misconduct_list")).status_code == 403
    assert client.get(reverse("monitoring:misconduct_detail", args=[filed.pk])).status_code == 403


# --- home panels -----------------------------------------------------------------------------


def test_home_panels(client, monitor, klass, inst_actor, trainee, school_actor, county_actor, today):
    check = record(monitor, klass, today)
    filed = report(inst_actor, klass, trainee, today)
    home = reverse("home")
    assert "未关闭的整改" in login(client, monitor).get(home).content.decode()
    html = login(client, inst_actor).get(home).content.decode()
    assert "待答复的质量抽查意见" in html and reverse("monitoring:spotcheck_detail", args=[check.pk]) in html
    for actor in (school_actor, county_actor):
        html = login(client, actor).get(home).content.decode()
        assert "待确认的培训纪律报告" in html and reverse("monitoring:misconduct_detail", args=[filed.pk]) in html
    # Once acknowledged the school's panel goes away, the county's stays until it acknowledges too.
    from peixun.monitoring import services

    services.misconduct_acknowledge(actor=school_actor, report=filed)
    assert "待确认的培训纪律报告" not in login(client, school_actor).get(home).content.decode()
    assert "待确认的培训纪律报告" in login(client, county_actor).get(home).content.decode()


# --- query counts ----------------------------------------------------------------------------


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_list_queries_do_not_grow_with_rows(client, monitor, term, institution, county, province, today):
    inst = make_actor(Role.INSTITUTION, institution=institution)
    county_actor = make_actor(Role.COUNTY, region=county)

    def add_rows():
        klass = running_class(term, institution, province, today)
        record(monitor, klass, today)
        teacher = TeacherFactory(school=SchoolFactory(county=county))
        EnrollmentFactory(teacher=teacher, project_class=klass)
        report(inst, klass, teacher, today)

    add_rows()
    pages = [
        (monitor, reverse("monitoring:spotcheck_list")),
        (monitor, reverse("monitoring:class_list")),
        (monitor, reverse("monitoring:misconduct_list")),
        (county_actor, reverse("monitoring:misconduct_list")),
        (inst, reverse("monitoring:spotcheck_list")),
        (inst, reverse("home")),
        (county_actor, reverse("home")),
        (monitor, reverse("home")),
    ]
    before = []
    for actor, url in pages:
        login(client, actor)
        before.append(count_queries(client, url))
    for _ in range(4):
        add_rows()
    after = []
    for actor, url in pages:
        login(client, actor)
        after.append(count_queries(client, url))
    assert after == before
