"""The roster import through its pages and its API."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from peixun.roster import services
from peixun.roster.importing import TEMPLATE_HEADERS
from peixun.roster.models import RosterImport, Teacher
from peixun.roster.tests.test_import import csv_bytes, rows_for
from tests.factories import SchoolFactory, TeacherFactory, make_actor

pytestmark = pytest.mark.django_db
S = RosterImport.Status


def login(client, actor):
    client.force_login(actor.user)
    return client


def sheet_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


@pytest.fixture
def county_admin(county):
    return make_actor(Role.COUNTY, region=county)


@pytest.fixture
def schools(county):
    return [SchoolFactory(county=county), SchoolFactory(county=county)]


def upload(actor, data, name="roster.csv"):
    return services.roster_import_create(actor=actor, file=SimpleUploadedFile(name, data))


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SCHOOL, Role.COUNTY, Role.CITY, Role.PROVINCE])
def test_import_pages_open_for_each_importing_role(client, role, province, county, school):
    scope = {
        Role.SCHOOL: {"school": school},
        Role.COUNTY: {"region": county},
        Role.CITY: {"region": county.parent},
        Role.PROVINCE: {"region": province},
    }[role]
    login(client, make_actor(role, **scope))
    for name in ("roster:import_list", "roster:import_create"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "名册" in response.content.decode() and "上传" in response.content.decode()
    assert client.get(reverse("roster:import_template")).status_code == 200


@pytest.mark.parametrize("role", [Role.TEACHER, Role.MONITOR, Role.AUDITOR])
def test_other_roles_get_access_denied(client, role, province, school):
    scope = {"school": school} if role == Role.TEACHER else {"region": province}
    login(client, make_actor(role, **scope))
    assert client.get(reverse("roster:import_list")).status_code == 403
    assert client.get(reverse("roster:import_create")).status_code == 403


def test_import_list_query_count_search_filter_and_export(client, county_admin, schools, django_assert_max_num_queries):
    for i in range(12):
        rows = rows_for(schools, 2, start=i * 10)
        imp = upload(county_admin, csv_bytes(rows), name=f"名册{i:02d}.csv")
    login(client, county_admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("roster:import_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "名册11.csv" in html and "共 12 条" in html
    response = client.get(reverse("roster:import_list"), {"q": "名册03"})
    assert "名册03.csv" in response.content.decode() and "名册04.csv" not in response.content.decode()
    # Every older preview was superseded by the newer upload of the same scope.
    response = client.get(reverse("roster:import_list"), {"status": S.PREVIEW})
    assert response.context["state"].page.paginator.count == 1
    rows = sheet_rows(client.get(reverse("roster:import_list"), {"export": "1"}))
    assert rows[0][:2] == ("上传时间", "文件") and len(rows) == 13
    assert imp.original_name in {r[1] for r in rows}


def test_upload_preview_and_apply_through_the_pages(client, county_admin, schools):
    gone = TeacherFactory(school=schools[0])
    rows = rows_for(schools, 5)
    login(client, county_admin)
    response = client.post(
        reverse("roster:import_create"), {"file": SimpleUploadedFile("名册.csv", csv_bytes(rows))}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200 and "待确认" in html
    imp = RosterImport.objects.get()
    assert imp.status == S.PREVIEW
    assert 'data-testid="count-new">5<' in html and 'data-testid="count-missing">1<' in html
    assert gone.name in html  # among the teachers not in the file
    response = client.post(reverse("roster:import_apply", args=[imp.pk]), {"mark_leavers": "on"}, follow=True)
    html = response.content.decode()
    assert "名册已更新" in html and "导入完成：新增 5 人，变更 0 人，未变 0 人，标记离校 1 人。" in html
    assert Teacher.objects.filter(status=Teacher.Status.ACTIVE).count() == 5
    gone.refresh_from_db()
    assert gone.status == Teacher.Status.LEFT


def test_upload_without_required_columns_shows_the_problem(client, county_admin, schools):
    rows = rows_for(schools, 2)
    headers = [h for h in rows[0] if h != "身份证件号"]
    login(client, county_admin)
    response = client.post(
        reverse("roster:import_create"), {"file": SimpleUploadedFile("名册.csv", csv_bytes(rows, headers))}
    )
    assert response.status_code == 200
    assert "文件缺少必需的列：身份证件号" in response.content.decode()
    assert not RosterImport.objects.exists()


def test_invalid_file_shows_errors_and_the_full_list_downloads(client, county_admin, schools):
    rows = rows_for(schools, 5)
    rows[2]["学校代码"] = "NOPE"
    rows[4]["任教学科"] = "魔法"
    imp = upload(county_admin, csv_bytes(rows))
    login(client, county_admin)
    html = client.get(reverse("roster:import_detail", args=[imp.pk])).content.decode()
    assert "学校代码“NOPE”不存在" in html and "无法识别的任教学科“魔法”" in html
    assert 'data-testid="apply-form"' not in html
    rows = sheet_rows(client.get(reverse("roster:import_errors", args=[imp.pk])))
    assert rows[0] == ("行号", "列", "问题")
    assert [(r[0], r[1]) for r in rows[1:]] == [(4, "学校代码"), (6, "任教学科")]
    response = client.post(reverse("roster:import_apply", args=[imp.pk]), follow=True)
    assert "当前状态不能导入（当前状态：有错误）" in response.content.decode()
    assert Teacher.objects.count() == 0


def test_city_sees_masked_ids_in_the_preview(client, county, schools):
    city = make_actor(Role.CITY, region=county.parent)
    rows = rows_for(schools, 2)
    imp = upload(city, csv_bytes(rows))
    login(client, city)
    html = client.get(reverse("roster:import_detail", args=[imp.pk])).content.decode()
    assert rows[0]["身份证件号"] not in html and rows[0]["身份证件号"][:6] + "********" in html


def test_progress_poll_then_reload(client, county_admin, schools, settings):
    settings.PEIXUN_IMPORT_INLINE_BYTES = 0
    imp = upload(county_admin, csv_bytes(rows_for(schools, 3)))
    login(client, county_admin)
    response = client.get(reverse("roster:import_detail", args=[imp.pk]))
    assert 'data-testid="import-progress"' in response.content.decode()
    response = client.get(reverse("roster:import_detail", args=[imp.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "hx-trigger" in response.content.decode()
    from peixun.roster.imports import run_validation

    run_validation(imp.pk)
    response = client.get(reverse("roster:import_detail", args=[imp.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


def test_cancel_through_the_page(client, county_admin, schools):
    imp = upload(county_admin, csv_bytes(rows_for(schools, 2)))
    login(client, county_admin)
    response = client.post(reverse("roster:import_cancel", args=[imp.pk]), follow=True)
    assert "已取消" in response.content.decode()
    imp.refresh_from_db()
    assert imp.status == S.CANCELLED


def test_detail_outside_scope_is_404(client, county_admin, schools, other_county):
    imp = upload(county_admin, csv_bytes(rows_for(schools, 2)))
    login(client, make_actor(Role.COUNTY, region=other_county))
    assert client.get(reverse("roster:import_detail", args=[imp.pk])).status_code == 404
    assert client.get(reverse("roster:import_errors", args=[imp.pk])).status_code == 404
    assert client.post(reverse("roster:import_apply", args=[imp.pk])).status_code == 404


def test_school_template_is_importable_as_is(client, school):
    admin = make_actor(Role.SCHOOL, school=school)
    login(client, admin)
    response = client.get(reverse("roster:import_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = sheet_rows(response)
    assert list(rows[0]) == TEMPLATE_HEADERS
    assert rows[1][TEMPLATE_HEADERS.index("学校代码")] == school.code
    imp = upload(admin, response.content, name="模板.xlsx")
    assert imp.status == S.PREVIEW and imp.counts["new"] == 1


# --- API --------------------------------------------------------------------------------------


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_api_upload_preview_apply(client, county_admin, schools):
    headers = bearer(county_admin)
    rows = rows_for(schools, 4)
    response = client.post("/api/roster/imports", {"file": SimpleUploadedFile("名册.csv", csv_bytes(rows))}, **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "preview" and body["counts"]["new"] == 4 and body["job"]["status"] == "succeeded"
    assert body["samples"]["new"][0]["national_id"] in {r["身份证件号"] for r in rows}  # county sees full IDs
    import_id = body["id"]
    assert client.get(f"/api/roster/imports/{import_id}", **headers).json()["counts"]["errors"] == 0
    listed = client.get("/api/roster/imports", **headers).json()
    assert listed["count"] == 1 and [i["id"] for i in listed["items"]] == [import_id]
    assert listed["items"][0]["file_name"] == "名册.csv" and listed["items"][0]["status_label"] == "待确认"
    response = client.post(
        f"/api/roster/imports/{import_id}/apply", {"mark_leavers": False}, content_type="application/json", **headers
    )
    assert response.status_code == 200 and response.json()["counts"]["applied"]["new"] == 4
    response = client.post(f"/api/roster/imports/{import_id}/apply", {}, content_type="application/json", **headers)
    assert response.status_code == 409 and "当前状态" in response.json()["message"]


def test_api_invalid_file_cannot_be_applied_and_lists_errors(client, county_admin, schools):
    headers = bearer(county_admin)
    rows = rows_for(schools, 3)
    rows[1]["身份证件号"] = "110"
    response = client.post("/api/roster/imports", {"file": SimpleUploadedFile("名册.csv", csv_bytes(rows))}, **headers)
    body = response.json()
    assert body["status"] == "invalid" and body["errors"][0]["line"] == 3
    errors = client.get(f"/api/roster/imports/{body['id']}/errors", **headers).json()["items"]
    assert errors == [{"line": 3, "column": "身份证件号", "message": "身份证件号“110”应为18位（最后一位可为X）"}]
    response = client.post(f"/api/roster/imports/{body['id']}/apply", {}, content_type="application/json", **headers)
    assert response.status_code == 409
    assert Teacher.objects.count() == 0
    response = client.post(f"/api/roster/imports/{body['id']}/cancel", **headers)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_api_refuses_missing_columns_with_chinese_message(client, county_admin, schools):
    rows = rows_for(schools, 1)
    headers = [h for h in rows[0] if h != "学校代码"]
    response = client.post(
        "/api/roster/imports",
        {"file": SimpleUploadedFile("名册.csv", csv_bytes(rows, headers))},
        **bearer(county_admin),
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("文件缺少必需的列：学校代码")


def test_api_scope_masking_and_template(client, county, schools, other_county):
    city = make_actor(Role.CITY, region=county.parent)
    rows = rows_for(schools, 2)
    imp = upload(city, csv_bytes(rows))
    body = client.get(f"/api/roster/imports/{imp.pk}", **bearer(city)).json()
    assert all("*" in row["national_id"] for row in body["samples"]["new"])
    stranger = bearer(make_actor(Role.COUNTY, region=other_county))
    assert client.get(f"/api/roster/imports/{imp.pk}", **stranger).status_code == 404
    assert client.post(f"/api/roster/imports/{imp.pk}/cancel", **stranger).status_code == 404
    response = client.get("/api/roster/import-template", **bearer(city))
    assert response.status_code == 200 and list(sheet_rows(response)[0]) == TEMPLATE_HEADERS
    teacher_actor = make_actor(Role.TEACHER, school=schools[0])
    assert client.get("/api/roster/imports", **bearer(teacher_actor)).status_code == 403
