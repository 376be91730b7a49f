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
