"""The catalog API: every step from application to the teacher's catalog, errors as Chinese 4xx JSON."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.accounts.services import token_create
from peixun.catalog.models import Project
from peixun.core.roles import Role
from tests.factories import InstitutionFactory, ProjectClassFactory, ProjectFactory, make_actor

from .conftest import active_policy_with, class_dates

pytestmark = pytest.mark.django_db


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, actor, data=None):
    return client.post(url, data=data or {}, content_type="application/json", **bearer(actor))


def put(client, url, actor, data):
    return client.put(url, data=data, content_type="application/json", **bearer(actor))


def test_apply_review_publish_browse_over_the_api(client, term, inst_actor, leader, province_actor, school):
    body = {
        "term_id": term.pk,
        "name": "小学数学大单元教学设计",
        "theme": "大单元教学",
        "field": "subject_teaching",
        "subject_category": "math",
        "level": "provincial",
        "credit_category": "tongchou",
        "format": "face",
        "days": 4,
        "hours_offline": "30",
        "goals": "掌握大单元教学设计方法",
        "content": "讲座与工作坊",
        "fee_training": "800",
        "fee_accommodation": "300",
        "fee_meals": "100",
        "fee_total": "1200",
        "target_stages": ["primary"],
        "target_subjects": ["math"],
        "leader_id": leader.pk,
    }
    response = post(client, "/api/catalog/manage/projects", inst_actor, body)
    assert response.status_code == 201, response.content
    project = response.json()
    assert project["status"] == "draft" and project["credits"] == "3.00" or project["credits"] in ("3.0", "3.00", 3.0)
    assert project["problems"]  # no class, no lecturer yet
    pid = project["id"]
    starts_on, ends_on = class_dates(term)
    response = post(
        client,
        f"/api/catalog/manage/projects/{pid}/classes",
        inst_actor,
        {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "place": "示范师范大学", "capacity": 50},
    )
    assert response.status_code == 201
    response = post(
        client,
        f"/api/catalog/manage/projects/{pid}/lecturers",
        inst_actor,
        {
            "name": "张老师",
            "organisation": "省教研室",
            "title": "正高级教师",
            "expertise": "小学数学",
            "phone": "13812345678",
        },
    )
    assert response.status_code == 201
    assert client.get(f"/api/catalog/manage/projects/{pid}", **bearer(inst_actor)).json()["problems"] == []
    assert post(client, f"/api/catalog/manage/projects/{pid}/submit", inst_actor).json()["status"] == "submitted"
    # The institution cannot approve its own project.
    response = post(client, f"/api/catalog/manage/projects/{pid}/approve", inst_actor)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    response = post(client, "/api/catalog/manage/review", province_actor, {"project_ids": [pid], "action": "approve"})
    assert response.json() == {"done": [pid], "failed": []}
    assert post(client, f"/api/catalog/manage/projects/{pid}/publish", province_actor).json()["status"] == "published"
    teacher = make_actor(Role.TEACHER, school=school)
    listed = client.get("/api/catalog/projects?stage=primary&matches_me=true", **bearer(teacher)).json()["items"]
    assert [p["id"] for p in listed] == [pid] and listed[0]["seats_left"] == 50
    detail = client.get(f"/api/catalog/projects/{pid}", **bearer(teacher)).json()
    assert detail["fee_accommodation"] in ("300.00", 300.0, "300") and detail["lecturers"][0]["name"] == "张老师"
    assert "phone" not in detail["lecturers"][0]
    assert client.get("/api/catalog/projects?stage=senior", **bearer(teacher)).json() == {"items": [], "count": 0}


def test_errors_are_chinese_4xx(client, term, inst_actor):
    body = {
        "term_id": term.pk,
        "name": "x",
        "field": "subject_teaching",
        "subject_category": "math",
        "level": "provincial",
        "credit_category": "tongchou",
        "format": "face",
        "days": 2,
        "hours_offline": "10",
        "goals": "g",
        "content": "c",
        "fee_training": "100",
        "fee_total": "999",
    }
    response = post(client, "/api/catalog/manage/projects", inst_actor, body)
    assert response.status_code == 400
    assert response.json()["details"]["field"] == "fee_total" and "总" in response.json()["message"]


def test_drafts_are_invisible_outside_their_scope(client, term, inst_actor, school):
    draft = ProjectFactory(term=term, status=Project.Status.DRAFT)
    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    assert client.get(f"/api/catalog/manage/projects/{draft.pk}", **bearer(other)).status_code == 404
    teacher = make_actor(Role.TEACHER, school=school)
    assert client.get(f"/api/catalog/projects/{draft.pk}", **bearer(teacher)).status_code == 404
    published = ProjectFactory(term=term)
    assert client.get(f"/api/catalog/projects/{published.pk}", **bearer(teacher)).status_code == 200


def test_credits_preview(client, inst_actor):
    url = "/api/catalog/credits-preview?credit_category=tongchou&level=provincial&format=blended"
    data = client.get(url + "&hours_offline=20&hours_online=20", **bearer(inst_actor)).json()
    assert data["online_share_ok"] is False and float(data["credits"]) == 4.0
    data = client.get(url + "&hours_offline=28&hours_online=12", **bearer(inst_actor)).json()
    assert data["online_share_ok"] is True
    assert float(data["hours_per_credit"]) == 10 and data["policy_version"] == 0  # no policy: preset A


def test_credits_preview_follows_the_active_policy(client, inst_actor, province):
    policy = active_policy_with(
        province,
        conversion=[
            {"category": "", "level": "", "format": "", "hours_per_credit": "10"},
            {"category": "tongchou", "level": "city", "format": "online", "hours_per_credit": "12"},
        ],
    )
    url = "/api/catalog/credits-preview?credit_category=tongchou&level=city&format=online&hours_online=30"
    data = client.get(url, **bearer(inst_actor)).json()
    assert float(data["credits"]) == 2.5 and float(data["hours_per_credit_online"]) == 12
    assert data["policy_version"] == policy.version
    # The credit level overrides the training level for the policy's rules.
    data = client.get(url + "&credit_level=county", **bearer(inst_actor)).json()
    assert float(data["credits"]) == 3.0


def test_quotas_and_caps(client, term, flagship, province_actor, county):
    rows = client.get(f"/api/catalog/quotas?term_id={term.pk}", **bearer(province_actor)).json()
    row = next(r for r in rows if r["institution_id"] == flagship.pk)
    assert (row["limit"], row["used"], row["is_default"]) == (40, 0, True)
    response = put(
        client, "/api/catalog/quotas", province_actor, {"term_id": term.pk, "institution_id": flagship.pk, "limit": 42}
    )
    assert response.json()["limit"] == 42 and response.json()["is_default"] is False
    inst = make_actor(Role.INSTITUTION, institution=flagship)
    assert [r["limit"] for r in client.get(f"/api/catalog/quotas?term_id={term.pk}", **bearer(inst)).json()] == [42]
    assert (
        put(
            client, "/api/catalog/quotas", inst, {"term_id": term.pk, "institution_id": flagship.pk, "limit": 99}
        ).status_code
        == 403
    )
    officer = make_actor(Role.COUNTY, region=county)
    response = put(
        client, "/api/catalog/region-caps", officer, {"term_id": term.pk, "region_id": county.pk, "limit": 12}
    )
    assert response.json()["limit"] == 12
    # The conversion table is gone: the credit policy is the one place conversion is edited.
    assert client.get("/api/catalog/credit-rules", **bearer(officer)).status_code == 404


def test_change_request_and_delete_over_the_api(client, term, flagship, province_actor):
    project = ProjectFactory(term=term, institution=flagship)
    starts_on, ends_on = class_dates(term)
    project_class = ProjectClassFactory(project=project, starts_on=starts_on, ends_on=ends_on)
    inst = make_actor(Role.INSTITUTION, institution=flagship)
    response = post(
        client,
        f"/api/catalog/manage/projects/{project.pk}/change-requests",
        inst,
        {"kind": "place", "reason": "原场地维修", "proposed": {"place": "东湖宾馆"}, "class_id": project_class.pk},
    )
    assert response.status_code == 201, response.content
    change_id = response.json()["id"]
    assert [
        c["id"] for c in client.get("/api/catalog/change-requests?status=pending", **bearer(province_actor)).json()
    ] == [change_id]
    assert (
        post(client, f"/api/catalog/change-requests/{change_id}/approve", province_actor).json()["status"] == "approved"
    )
    project_class.refresh_from_db()
    assert project_class.place == "东湖宾馆"
    log = client.get("/api/catalog/change-log", **bearer(province_actor)).json()["items"]
    assert {e["kind"] for e in log} == {"change_requested", "change_approved"}
    response = post(
        client,
        f"/api/catalog/manage/projects/{project.pk}/delete",
        province_actor,
        {"reason": "机构停办", "confirm": project.code},
    )
    assert response.json()["status"] == "deleted"


def test_expert_sampling_and_staff_over_the_api(client, term, flagship, province):
    from tests.factories import unique_national_id

    inst = make_actor(Role.INSTITUTION, institution=flagship)
    response = post(
        client,
        "/api/catalog/staff",
        inst,
        {"name": "王教授", "national_id": unique_national_id(), "title": "senior", "specialty": ["math"]},
    )
    assert response.status_code == 201 and response.json()["specialty"] == ["math"]
    project = ProjectFactory(term=term, institution=flagship, status=Project.Status.SUBMITTED)
    from peixun.catalog.models import Lecturer, ProjectLecturer

    for i in range(3):
        lecturer = Lecturer.objects.create(name=f"L{i}", organisation="O", title="T", expertise="E", phone=f"1{i}")
        ProjectLecturer.objects.create(project=project, lecturer=lecturer)
    expert = make_actor(Role.EXPERT, region=province)
    response = post(client, f"/api/catalog/manage/projects/{project.pk}/lecturer-checks", expert, {"count": 2})
    assert response.status_code == 201 and len(response.json()) == 2
    check_id = response.json()[0]["id"]
    response = put(
        client, f"/api/catalog/lecturer-checks/{check_id}", expert, {"result": "confirmed", "note": "已电话核实"}
    )
    assert response.json()["result"] == "confirmed"
    db = client.get("/api/catalog/lecturers", **bearer(expert)).json()["items"]
    assert len(db) == 3 and db[0]["phone"].startswith("1")


def test_terms_api(client, province_actor, term, school):
    response = post(
        client, "/api/terms/terms", province_actor, {"code": "2027H1", "name": "2027年上半年", "year": 2027}
    )
    assert response.status_code == 201
    created = response.json()
    assert len(created["windows"]) == 17
    apply = next(w for w in created["windows"] if w["kind"] == "project_apply")
    assert apply["starts_at"].startswith("2027-03-0")
    new_end = (timezone.now() + timedelta(days=400)).isoformat()
    response = post(
        client, f"/api/terms/windows/{apply['id']}/extend", province_actor, {"new_ends_at": new_end, "reason": "补报"}
    )
    assert response.status_code == 200
    assert (
        client.get(f"/api/terms/terms/{created['id']}/extensions", **bearer(province_actor)).json()["items"][0][
            "reason"
        ]
        == "补报"
    )
    teacher = make_actor(Role.TEACHER, school=school)
    assert client.get("/api/terms/terms/current", **bearer(teacher)).status_code == 200
    response = post(
        client, f"/api/terms/windows/{apply['id']}/extend", teacher, {"new_ends_at": new_end, "reason": "x"}
    )
    assert response.status_code == 403
    response = put(client, f"/api/terms/terms/{created['id']}", province_actor, {"per_teacher_limit": 4})
    assert response.json()["per_teacher_limit"] == 4
