"""Pages: the grid, upload with preview, review actions, lists, the teacher's results, exports."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from peixun.core.roles import Role
from peixun.credits.models import LedgerEntry
from peixun.results import services
from peixun.results.models import ResultSheet, ResultUpload
from peixun.results.spreadsheet import template_bytes
from tests.factories import InstitutionFactory, make_actor

pytestmark = pytest.mark.django_db
S = ResultSheet.Status


def login(client, actor):
    client.force_login(actor.user)
    session = client.session
    session["grant_id"] = actor.grant.pk
    session.save()
    return client


def grid_post(sheet, values, then=""):
    data = {}
    for r, (off, passed, remarks) in zip(sheet.results.order_by("pk"), values):
        data[f"off_{r.pk}"] = off
        data[f"p_{r.pk}"] = passed
        data[f"r_{r.pk}"] = remarks
    if then:
        data["then"] = then
    return data


def xlsx(rows, headers=("编号", "姓名", "线下学时", "是否合格", "备注")):
    wb = Workbook()
    ws = wb.active
    ws.title = "成绩登记"
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "成绩.xlsx"
    return out


def test_grid_saves_the_whole_class_in_one_form_and_submits(client, clerk, project_class, trainees):
    login(client, clerk)
    response = client.get(reverse("results:class_open", args=[project_class.pk]))
    sheet = ResultSheet.objects.get(project_class=project_class)
    assert response.url == reverse("results:sheet_detail", args=[sheet.pk])
    page = client.get(response.url).content.decode()
    assert page.count('data-testid="grid-row"') == 3 and 'data-col="off"' in page and 'data-col="on"' not in page
    # One bad row: nothing saved, the error shown on that row, the typed values kept.
    bad = client.post(response.url, grid_post(sheet, [("40", "1", ""), ("45", "1", "多填"), ("30", "0", "")]))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-testid="grid-error"' in html and 'value="45"' in html and "table-danger" in html
    assert not sheet.results.filter(passed__isnull=False).exists()
    ok = client.post(
        response.url, grid_post(sheet, [("40", "1", ""), ("36", "1", "请假半天"), ("30", "0", "")], then="submit")
    )
    assert ok.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == S.SUBMITTED
    assert [r.hours_offline for r in sheet.results.order_by("pk")] == [Decimal("40"), Decimal("36"), Decimal("30")]
    page = client.get(reverse("results:sheet_detail", args=[sheet.pk])).content.decode()
    assert 'data-col="off"' not in page  # read-only once submitted


def test_reviewer_approves_and_cancels_on_the_page(client, policy, clerk, reviewer, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    login(client, reviewer)
    page = client.get(reverse("results:class_list")).content.decode()
    assert reverse("results:sheet_detail", args=[sheet.pk]) in page
    url = reverse("results:sheet_detail", args=[sheet.pk])
    assert 'data-testid="approve"' in client.get(url).content.decode()
    client.post(reverse("results:sheet_action", args=[sheet.pk, "approve"]))
    client.post(reverse("results:sheet_action", args=[sheet.pk, "approve"]))  # double click
    assert LedgerEntry.objects.count() == 3
    page = client.get(url).content.decode()
    assert 'data-testid="cancel-approval"' in page and 'data-testid="ledger"' in page
    client.post(reverse("results:sheet_action", args=[sheet.pk, "cancel"]), {"reason": ""})
    assert ResultSheet.objects.get(pk=sheet.pk).status == S.APPROVED  # a reason is required
    client.post(reverse("results:sheet_action", args=[sheet.pk, "cancel"]), {"reason": "重新核对"})
    assert ResultSheet.objects.get(pk=sheet.pk).status == S.SUBMITTED
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 3


def test_template_upload_preview_apply_is_all_or_nothing_and_idempotent(client, clerk, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    login(client, clerk)
    template = client.get(reverse("results:sheet_template", args=[sheet.pk]))
    ws = load_workbook(io.BytesIO(template.content))["成绩登记"]
    header = [c.value for c in ws[1]]
    assert header == ["编号", "姓名", "学校", "身份证号", "线下学时", "是否合格", "备注"]
    body = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert {r[0] for r in body} == set(sheet.results.values_list("pk", flat=True))
    assert all("*" in r[3] for r in body)  # national IDs masked
    # Fill in the template, with one mistake: nothing is applied, the line is reported.
    for i, r in enumerate(body):
        r[4], r[5] = (40, "合格") if i else (44, "合格")
    wb = load_workbook(io.BytesIO(template.content))
    ws = wb["成绩登记"]
    for i, r in enumerate(body, start=2):
        ws.cell(row=i, column=5, value=r[4])
        ws.cell(row=i, column=6, value=r[5])
    out = io.BytesIO()
    wb.save(out)
    out.name = "成绩.xlsx"
    out.seek(0)
    response = client.post(reverse("results:upload_create", args=[sheet.pk]), {"file": out})
    upload = ResultUpload.objects.latest("pk")
    assert upload.status == ResultUpload.Status.INVALID
    assert upload.errors[0]["line"] == 2 and "40" in upload.errors[0]["message"]
    page = client.get(response.url).content.decode()
    assert 'data-testid="upload-errors"' in page and 'data-testid="apply"' not in page
    assert not sheet.results.filter(passed__isnull=False).exists()
    # Corrected: preview, then apply.
    ws.cell(row=2, column=5, value=38)
    out = io.BytesIO()
    wb.save(out)
    out.name = "成绩.xlsx"
    data = out.getvalue()
    response = client.post(reverse("results:upload_create", args=[sheet.pk]), {"file": io.BytesIO(data)})
    upload = ResultUpload.objects.latest("pk")
    assert upload.status == ResultUpload.Status.PREVIEW and (upload.changed, upload.unchanged) == (3, 0)
    assert not sheet.results.filter(passed__isnull=False).exists()  # a preview changes nothing
    assert 'data-testid="apply"' in client.get(response.url).content.decode()
    client.post(reverse("results:upload_action", args=[upload.pk, "apply"]))
    client.post(reverse("results:upload_action", args=[upload.pk, "apply"]))  # again: no-op
    assert sorted(sheet.results.values_list("hours_offline", flat=True)) == [
        Decimal("38"),
        Decimal("40"),
        Decimal("40"),
    ]
    # The same file again: nothing to change.
    client.post(reverse("results:upload_create", args=[sheet.pk]), {"file": io.BytesIO(data)})
    again = ResultUpload.objects.latest("pk")
    assert (again.changed, again.unchanged) == (0, 3)


def test_upload_reports_every_problem_with_its_line(clerk, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    a, b, c = sheet.results.order_by("pk").select_related("teacher")
    upload = services.upload_create(
        actor=clerk,
        sheet=sheet,
        file=xlsx(
            [
                (a.pk, a.teacher.name, 40, "合格", ""),
                (b.pk, "别人", 40, "合格", ""),  # name does not match
                (a.pk, a.teacher.name, 40, "合格", ""),  # duplicate
                (999999, "某某", 40, "合格", ""),  # not in the class
                (c.pk, c.teacher.name, "四十", "也许", ""),  # two value errors
                ("", "", "", "", ""),  # blank rows are skipped
            ]
        ),
    )
    assert upload.status == ResultUpload.Status.INVALID
    lines = [e["line"] for e in upload.errors]
    assert lines == [3, 4, 5, 6, 6]
    bad = services.upload_create(actor=clerk, sheet=sheet, file=io.BytesIO(b"not a workbook"))
    assert bad.status == ResultUpload.Status.INVALID and "xlsx" in bad.errors[0]["message"]
    missing = services.upload_create(actor=clerk, sheet=sheet, file=xlsx([], headers=("编号", "姓名", "备注")))
    assert "是否合格" in missing.errors[0]["message"]
    assert not sheet.results.filter(passed__isnull=False).exists()


def test_template_has_both_hours_for_blended_projects(clerk, institution, province):
    from datetime import date

    from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory

    project = ProjectFactory(
        institution=institution,
        region=province,
        format="blended",
        hours_offline=Decimal("24"),
        hours_online=Decimal("8"),
    )
    project_class = ProjectClassFactory(project=project, starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 7))
    EnrollmentFactory(project_class=project_class)
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    ws = load_workbook(io.BytesIO(template_bytes(sheet)))["成绩登记"]
    assert [c.value for c in ws[1]][4:6] == ["线下学时", "线上学时"]


def test_lists_are_scoped_and_exportable(
    client, policy, clerk, reviewer, project, project_class, trainees, county, province
):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    login(client, other)
    assert project.name not in client.get(reverse("results:class_list")).content.decode()
    assert client.get(reverse("results:sheet_detail", args=[sheet.pk])).status_code == 404
    officer = make_actor(Role.PROVINCE, region=province)
    login(client, officer)
    page = client.get(reverse("results:class_list") + "?status=draft").content.decode()
    assert project.name in page
    assert project.name not in client.get(reverse("results:class_list") + "?status=approved").content.decode()
    county_officer = make_actor(Role.COUNTY, region=county)  # a provincial project: not the county's
    login(client, county_officer)
    assert project.name not in client.get(reverse("results:class_list")).content.decode()
    login(client, clerk)
    export = client.get(reverse("results:sheet_export", args=[sheet.pk]))
    ws = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert ws.max_row == 4
    listing = client.get(reverse("results:class_list") + "?export=1")
    ws = load_workbook(io.BytesIO(b"".join(listing.streaming_content))).active
    assert ws.max_row == 2


def test_teacher_sees_their_result_per_class(client, policy, clerk, reviewer, project, project_class, trainees):
    teacher = make_actor(Role.TEACHER, teacher=trainees[0].teacher)
    login(client, teacher)
    assert 'data-testid="my-result"' not in client.get(reverse("results:my_results")).content.decode()
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    page = client.get(reverse("results:my_results")).content.decode()
    assert project.name in page and 'data-testid="my-result-credits"' not in page
    services.sheet_approve(actor=reviewer, sheet=sheet)
    page = client.get(reverse("results:my_results")).content.decode()
    assert 'data-testid="my-result-credits">4 ' in page


def test_class_list_query_count_does_not_grow(client, clerk, project, django_assert_max_num_queries):
    from datetime import date

    from tests.factories import EnrollmentFactory, ProjectClassFactory

    for _ in range(6):
        c = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
        EnrollmentFactory(project_class=c)
        services.sheet_open(actor=clerk, project_class=c)
    login(client, clerk)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("results:class_list")).status_code == 200


def test_home_panels_show_what_is_due(client, clerk, reviewer, project_class, trainees, project):
    login(client, clerk)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="panel-results"' in page and project.name in page
    due = client.get(reverse("results:class_list") + "?due=1").content.decode()
    assert project.name in due
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    assert 'data-testid="panel-results"' not in client.get(reverse("home")).content.decode()
    login(client, reviewer)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="panel-results"' in page and project.name in page


def test_faq_q1_repair_path_through_the_pages(client, policy, clerk, reviewer, institution, province, school):
    """Wrong credit type at publication → the province corrects it on the project page → 取消审核 → 审核."""
    from datetime import date

    from peixun.credits import selectors as credit_selectors
    from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory, TeacherFactory

    project = ProjectFactory(institution=institution, region=province, credit_category="zizhu")
    klass = ProjectClassFactory(project=project, starts_on=date(2024, 4, 8), ends_on=date(2024, 4, 12))
    teacher = TeacherFactory(school=school)
    EnrollmentFactory(project_class=klass, teacher=teacher)
    sheet = services.sheet_open(actor=clerk, project_class=klass)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    services.sheet_approve(actor=reviewer, sheet=sheet)
    url = reverse("results:sheet_detail", args=[sheet.pk])

    officer = make_actor(Role.PROVINCE, region=province)
    login(client, officer)
    page = client.get(url).content.decode()
    assert 'data-testid="correct-link"' in page and 'data-testid="stale"' not in page
    project_page = client.get(reverse("catalog:project_detail", args=[project.pk])).content.decode()
    assert reverse("catalog:project_action", args=[project.pk, "correct"]) in project_page
    client.post(
        reverse("catalog:project_action", args=[project.pk, "correct"]),
        {"correct-credit_category": "tongchou", "correct-credit_level": "", "correct-reason": "申报时学分类型选错"},
    )
    project.refresh_from_db()
    assert project.credit_category == "tongchou"

    login(client, reviewer)
    assert 'data-testid="stale"' in client.get(url).content.decode()
    assert "需重新审核" in client.get(reverse("results:class_list")).content.decode()
    assert project.name in client.get(reverse("results:class_list") + "?status=stale").content.decode()
    home = client.get(reverse("home")).content.decode()
    assert "取消审核后重新审核" in home and project.name in home
    client.post(reverse("results:sheet_action", args=[sheet.pk, "cancel"]), {"reason": "项目学分类型已更正"})
    client.post(reverse("results:sheet_action", args=[sheet.pk, "approve"]))
    page = client.get(url).content.decode()
    assert 'data-testid="stale"' not in page
    assert project.name not in client.get(reverse("results:class_list") + "?status=stale").content.decode()
    history = list(LedgerEntry.objects.filter(teacher=teacher).order_by("pk").values_list("category", "amount"))
    assert history == [("zizhu", Decimal("4.00")), ("zizhu", Decimal("-4.00")), ("tongchou", Decimal("4.00"))]
    standing, _rows = credit_selectors.teacher_standing(actor=officer, teacher=teacher)
    assert (standing.category("tongchou").earned, standing.category("zizhu").earned) == (Decimal("4"), Decimal("0"))


def test_sheet_and_my_results_query_counts_do_not_grow(
    client, policy, clerk, reviewer, project_class, school, django_assert_max_num_queries
):
    from tests.factories import EnrollmentFactory, TeacherFactory

    teachers = [TeacherFactory(school=school) for _ in range(12)]
    for t in teachers:
        EnrollmentFactory(project_class=project_class, teacher=t)
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    services.sheet_approve(actor=reviewer, sheet=sheet)
    login(client, reviewer)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("results:sheet_detail", args=[sheet.pk])).status_code == 200
    teacher = make_actor(Role.TEACHER, teacher=teachers[0])
    login(client, teacher)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("results:my_results")).status_code == 200


def test_an_oversized_upload_is_refused_before_it_is_read(clerk, project_class, trainees):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from peixun.core.errors import InvalidInput

    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    big = SimpleUploadedFile("成绩.xlsx", b"x" * (5 * 1024 * 1024 + 1))
    with pytest.raises(InvalidInput, match="5 MB"):
        services.upload_create(actor=clerk, sheet=sheet, file=big)
    assert not ResultUpload.objects.exists()
