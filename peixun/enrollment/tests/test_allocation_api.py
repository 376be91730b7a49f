# ruff: noqa: F811  (fixtures imported from allocation_helpers are redefined as test parameters)
"""The fair allocation API at /api/enrollment/allocation/: same rules and scopes as the pages."""

import pytest

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from peixun.enrollment.models import AllocationRun
from peixun.enrollment.services.allocation import allocation_execute
from tests.factories import make_actor

from .allocation_helpers import (  # noqa: F401  (fixtures)
    fair_term,
    make_class,
    policy,
    province_actor,
    rank,
    teacher_with_credits,
)

pytestmark = pytest.mark.django_db
API = "/api/enrollment/allocation"


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_run_round_trip(client, policy, fair_term, province_actor, school, other_school):
    klass = make_class(fair_term, capacity=1)
    ours = teacher_with_credits(school, 0)
    theirs = teacher_with_credits(other_school, 10)
    for a in (ours, theirs):
        rank(a.user.teacher, fair_term, klass)

    county = make_actor(Role.COUNTY, region=school.county)
    refused = client.post(f"{API}/runs", {"term_id": fair_term.pk}, content_type="application/json", **bearer(county))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    bad = client.post(
        f"{API}/runs", {"term_id": fair_term.pk, "seed": -1}, content_type="application/json", **bearer(province_actor)
    )
    assert bad.status_code == 422
    started = client.post(
        f"{API}/runs",
        {"term_id": fair_term.pk, "seed": 2**62},
        content_type="application/json",
        **bearer(province_actor),
    )
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["status"] == "queued" and body["seed"] == str(2**62) and body["job_id"]
    again = client.post(
        f"{API}/runs", {"term_id": fair_term.pk}, content_type="application/json", **bearer(province_actor)
    )
    assert again.status_code == 409 and again.json()["code"] == "already_allocated"

    allocation_execute(body["id"])
    run = client.get(f"{API}/runs/{body['id']}", **bearer(county)).json()
    assert run["status"] == "done" and run["counts"]["allocated"] == 1 and len(run["results_digest"]) == 64

    mine = client.get(f"{API}/runs/{body['id']}/results", **bearer(ours)).json()
    assert mine["count"] == 1 and mine["items"][0]["outcome"] == "allocated"
    assert mine["items"][0]["reason"] == "获得第1志愿。" and mine["items"][0]["enrollment_id"]
    theirs_rows = client.get(f"{API}/runs/{body['id']}/results", **bearer(theirs)).json()["items"]
    assert theirs_rows[0]["outcome"] == "full" and "低于录取线" in theirs_rows[0]["reason"]
    seen = client.get(f"{API}/runs/{body['id']}/results", **bearer(county)).json()
    assert [r["teacher_id"] for r in seen["items"]] == [ours.teacher_id]
    assert client.get(f"{API}/runs/{body['id']}/results?outcome=full", **bearer(province_actor)).json()["count"] == 1
    assert client.get(f"{API}/runs/{body['id']}/results?outcome=x", **bearer(province_actor)).status_code == 400

    check = client.post(f"{API}/runs/{body['id']}/verify", **bearer(ours)).json()
    assert check["same"] and check["recomputed_digest"] == run["results_digest"]
    listed = client.get(f"{API}/runs?term_id={fair_term.pk}", **bearer(ours)).json()
    assert listed["count"] == 1
    assert client.get(f"{API}/runs/999999", **bearer(ours)).status_code == 404
    assert AllocationRun.objects.count() == 1


def test_teacher_preference_endpoints_need_the_fair_term_and_window(client, fair_term, school):
    teacher = teacher_with_credits(school, 0)
    klass = make_class(fair_term)
    got = client.get(f"{API}/terms/{fair_term.pk}/preferences", **bearer(teacher))
    assert got.status_code == 200 and got.json() == {
        "term_id": fair_term.pk,
        "wanted": 1,
        "max_preferences": 10,
        "preferences": [],
    }
    closed = client.post(
        f"{API}/terms/{fair_term.pk}/preferences",
        {"class_id": klass.pk},
        content_type="application/json",
        **bearer(teacher),
    )
    assert closed.status_code == 409 and closed.json()["code"] == "window_closed"
    county = make_actor(Role.COUNTY, region=school.county)
    assert client.get(f"{API}/terms/{fair_term.pk}/preferences", **bearer(county)).status_code == 403
    assert client.get(f"{API}/terms/999999/preferences", **bearer(teacher)).status_code == 404
