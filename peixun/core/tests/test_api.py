import pytest

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from tests.factories import TeacherFactory, make_actor

pytestmark = pytest.mark.django_db


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_unauthenticated_is_401_json(client):
    response = client.get("/api/core/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_token_auth_and_scope(client, county, school, other_school):
    actor = make_actor(Role.COUNTY, region=county)
    mine = TeacherFactory(school=school)
    theirs = TeacherFactory(school=other_school)
    headers = bearer(actor)
    assert client.get("/api/core/me", **headers).json()["role"] == "county"
    ids = [t["id"] for t in client.get("/api/roster/teachers", **headers).json()["items"]]
    assert ids == [mine.pk]
    response = client.get(f"/api/roster/teachers/{theirs.pk}", **headers)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"code", "message", "details"} and "不存在" in body["message"]


def test_domain_error_is_4xx_with_chinese_message(client, county):
    actor = make_actor(Role.COUNTY, region=county)
    response = client.post(
        "/api/orgs/schools",
        data={"county_id": county.pk, "code": "S9", "name": "学校", "stages": []},
        content_type="application/json",
        **bearer(actor),
    )
    assert response.status_code == 400
    assert response.json()["message"] == "请至少选择一个有效的学段。"


def test_validation_error_is_422(client, county):
    actor = make_actor(Role.COUNTY, region=county)
    response = client.post("/api/orgs/schools", data={"code": 1}, content_type="application/json", **bearer(actor))
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_ids_masked_for_county_full_for_school(client, county, school):
    teacher = TeacherFactory(school=school)
    monitor = make_actor(Role.MONITOR, region=county.parent.parent)
    row = client.get(f"/api/roster/teachers/{teacher.pk}", **bearer(monitor)).json()
    assert "*" in row["national_id"]
    admin = make_actor(Role.SCHOOL, school=school)
    row = client.get(f"/api/roster/teachers/{teacher.pk}", **bearer(admin)).json()
    assert row["national_id"] == teacher.national_id


def test_openapi_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and "paths" in response.json()


def test_a_token_request_reads_its_actor_in_one_statement(client, school):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    teacher = TeacherFactory(school=school)
    actor = make_actor(Role.TEACHER, school=school, teacher=teacher)
    headers = bearer(actor)
    assert client.get("/api/core/me", **headers).status_code == 200  # compiled; "last used" stamped
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/api/core/me", **headers).json()
    assert (body["role"], body["username"]) == ("teacher", actor.user.username)
    assert len([q for q in captured.captured_queries if not q["sql"].startswith("SAVEPOINT")]) == 1


def test_a_token_stops_working_when_revoked_or_its_grant_or_user_is_disabled(client, school):
    from peixun.accounts.models import ApiToken, RoleGrant

    for disable in ("revoke", "grant", "user", "other_users_grant"):
        actor = make_actor(Role.SCHOOL, school=school)
        token, raw = token_create(actor=actor, name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        assert client.get("/api/core/me", **headers).status_code == 200
        if disable == "revoke":
            ApiToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00:00Z")
        elif disable == "grant":
            RoleGrant.objects.filter(pk=token.grant_id).update(is_active=False)
        elif disable == "user":
            type(actor.user).objects.filter(pk=actor.user.pk).update(is_active=False)
        else:  # a token naming another user's grant acts for nobody
            ApiToken.objects.filter(pk=token.pk).update(grant=make_actor(Role.SCHOOL, school=school).grant)
        assert client.get("/api/core/me", **headers).status_code == 401, disable
