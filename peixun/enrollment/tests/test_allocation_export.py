# ruff: noqa: F811  (fixtures imported from allocation_helpers are redefined as test parameters)
"""An allocation run's outcomes: the export (xlsx and csv, page and API, scoped and masked, the
page's rows, the same for the same inputs and seed) and one audit record per applicant teacher."""

import csv
import io

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core import selectors as core_selectors
from peixun.core.masking import mask_national_id
from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.core.tasks import run_export
from peixun.enrollment.models import AllocationResult
from peixun.enrollment.services.allocation import TEACHER_AUDIT_ACTION, allocation_execute, allocation_start
from peixun.terms.models import Term
from tests.factories import SchoolFactory, make_actor

from .allocation_helpers import (  # noqa: F401  (fixtures)
    fair_term,
    make_class,
    policy,
    province_actor,
    rank,
    teacher_with_credits,
    zh,
)

pytestmark = pytest.mark.django_db

# Columns of the export that the run's page shows too (name, choice, project, class, score, lottery, outcome, reason).
NAME, ID, SCHOOL, COUNTY, CHOICE, PROJECT, CLASS = range(7)
SCORE, LOTTERY, OUTCOME, REASON = 9, 10, 13, 14


@pytest.fixture
def world(policy, fair_term, province_actor, county, other_county, school, other_school):
    """Two counties, the first with two schools; a class of 5 seats ranked first by everyone under a
    share cap of 50% (two seats per school: the third teacher of the first school is capped), and a
    second class of one seat as everyone's second choice (the capped teacher gets it)."""
    Term.objects.filter(pk=fair_term.pk).update(school_share_cap=50)
    fair_term.refresh_from_db()
    popular = make_class(fair_term, capacity=5, starts_in=30)
    spare = make_class(fair_term, capacity=1, starts_in=60)
    second_school = SchoolFactory(county=county)
    teachers = {
        "a1": teacher_with_credits(school, 0),
        "a2": teacher_with_credits(school, 10),
        "a3": teacher_with_credits(school, 15),
        "b1": teacher_with_credits(second_school, 5),
        "c1": teacher_with_credits(other_school, 0),
        "c2": teacher_with_credits(other_school, 20),
        "c3": teacher_with_credits(other_school, 30),  # last in the priority order: both classes full
    }
    for actor in teachers.values():
        rank(actor.user.teacher, fair_term, popular, spare)
    return {
        "term": fair_term,
        "teachers": {k: a.user.teacher for k, a in teachers.items()},
        "second_school": second_school,
        "classes": (popular, spare),
    }


def allocate(province_actor, term, seed=11):
    return allocation_execute(allocation_start(actor=province_actor, term=term, seed=seed).pk)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def xlsx_rows(data: bytes):
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def csv_rows(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark (Excel, WPS)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def export(client, actor, run, **params):
    client.force_login(actor.user)
    return client.get(reverse("enrollment:allocation_run", args=[run.pk]), {"export": "1", **params})


def test_county_and_school_export_only_their_teachers_ids_masked(client, zh, world, province_actor, county, school):
    run = allocate(province_actor, world["term"])
    t = world["teachers"]
    county_officer = make_actor(Role.COUNTY, region=county)

    response = export(client, county_officer, run)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    headers, rows = xlsx_rows(body(response))
    assert headers[:5] == ("姓名", "身份证件号", "学校", "区县", "志愿")
    mine = {t[k].name for k in ("a1", "a2", "a3", "b1")}
    assert {r[NAME] for r in rows} == mine and len(rows) == 8  # two preferences each, nobody of the other county
    # The other county's school as a filter gives nothing rather than its rows.
    other = t["c1"].school_id
    assert xlsx_rows(body(export(client, county_officer, run, school=str(other))))[1] == []
    # IDs masked; the full number appears nowhere in the file.
    data = body(export(client, county_officer, run, format="csv"))
    _headers, rows = csv_rows(data)
    by_name = {t[k].name: t[k] for k in ("a1", "a2", "a3", "b1")}
    for r in rows:
        assert r[ID] == mask_national_id(by_name[r[NAME]].national_id) and "*" in r[ID]
    for teacher in t.values():
        assert teacher.national_id.encode() not in data

    # A school exports its own teachers only.
    principal = make_actor(Role.SCHOOL, school=school)
    _headers, rows = xlsx_rows(body(export(client, principal, run)))
    assert {r[NAME] for r in rows} == {t["a1"].name, t["a2"].name, t["a3"].name}
    # A teacher has their own page, not the export.
    assert export(client, make_actor(Role.TEACHER, teacher=t["a1"]), run).status_code == 403
    assert AuditLog.objects.filter(action="core.export", user=county_officer.user).count() == 3


def test_export_holds_the_rows_the_page_lists_in_its_order(client, zh, settings, world, province_actor):
    settings.PEIXUN_PAGE_SIZE = 100
    run = allocate(province_actor, world["term"])
    client.force_login(province_actor.user)
    url = reverse("enrollment:allocation_run", args=[run.pk])
    assert 'data-testid="export-link"' in client.get(url).content.decode()
    for params in ({}, {"outcome": "school_cap"}, {"outcome": "allocated", "q": world["teachers"]["c2"].name}):
        page = [
            [
                r.teacher.name,
                str(r.rank),
                r.project_class.project.name,
                str(r.project_class.number),
                str(r.score),
                str(r.lottery),
                str(r.get_outcome_display()),
                r.reason,
            ]
            for r in client.get(url, params).context["state"].rows
        ]
        _headers, rows = csv_rows(body(export(client, province_actor, run, format="csv", **params)))
        exported = [[r[i] for i in (NAME, CHOICE, PROJECT, CLASS, SCORE, LOTTERY, OUTCOME, REASON)] for r in rows]
        assert exported == page and page
    # The share cap's effect is in the file: the school's seats against the cap.
    _headers, rows = csv_rows(body(export(client, province_actor, run, format="csv", outcome="school_cap")))
    assert rows and all(r[17] == "2" and r[18] == "2" and "学校名额" in r[REASON] for r in rows)


def test_the_same_inputs_and_seed_export_the_same_file(client, world, province_actor):
    with transaction.atomic():
        first_run = allocate(province_actor, world["term"], seed=42)
        first = body(export(client, province_actor, first_run, format="csv"))
        assert body(export(client, province_actor, first_run, format="csv")) == first  # exported twice
        transaction.set_rollback(True)  # as if the run had never happened
    second_run = allocate(province_actor, world["term"], seed=42)
    assert body(export(client, province_actor, second_run, format="csv")) == first
    assert len(csv_rows(first)[1]) == AllocationResult.objects.filter(run=second_run).count() == 14


def test_api_starts_a_scoped_export_job_and_the_owner_downloads_it(client, world, province_actor, county):
    run = allocate(province_actor, world["term"])
    county_officer = make_actor(Role.COUNTY, region=county)
    client.force_login(county_officer.user)
    url = f"/api/enrollment/allocation/runs/{run.pk}/export"
    assert client.post(url, {"outcome": "bogus"}, content_type="application/json").status_code == 400
    response = client.post(url, {"format": "csv"}, content_type="application/json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job_id"])
    assert job.owner == county_officer.user and job.total == 8 and job.params["format"] == "csv"
    run_export.call(job_id=job.pk)  # the worker's body
    status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "succeeded" and status["download_url"]
    _headers, rows = csv_rows(body(client.get(status["download_url"])))
    assert {r[NAME] for r in rows} == {world["teachers"][k].name for k in ("a1", "a2", "a3", "b1")}
    # The export job is its owner's alone.
    other = make_actor(Role.PROVINCE, region=province_actor.region)
    client.force_login(other.user)
    assert client.get(response.json()["status_url"]).status_code == 404
    # A teacher may not export.
    client.force_login(make_actor(Role.TEACHER, teacher=world["teachers"]["a1"]).user)
    assert client.post(url, {}, content_type="application/json").status_code == 403


