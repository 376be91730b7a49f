"""The monitoring API at /api/monitoring/: the same rules and scopes as the pages."""

from datetime import timedelta

import pytest

from peixun.accounts.services import token_create
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.monitoring.models import MisconductReport, SpotCheck
from tests.factories import make_actor

from .test_services import record, report

pytestmark = pytest.mark.django_db
API = "/api/monitoring"


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, actor, data):
    return client.post(url, data=data, content_type="application/json", **bearer(actor))


def test_spot_check_round_trip(client, monitor, klass, inst_actor, other_inst_actor, today):
    created = post(
        client,
        f"{API}/spot-checks",
        monitor,
        {
            "class_id": klass.pk,
            "checked_on": today.isoformat(),
            "method": "online",
            "rating": 2,
            "findings": "线上平台卡顿。",
            "follow_up_required": True,
            "follow_up_due": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "open" and body["institution_id"] == klass.project.institution_id
    check_id = body["id"]

    # Another institution neither lists nor reads nor answers it.
    assert client.get(f"{API}/spot-checks", **bearer(other_inst_actor)).json() == {"items": [], "count": 0}
    assert client.get(f"{API}/spot-checks/{check_id}", **bearer(other_inst_actor)).status_code == 404
    refused = post(client, f"{API}/spot-checks/{check_id}/answer", other_inst_actor, {"response": "x"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"

    answered = post(client, f"{API}/spot-checks/{check_id}/answer", inst_actor, {"response": "已扩容。"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert [c["id"] for c in client.get(f"{API}/spot-checks", **bearer(inst_actor)).json()["items"]] == [check_id]

    closed = post(client, f"{API}/spot-checks/{check_id}/close", monitor, {})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = post(client, f"{API}/spot-checks/{check_id}/close", monitor, {})
    assert again.status_code == 409 and again.json()["message"] == "该整改跟进已关闭。"


def test_spot_check_errors_are_4xx_in_chinese(client, monitor, klass, inst_actor, today):
    bad = post(
        client,
        f"{API}/spot-checks",
        monitor,
        {"class_id": klass.pk, "checked_on": today.isoformat(), "method": "on_site", "rating": 1, "findings": "差"},
    )
    assert bad.status_code == 400 and bad.json()["details"] == {"field": "follow_up_required"}
    forbidden = post(
        client,
        f"{API}/spot-checks",
        inst_actor,
        {"class_id": klass.pk, "checked_on": today.isoformat(), "method": "on_site", "rating": 3, "findings": "好"},
    )
    assert forbidden.status_code == 403
    assert not SpotCheck.objects.exists()


def test_misconduct_round_trip(
    client, klass, inst_actor, trainee, school_actor, county_actor, other_county_actor, today
):
    created = post(
        client,
        f"{API}/misconduct-reports",
        inst_actor,
        {
            "class_id": klass.pk,
            "teacher_national_id": trainee.national_id,
            "teacher_name": trainee.name,
            "kind": "absence",
            "description": "缺勤一天。",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["teacher_national_id"] == mask_national_id(trainee.national_id)
    report_id = body["id"]

    assert [r["id"] for r in client.get(f"{API}/misconduct-reports", **bearer(county_actor)).json()["items"]] == [
        report_id
    ]
    assert client.get(f"{API}/misconduct-reports", **bearer(other_county_actor)).json()["count"] == 0
    assert client.get(f"{API}/misconduct-reports/{report_id}", **bearer(other_county_actor)).status_code == 404

    acked = post(client, f"{API}/misconduct-reports/{report_id}/acknowledge", school_actor, {"note": "已谈话"})
    assert acked.status_code == 200 and acked.json()["school_note"] == "已谈话"
    assert acked.json()["county_acknowledged_at"] is None
    pending = client.get(f"{API}/misconduct-reports", {"pending": "true"}, **bearer(county_actor)).json()
    assert [r["id"] for r in pending["items"]] == [report_id]
    assert client.get(f"{API}/misconduct-reports", {"pending": "true"}, **bearer(school_actor)).json()["count"] == 0


def test_misconduct_with_unknown_teacher_is_refused(client, klass, inst_actor, trainee, today):
    response = post(
        client,
        f"{API}/misconduct-reports",
        inst_actor,
        {
            "class_id": klass.pk,
            "teacher_national_id": trainee.national_id,
            "teacher_name": "不是这个人",
            "kind": "absence",
            "description": "缺勤。",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
        },
    )
    assert response.status_code == 400 and response.json()["message"] == "没有与该身份证件号和姓名相符的教师。"
    assert not MisconductReport.objects.exists()


def test_teacher_gets_no_reports(client, klass, inst_actor, trainee, today):
    report(inst_actor, klass, trainee, today)
    teacher = make_actor(Role.TEACHER, teacher=trainee)
    assert client.get(f"{API}/misconduct-reports", **bearer(teacher)).status_code == 403


def test_scorecard_api(client, monitor, klass, term, institution, province, county, today):
    record(monitor, klass, today)
    body = client.get(f"{API}/scorecard", {"term_id": term.pk}, **bearer(monitor)).json()
    assert body["term_id"] == term.pk
    row = next(r for r in body["rows"] if r["institution_id"] == institution.pk)
    assert row["spot_checks"] == 1 and row["average_rating"] == 3.0 and row["enrolment_rate"] == 0.0
    assert client.get(f"{API}/scorecard", **bearer(make_actor(Role.COUNTY, region=county))).status_code == 403
    missing = client.get(f"{API}/scorecard", {"term_id": 999999}, **bearer(monitor))
    assert missing.status_code == 404
    assert client.get(f"{API}/scorecard", {"term_id": 2**70}, **bearer(monitor)).status_code == 422
