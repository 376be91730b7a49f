"""The reports API: the same figures as the pages, the same scope, exports as jobs with a download."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from peixun.accounts.services import token_create
from peixun.core.masking import mask_national_id
from peixun.core.models import AuditLog, Job
from peixun.reports import selectors
from peixun.roster.models import Teacher
from tests.factories import OrderFactory, ProjectClassFactory, ProjectFactory, TermFactory

pytestmark = pytest.mark.django_db
API = "/api/reports"


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def get(client, actor, path, **params):
    return client.get(f"{API}{path}", params, **bearer(actor))


def test_dashboard_matches_the_selectors(client, area, county_actor):
    response = get(client, county_actor, "/dashboard")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["node"] == {"kind": "county", "id": area["counties"]["a1"].pk, "name": area["counties"]["a1"].name}
    assert body["row_kind"] == "school"
    expected = selectors.completion(county_actor, selectors.home_node(county_actor))
    assert [(r["id"], r["teachers"], r["at_risk"]) for r in body["rows"]] == [
        (r["id"], r["teachers"], r["at_risk"]) for r in expected["rows"]
    ]
    assert body["total"]["teachers"] == expected["total"]["teachers"]
    school = area["schools"]["a1"][0]
    drilled = get(client, county_actor, "/dashboard", school_id=school.pk).json()
    assert drilled["row_kind"] == "teacher"
    assert {r["id"] for r in drilled["rows"]} == set(
        Teacher.objects.filter(school=school, status="active").values_list("pk", flat=True)
    )


def test_api_scope_is_the_pages_scope(client, area, county_actor):
    other = area["counties"]["b1"]
    for path, params in (
        ("/dashboard", {"region_id": other.pk}),
        ("/dashboard", {"school_id": area["schools"]["b1"][0].pk}),
        ("/teachers", {"region_id": other.pk}),
        ("/progress", {"region_id": area["province"].pk}),
    ):
        response = get(client, county_actor, path, **params)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    listed = get(client, county_actor, "/teachers", limit=100).json()
    mine = set(
        Teacher.objects.filter(school__county=area["counties"]["a1"], status="active").values_list("pk", flat=True)
    )
    assert {r["teacher_id"] for r in listed["items"]} == mine and listed["count"] == len(mine)
    response = client.post(
        f"{API}/exports",
        data={"report": "teachers", "region_id": other.pk},
        content_type="application/json",
        **bearer(county_actor),
    )
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_teacher_list_filters_sorts_pages_and_masks(client, area, county_actor, city_actor):
    at_risk = get(client, county_actor, "/teachers", status="at_risk", limit=5, sort="-missing").json()
    assert at_risk["count"] > 5 and len(at_risk["items"]) == 5
    missing = [row["missing_projected"] for row in at_risk["items"]]
    assert missing == sorted(missing, reverse=True)
    assert all(row["status"] == "at_risk" for row in at_risk["items"])
    by_name = get(client, county_actor, "/teachers", sort="name", limit=100).json()["items"]
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in by_name)
    teacher = Teacher.objects.get(pk=by_name[0]["teacher_id"])
    assert by_name[0]["national_id"] == teacher.national_id  # the county needs full IDs
    city = get(client, city_actor, "/teachers", limit=100).json()["items"]
    one = Teacher.objects.get(pk=city[0]["teacher_id"])
    assert city[0]["national_id"] == mask_national_id(one.national_id)
    assert get(client, county_actor, "/teachers", status="nonsense").status_code == 400


def test_progress_coverage_quotas_and_institutions(client, area, province_actor, county_actor):
    term = TermFactory()
    published = ProjectFactory(term=term)
    ProjectFactory(term=term, status="submitted")
    ProjectClassFactory(project=published, capacity=20, seats_taken=5)
    OrderFactory(term=term, county=area["counties"]["a1"])
    progress = get(client, province_actor, "/progress", term_id=term.pk).json()
    assert (progress["applied"], progress["published"], progress["capacity"], progress["taken"]) == (2, 1, 20, 5)
    assert progress["windows"]
    coverage = get(client, county_actor, "/coverage", term_id=term.pk).json()
    assert [(r["county_id"], r["posted"]) for r in coverage] == [(area["counties"]["a1"].pk, 1)]
    whole = get(client, province_actor, "/coverage", term_id=term.pk).json()
    assert {r["county_id"] for r in whole} == {c.pk for c in area["counties"].values()}
    quotas = get(client, province_actor, "/quotas", term_id=term.pk).json()
    assert {q["id"]: q["used"] for q in quotas}[published.institution_id] == 1
    caps = get(client, county_actor, "/quotas", term_id=term.pk).json()
    assert [(q["kind"], q["id"]) for q in caps] == [("region", area["counties"]["a1"].pk)]
    stats = get(client, province_actor, "/institutions", term_id=term.pk).json()
    row = next(r for r in stats if r["institution_id"] == published.institution_id)
    assert (row["applied"], row["published"], row["enrolment_rate"]) == (1, 1, 0.25)
    assert get(client, county_actor, "/institutions", term_id=term.pk).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_export_job_via_the_api_then_download_and_retry(client, area, county_actor):
    response = client.post(
        f"{API}/exports",
        data={"report": "teachers", "status": "at_risk"},
        content_type="application/json",
        **bearer(county_actor),
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    job = client.get(response.json()["status_url"], **bearer(county_actor)).json()
    assert job["status"] == "succeeded", job["message"]
    assert job["download_url"]
    download = client.get(job["download_url"], **bearer(county_actor))
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(values_only=True))
    node = selectors.home_node(county_actor)
    expected = selectors.teacher_list(county_actor, node, selectors.TeacherFilters(status="at_risk"))
    assert len(rows) - 1 == len(expected) and rows[0][0] == "姓名"
    assert AuditLog.objects.filter(action="core.export", object_id=str(job_id)).exists()
    # only failed jobs are retried; a failed one goes back to the queue and succeeds
    assert client.post(f"/api/core/jobs/{job_id}/retry", **bearer(county_actor)).status_code == 409
    Job.objects.filter(pk=job_id).update(status="failed")
    retried = client.post(f"/api/core/jobs/{job_id}/retry", **bearer(county_actor))
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert Job.objects.get(pk=job_id).status == "succeeded"