def test_every_applicant_gets_an_audit_record_of_what_the_run_did(zh, world, province_actor):
    run = allocate(province_actor, world["term"])
    t = world["teachers"]
    records = {r.object_id: r for r in AuditLog.objects.filter(action=TEACHER_AUDIT_ACTION)}
    assert set(records) == {str(x.pk) for x in t.values()}
    popular, spare = world["classes"]
    for teacher in t.values():
        record = records[str(teacher.pk)]
        assert record.object_type == "roster.teacher" and record.user == province_actor.user
        after = record.after
        stored = list(AllocationResult.objects.filter(run=run, teacher=teacher).order_by("rank"))
        assert after["run"] == run.pk and after["lottery"] == stored[0].lottery
        assert after["score"] == str(stored[0].score) and after["place"] == stored[0].position + 1
        assert [(p["rank"], p["class"], p["outcome"], p["reason"]) for p in after["preferences"]] == [
            (r.rank, r.project_class_id, r.outcome, r.reason) for r in stored
        ]
        got = [r for r in stored if r.outcome == AllocationResult.Outcome.ALLOCATED]
        assert after["allocated"] == len(got)
        for p in after["preferences"]:
            if p["outcome"] == "allocated":
                assert p["enrollment"] == next(r.enrollment_id for r in got if r.project_class_id == p["class"])
            if p["outcome"] == "school_cap":
                assert (p["school_count"], p["school_limit"]) == (2, 2)
        assert teacher.name in record.summary and (("获得" in record.summary) == bool(got))
    assert "未获" in records[str(t["c3"].pk)].summary and records[str(t["c3"].pk)].after["allocated"] == 0
    run_record = AuditLog.objects.get(action="enrollment.allocation.run")
    assert run_record.after["teacher_records"] == len(t)
    # The auditor finds a teacher's record in the audit log (the only thing the role reads).
    auditor = make_actor(Role.AUDITOR, region=province_actor.region)
    found = core_selectors.audit_list(actor=auditor).filter(object_id=str(t["c2"].pk), action=TEACHER_AUDIT_ACTION)
    assert found.count() == 1


def test_export_queries_do_not_grow_with_rows(client, world, province_actor, county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = allocate(province_actor, world["term"])
    county_officer = make_actor(Role.COUNTY, region=county)
    counts = []
    for actor, rows in ((county_officer, 8), (province_actor, 14)):
        export(client, actor, run)  # signs in
        with CaptureQueriesContext(connection) as queries:
            data = body(export(client, actor, run, format="csv"))
        assert len(csv_rows(data)[1]) == rows
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[0] <= 16, counts
