"""The course selection API at /api/enrollment/: the same rules, windows and scopes as the pages."""

from __future__ import annotations

import pytest

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from peixun.enrollment import services
from peixun.enrollment.models import ClassExpansion, Enrollment
from tests.factories import InstitutionFactory, credit_policy, make_actor

from .conftest import K, make_class, new_teacher_actor, open_only

pytestmark = pytest.mark.django_db
API = "/api/enrollment"
S = Enrollment.State


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, actor, data, **extra):
    return client.post(url, data=data, content_type="application/json", **bearer(actor), **extra)


def get(client, url, actor, **params):
    return client.get(url, params, **bearer(actor))


def test_teacher_lists_selects_idempotently_and_withdraws(client, teacher_actor, klass):
    credit_policy("A")
    listing = get(client, f"{API}/classes", teacher_actor)
    assert listing.status_code == 200
    item = listing.json()["items"][0]
    assert item["id"] == klass.pk and item["seats_left"] == 20 and item["progress_after"] is not None
    first = post(client, f"{API}/select", teacher_actor, {"class_id": klass.pk}, HTTP_IDEMPOTENCY_KEY="abc")
    again = post(client, f"{API}/select", teacher_actor, {"class_id": klass.pk, "request_key": "abc"})
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["state"] == S.SELECTED
    assert Enrollment.objects.count() == 1
    mine = get(client, f"{API}/mine", teacher_actor).json()
    assert [e["id"] for e in mine] == [first.json()["id"]]
    detail = get(client, f"{API}/enrollments/{first.json()['id']}", teacher_actor).json()
    assert detail["events"][0]["to_state"] == S.SELECTED
    out = post(client, f"{API}/enrollments/{first.json()['id']}/withdraw", teacher_actor, {"reason": "冲突"})
    assert out.status_code == 200 and out.json()["state"] == S.WITHDRAWN
    again = post(client, f"{API}/enrollments/{first.json()['id']}/withdraw", teacher_actor, {})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


def test_errors_are_chinese_4xx(client, teacher_actor, term, klass, school, institution):
    small = make_class(term, institution, capacity=1)
    small.waitlist_enabled = False
    small.save()
    services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    full = post(client, f"{API}/select", teacher_actor, {"class_id": small.pk})
    assert full.status_code == 409 and full.json()["code"] == "class_full" and "已满" in full.json()["message"]
    missing = post(client, f"{API}/select", teacher_actor, {"class_id": 2**62})
    assert missing.status_code == 404
    open_only(term)
    closed = post(client, f"{API}/select", teacher_actor, {"class_id": klass.pk})
    assert closed.status_code == 409 and closed.json()["code"] == "window_closed"


def test_waitlist_rank_in_the_answer(client, school, term, institution):
    small = make_class(term, institution, capacity=1)
    services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    actor = new_teacher_actor(school)
    answer = post(client, f"{API}/select", actor, {"class_id": small.pk}).json()
    assert answer["state"] == S.WAITLISTED and answer["waitlist_rank"] == 1


def test_principal_reviews_institution_confirms_bureau_expands(
    client, principal, inst_actor, province_actor, school, term, klass
):
    rows = [services.enrollment_select(actor=new_teacher_actor(school), project_class=klass) for _ in range(3)]
    pending = get(client, f"{API}/review", principal).json()
    assert pending["count"] == 3
    r = post(client, f"{API}/review", principal, {"ids": [rows[0].pk, rows[1].pk], "decision": "approve"})
    assert r.status_code == 200 and len(r.json()["done"]) == 2
    r = post(client, f"{API}/review", principal, {"ids": [rows[2].pk], "decision": "reject"})
    assert r.status_code == 400 and "理由" in r.json()["message"]
    r = post(client, f"{API}/review", principal, {"ids": [rows[2].pk], "decision": "reject", "reason": "任务重"})
    assert r.json()["done"][0]["state"] == S.REJECTED
    assert post(client, f"{API}/review", principal, {"ids": [], "decision": "approve"}).status_code == 422

    open_only(term, K.CONFIRM_R1, K.EXPAND_REQUEST)
    classes = get(client, f"{API}/manage/classes", inst_actor).json()
    assert classes["items"][0]["approved"] == 2
    listed = get(client, f"{API}/manage/classes/{klass.pk}/enrollments", inst_actor, state="approved").json()
    assert listed["count"] == 2
    r = post(client, f"{API}/confirm", inst_actor, {"ids": [rows[0].pk, rows[1].pk], "decision": "approve"})
    assert len(r.json()["done"]) == 2
    roster = get(client, f"{API}/manage/classes/{klass.pk}/roster", inst_actor).json()
    assert len(roster) == 2 and "*" in roster[0]["national_id_masked"]
    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    assert get(client, f"{API}/manage/classes/{klass.pk}/roster", other).status_code == 404

    x = post(client, f"{API}/expansions", inst_actor, {"class_id": klass.pk, "seats": 4, "reason": "报名踊跃"})
    assert x.status_code == 201 and x.json()["status"] == "pending"
    open_only(term, K.EXPAND_ACCEPT)
    assert get(client, f"{API}/expansions", province_actor, status="pending").json()["count"] == 1
    d = post(client, f"{API}/expansions/{x.json()['id']}/decide", province_actor, {"seats_accepted": 4})
    assert d.status_code == 200 and d.json()["status"] == ClassExpansion.Status.ACCEPTED
    assert (
        post(client, f"{API}/expansions/{x.json()['id']}/decide", province_actor, {"seats_accepted": 1}).status_code
        == 409
    )


def test_roles_and_scopes(client, teacher_actor, principal, klass, other_school):
    theirs = services.enrollment_select(actor=new_teacher_actor(other_school), project_class=klass)
    assert get(client, f"{API}/review", teacher_actor).status_code == 403
    assert post(client, f"{API}/select", principal, {"class_id": klass.pk}).status_code == 403
    assert get(client, f"{API}/enrollments/{theirs.pk}", teacher_actor).status_code == 404
    r = post(client, f"{API}/review", principal, {"ids": [theirs.pk], "decision": "approve"})
    assert r.status_code == 200 and r.json()["done"] == [] and r.json()["skipped"][0]["id"] == theirs.pk


def test_selection_is_a_bounded_number_of_statements(client, teacher_actor, klass):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = bearer(teacher_actor)
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(f"{API}/select", {"class_id": klass.pk}, content_type="application/json", **headers)
    assert r.status_code == 200 and r.json()["state"] == S.SELECTED
    assert len(ctx.captured_queries) <= 21, [q["sql"][:80] for q in ctx.captured_queries]
