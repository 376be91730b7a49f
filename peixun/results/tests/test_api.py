"""The results API at /api/results/: every step, the same rules and scopes as the pages."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from peixun.credits.models import LedgerEntry
from tests.factories import InstitutionFactory, make_actor

pytestmark = pytest.mark.django_db
API = "/api/results"


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def call(client, method, url, actor, data=None):
    kwargs = bearer(actor)
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    return getattr(client, method)(f"{API}{url}", **kwargs)


def test_every_step_through_the_api(client, policy, clerk, reviewer, project, project_class, trainees):
    listed = call(client, "get", "/classes?status=none", clerk).json()
    assert listed["count"] == 1 and listed["items"][0]["status"] == "none"
    sheet = call(client, "post", f"/classes/{project_class.pk}/sheet", clerk).json()
    assert sheet["status"] == "draft" and len(sheet["results"]) == 3
    assert sheet["planned_hours_offline"] == "40.0" or Decimal(sheet["planned_hours_offline"]) == 40
    sid = sheet["id"]
    # The sheet lists trainees by school and name (教师A, 教师B, 教师C), not in the order they enrolled.
    assert [r["teacher_id"] for r in sheet["results"]] == [trainees[i].teacher_id for i in (2, 0, 1)]
    row_of = {r["teacher_id"]: r["id"] for r in sheet["results"]}
    ids = [row_of[t.teacher_id] for t in trainees]  # trainee i's row
    bad = call(
        client,
        "put",
        f"/sheets/{sid}/results",
        clerk,
        {
            "rows": [
                {"id": ids[0], "hours_offline": 50, "passed": True},
                {"id": ids[1], "hours_offline": 40, "passed": True},
            ]
        },
    )
    assert bad.status_code == 400 and bad.json()["details"]["rows"][0]["id"] == ids[0]
    rows = [
        {"id": ids[0], "hours_offline": 40, "passed": True},
        {"id": ids[1], "hours_offline": 30, "passed": True, "remarks": "缺课一天"},
        {"id": ids[2], "hours_offline": 40, "passed": False},
    ]
    assert call(client, "put", f"/sheets/{sid}/results", clerk, {"rows": rows}).json() == {"changed": 3}
    assert call(client, "post", f"/sheets/{sid}/approve", reviewer).status_code == 409  # not submitted yet
    assert call(client, "post", f"/sheets/{sid}/submit", clerk).json()["status"] == "submitted"
    assert call(client, "post", f"/sheets/{sid}/approve", clerk).status_code == 403
    approved = call(client, "post", f"/sheets/{sid}/approve", reviewer).json()
    credits = {r["id"]: Decimal(r["credits"]) for r in approved["results"]}
    assert approved["status"] == "approved" and [credits[i] for i in ids] == [4, 3, 0]
    again = call(client, "post", f"/sheets/{sid}/approve", reviewer)
    assert again.status_code == 409 and again.json()["code"] == "already_approved"
    assert LedgerEntry.objects.count() == 2
    ledger = call(client, "get", f"/sheets/{sid}/ledger", reviewer).json()
    assert ledger["count"] == 2
    teacher = make_actor(Role.TEACHER, teacher=trainees[1].teacher)
    mine = call(client, "get", "/mine", teacher).json()["items"]
    assert [(m["status"], Decimal(m["credits"]), m["remarks"]) for m in mine] == [("approved", 3, "缺课一天")]
    cancelled = call(client, "post", f"/sheets/{sid}/cancel-approval", reviewer, {"reason": "核对学时"}).json()
    assert cancelled["status"] == "submitted"
    assert call(client, "get", "/mine", teacher).json()["items"][0]["credits"] is None
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 2
    returned = call(client, "post", f"/sheets/{sid}/return", reviewer, {"reason": "学时有误"}).json()
    assert returned["status"] == "draft" and returned["return_reason"] == "学时有误"
    assert call(client, "post", f"/sheets/{sid}/fill", clerk).json() == {"changed": 0}
    export = call(client, "get", f"/sheets/{sid}/export", clerk)
    assert load_workbook(io.BytesIO(export.content)).active.max_row == 4


def test_upload_through_the_api(client, clerk, project_class, trainees):
    sid = call(client, "post", f"/classes/{project_class.pk}/sheet", clerk).json()["id"]
    template = call(client, "get", f"/sheets/{sid}/template", clerk)
    wb = load_workbook(io.BytesIO(template.content))
    ws = wb["成绩登记"]
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=5, value=36)
        ws.cell(row=row, column=6, value="合格")
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "成绩.xlsx"
    created = client.post(f"{API}/sheets/{sid}/uploads", {"file": out}, **bearer(clerk))
    assert created.status_code == 201
    upload = created.json()
    assert (upload["status"], upload["rows"], upload["changed"], upload["errors"]) == ("preview", 3, 3, [])
    applied = call(client, "post", f"/uploads/{upload['id']}/apply", clerk).json()
    assert applied["status"] == "applied"
    sheet = call(client, "get", f"/sheets/{sid}", clerk).json()
    assert all(Decimal(r["hours_offline"]) == 36 and r["passed"] for r in sheet["results"])
    assert call(client, "post", f"/uploads/{upload['id']}/cancel", clerk).status_code == 409


def test_scopes_in_the_api(client, clerk, project_class, trainees, county):
    sid = call(client, "post", f"/classes/{project_class.pk}/sheet", clerk).json()["id"]
    stranger = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    assert call(client, "get", f"/sheets/{sid}", stranger).status_code == 404
    assert call(client, "post", f"/classes/{project_class.pk}/sheet", stranger).status_code == 404
    assert call(client, "get", "/classes", stranger).json()["count"] == 0
    assert call(client, "get", f"/sheets/{sid}", make_actor(Role.COUNTY, region=county)).status_code == 404
    assert call(client, "get", "/mine", clerk).status_code == 403
    assert call(client, "get", "/sheets/99999999999999999999", clerk).status_code == 422
