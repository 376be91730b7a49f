"""The roster import: every validation rule, the preview, all-or-nothing apply, idempotence, audit."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from peixun.core.errors import Conflict, InvalidInput, PermissionDenied
from peixun.core.ids import gender_from_id, make_national_id
from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.roster import services
from peixun.roster.importing import SUBJECT_ALIASES, TEMPLATE_HEADERS, TITLE_ALIASES
from peixun.roster.models import RosterImport, RosterImportError, RosterImportRow, Teacher
from peixun.roster.synthetic import national_rows
from tests.factories import SchoolFactory, TeacherFactory, make_actor

pytestmark = pytest.mark.django_db
S = RosterImport.Status


def rows_for(schools, n, seed=1, start=0) -> list[dict]:
    return list(national_rows(random.Random(seed), schools, n, start_seq=start))


def csv_bytes(rows, headers=None, *, encoding="utf-8", delimiter=",", prefix_lines=()) -> bytes:
    headers = headers or list(rows[0])
    out = io.StringIO()
    for line in prefix_lines:
        out.write(line + "\r\n")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=None, *, numeric_ids=False) -> bytes:
    headers = headers or list(rows[0])
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        values = []
        for h in headers:
            value = row.get(h, "")
            if numeric_ids and h == "身份证件号":
                value = float(value.replace("X", "0"))
            values.append(value)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def same_person(teacher) -> dict:
    """The ID columns of an existing teacher (gender and birth date follow from the ID)."""
    return {
        "身份证件号": teacher.national_id,
        "出生日期": teacher.birth_date.isoformat(),
        "性别": "男" if gender_from_id(teacher.national_id) == "M" else "女",
    }


def upload(actor, data: bytes, name="roster.csv") -> RosterImport:
    return services.roster_import_create(actor=actor, file=SimpleUploadedFile(name, data))


def problems(imp) -> list[tuple[int, str, str]]:
    return list(RosterImportError.objects.filter(roster_import_id=imp.pk).values_list("line", "column", "message"))


@pytest.fixture
def county_admin(county):
    return make_actor(Role.COUNTY, region=county)


@pytest.fixture
def schools(county):
    return [SchoolFactory(county=county), SchoolFactory(county=county)]


def test_valid_file_previews_then_applies_and_is_audited(county_admin, schools):
    rows = rows_for(schools, 6)
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW, problems(imp)
    assert imp.counts == {"new": 6, "changed": 0, "unchanged": 0, "missing": 0, "errors": 0}
    assert imp.total_rows == 6 and imp.staged_rows == 6 and imp.encoding == "utf-8-sig"
    assert len(imp.samples["new"]) == 6
    assert Teacher.objects.count() == 0  # the preview writes nothing to the roster

    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.status == S.APPLIED
    assert imp.counts["applied"] == {"new": 6, "changed": 0, "unchanged": 0, "left": 0}
    teacher = Teacher.objects.get(national_id=rows[0]["身份证件号"])
    assert teacher.name == rows[0]["姓名"]
    assert teacher.school.code == rows[0]["学校代码"]
    assert teacher.status == Teacher.Status.ACTIVE and teacher.post == Teacher.Post.TEACHER
    assert teacher.birth_date.isoformat() == rows[0]["出生日期"]
    assert RosterImportRow.objects.filter(roster_import_id=imp.pk).count() == 0  # staging cleared
    audit = AuditLog.objects.get(action="roster.import.apply")
    assert audit.after["new"] == 6 and audit.after["sha256"] == imp.sha256 and audit.user == county_admin.user
    assert AuditLog.objects.filter(action="roster.import.upload", object_id=str(imp.pk)).exists()


def test_every_row_error_is_reported_with_line_and_column(county_admin, schools, other_school):
    rows = rows_for(schools, 14)
    rows[1]["姓名"] = ""  # line 3
    rows[2]["身份证件号"] = "12345"  # line 4
    rows[3]["身份证件号"] = rows[3]["身份证件号"][:17] + ("0" if rows[3]["身份证件号"][17] != "0" else "1")  # line 5
    rows[4]["学校代码"] = "NOPE999"  # line 6
    rows[5]["学校代码"] = other_school.code  # line 7: outside the county
    rows[6]["任教学科"] = "魔法"  # line 8
    rows[7]["参加工作年月"] = "去年九月"  # line 9
    rows[8]["性别"] = "女" if rows[8]["性别"] == "男" else "男"  # line 10
    rows[9]["出生日期"] = "1999-01-01"  # line 11
    rows[10].update({k: rows[0][k] for k in ("身份证件号", "出生日期", "性别")})  # line 12: same ID as line 2
    rows[11]["身份证件类型"] = "护照"  # line 13
    rows[12]["任教学段"] = ""  # line 14
    rows[13]["是否在编"] = "也许"  # line 15
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.INVALID
    found = problems(imp)
    by_line = {line: (column, message) for line, column, message in found}
    assert sorted(by_line) == list(range(3, 16)), found
    assert by_line[3] == ("姓名", "“姓名”不能为空")
    assert by_line[4][0] == "身份证件号" and "应为18位" in by_line[4][1]
    assert "校验位错误" in by_line[5][1]
    assert by_line[6] == ("学校代码", "学校代码“NOPE999”不存在，请先由教育局在平台中添加该学校")
    assert by_line[7][0] == "学校代码" and "不在" in by_line[7][1] and other_school.name in by_line[7][1]
    assert by_line[8] == ("任教学科", "无法识别的任教学科“魔法”")
    assert by_line[9][0] == "参加工作年月" and "去年九月" in by_line[9][1]
    assert by_line[10] == ("性别", "性别与身份证件号不一致")
    assert by_line[11] == ("出生日期", "出生日期与身份证件号不一致")
    assert by_line[12] == ("身份证件号", "身份证件号与第2行重复")
    assert by_line[13][0] == "身份证件类型" and "护照" in by_line[13][1]
    assert by_line[14] == ("任教学段", "“任教学段”不能为空")
    assert by_line[15][0] == "是否在编"
    assert imp.counts["errors"] == 13


@pytest.mark.parametrize("lookup_ids", [500, 1])
def test_duplicate_ids_are_found_whether_looked_up_or_grouped(county_admin, schools, monkeypatch, lookup_ids):
    """The row check notes the IDs it meets twice; up to DUPLICATE_LOOKUP_IDS of them are looked
    up alone, more are found by grouping the whole file: the same problems either way. A bad row
    does not count as a first occurrence (it is not staged)."""
    from peixun.roster import imports

    monkeypatch.setattr(imports, "DUPLICATE_LOOKUP_IDS", lookup_ids)
    rows = rows_for(schools, 10)
    same = ("身份证件号", "出生日期", "性别")
    rows[4].update({k: rows[1][k] for k in same})  # line 6 repeats line 3
    rows[7].update({k: rows[1][k] for k in same})  # line 9 too
    rows[8].update({k: rows[2][k] for k in same})  # line 10 repeats line 4
    rows[5]["姓名"] = ""  # line 7: a bad row ...
    rows[6].update({k: rows[5][k] for k in same})  # ... so line 8 is the first good row with its ID
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.INVALID
    assert problems(imp) == [
        (6, "身份证件号", "身份证件号与第3行重复"),
        (7, "姓名", "“姓名”不能为空"),
        (9, "身份证件号", "身份证件号与第3行重复"),
        (10, "身份证件号", "身份证件号与第4行重复"),
    ]


def test_a_row_reports_all_its_problems(county_admin, schools):
    rows = rows_for(schools, 1)
    rows[0].update({"姓名": "", "任教学科": "魔法", "学校代码": "NOPE"})
    imp = upload(county_admin, csv_bytes(rows))
    assert {column for _, column, _ in problems(imp)} == {"姓名", "任教学科", "学校代码"}


def test_file_with_bad_rows_writes_nothing_and_cannot_be_applied(county_admin, schools):
    existing = TeacherFactory(school=schools[0], name="原名")
    rows = rows_for(schools, 5)
    rows[0].update(same_person(existing))
    rows[4]["任教学段"] = "大学"
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.INVALID and imp.counts["errors"] == 1
    assert imp.counts["new"] == 3 and imp.counts["changed"] == 1  # the preview still shows what it would do
    with pytest.raises(Conflict):
        services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert Teacher.objects.count() == 1
    existing.refresh_from_db()
    assert existing.name == "原名"
    assert not AuditLog.objects.filter(action="roster.import.apply").exists()


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("utf-16", "utf-16")],
)
def test_csv_encodings(county_admin, schools, encoding, expected):
    rows = rows_for(schools, 3)
    rows[0]["姓名"] = "龚喆"  # characters outside the commonest set
    imp = upload(county_admin, csv_bytes(rows, encoding=encoding, delimiter="\t" if encoding == "utf-16" else ","))
    assert imp.status == S.PREVIEW, problems(imp)
    assert imp.encoding == expected
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert Teacher.objects.get(national_id=rows[0]["身份证件号"]).name == "龚喆"


def test_xlsx_upload(county_admin, schools):
    rows = rows_for(schools, 4)
    imp = upload(county_admin, xlsx_bytes(rows), name="名册.xlsx")
    assert imp.status == S.PREVIEW, problems(imp)
    assert imp.counts["new"] == 4 and imp.encoding == "xlsx"


def test_xlsx_with_ids_stored_as_numbers_explains_excel(county_admin, schools):
    rows = rows_for(schools, 2)
    imp = upload(county_admin, xlsx_bytes(rows, numeric_ids=True), name="名册.xlsx")
    assert imp.status == S.INVALID
    assert all("Excel 存成了数字" in message for _, _, message in problems(imp))


def test_header_aliases_and_shuffled_columns(county_admin, schools):
    rows = rows_for(schools, 3)
    renamed = {"身份证件号": "身份证号码", "专业技术职务": "职称", "任教学科": "任教课程", "学校代码": "学校标识码"}
    for row in rows:
        for old, new in renamed.items():
            row[new] = row.pop(old)
    headers = list(rows[0])
    random.Random(3).shuffle(headers)
    imp = upload(county_admin, csv_bytes(rows, headers))
    assert imp.status == S.PREVIEW, problems(imp)
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    teacher = Teacher.objects.get(national_id=rows[1]["身份证号码"])
    assert teacher.school.code == rows[1]["学校标识码"]
    assert teacher.subject == SUBJECT_ALIASES[rows[1]["任教课程"]]
    assert teacher.title == TITLE_ALIASES[rows[1]["职称"]]


def test_alias_errors_name_the_files_column(county_admin, schools):
    rows = rows_for(schools, 1)
    rows[0]["身份证号"] = "123"
    del rows[0]["身份证件号"]
    imp = upload(county_admin, csv_bytes(rows))
    assert problems(imp)[0][1] == "身份证号"


def test_unknown_columns_are_ignored_with_a_notice(county_admin, schools):
    rows = rows_for(schools, 2)
    for row in rows:
        row["手机号码"] = "13800000000"
        row["备注"] = "无"
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW
    assert len(imp.notices) == 1 and "手机号码" in imp.notices[0] and "备注" in imp.notices[0]


def test_title_line_above_the_header_is_skipped(county_admin, schools):
    rows = rows_for(schools, 2)
    imp = upload(county_admin, csv_bytes(rows, prefix_lines=["教职工基本信息导出"]))
    assert imp.status == S.PREVIEW, problems(imp)
    assert "表头在第 2 行，上面的行已跳过。" in imp.notices


@pytest.mark.parametrize("title", ["教职工基本信息导出", "教职工基本信息,2024年秋季"])
def test_tab_separated_file_with_a_title_line_is_read_by_tabs(county_admin, schools, title):
    """The delimiter is the one with which a line reads as the header, not the first line's
    commoner one (the title may hold neither, or a comma)."""
    rows = rows_for(schools, 3)
    imp = upload(county_admin, csv_bytes(rows, delimiter="\t", prefix_lines=[title]), name="roster.txt")
    assert imp.status == S.PREVIEW, problems(imp)
    assert imp.counts["new"] == 3 and "表头在第 2 行，上面的行已跳过。" in imp.notices
    assert imp.samples["new"][0]["name"] == rows[0]["姓名"]


def test_delimiter_is_the_headers_one():
    from peixun.roster.importing import _delimiter

    header = "姓名,身份证件号,学校代码"
    assert _delimiter(["标题\n", header + "\n"]) == ","
    assert _delimiter(["标题,2024\n", header.replace(",", "\t") + "\n"]) == "\t"
    assert _delimiter(["a\tb\n", "c,d,e\n"]) == ","  # no header among them: the commoner one
    assert _delimiter(["a\tb,c\n"]) == ","  # a tie: comma, as before


def test_missing_required_headers_are_refused_up_front(county_admin, schools):
    rows = rows_for(schools, 2)
    headers = [h for h in rows[0] if h not in ("身份证件号", "学校代码")]
    with pytest.raises(InvalidInput) as caught:
        upload(county_admin, csv_bytes(rows, headers))
    assert "身份证件号" in caught.value.message and "学校代码" in caught.value.message
    assert RosterImport.objects.count() == 0


def test_refuses_other_formats_and_empty_files(county_admin):
    with pytest.raises(InvalidInput):
        upload(county_admin, b"data", name="roster.xls")
    with pytest.raises(InvalidInput):
        upload(county_admin, b"data", name="roster.pdf")
    with pytest.raises(InvalidInput):
        upload(county_admin, b"", name="roster.csv")
    with pytest.raises(InvalidInput):
        upload(county_admin, b"\x00\x01not a zip", name="roster.xlsx")


def test_school_admin_may_import_only_its_school(school, other_school):
    admin = make_actor(Role.SCHOOL, school=school)
    rows = rows_for([school], 2) + rows_for([other_school], 1, start=50)
    imp = upload(admin, csv_bytes(rows))
    assert imp.status == S.INVALID
    [(line, column, message)] = problems(imp)
    assert line == 4 and column == "学校代码" and "只能导入本校" in message
    assert imp.school == school and imp.region is None


def test_roles_without_import_right_are_refused(school, institution):
    rows = rows_for([school], 1)
    for actor in (make_actor(Role.TEACHER, school=school), make_actor(Role.INSTITUTION, institution=institution)):
        with pytest.raises(PermissionDenied):
            upload(actor, csv_bytes(rows))


def test_id_held_by_a_teacher_in_another_scope_is_refused(county_admin, schools, other_school):
    elsewhere = TeacherFactory(school=other_school)
    rows = rows_for(schools, 2)
    rows[1].update(same_person(elsewhere))
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.INVALID
    [(line, column, message)] = problems(imp)
    assert line == 3 and column == "身份证件号" and other_school.name in message
    # A teacher the other school has marked as left may move here.
    Teacher.objects.filter(pk=elsewhere.pk).update(status=Teacher.Status.LEFT)
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW and imp.counts["changed"] == 1
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    elsewhere.refresh_from_db()
    assert elsewhere.school_id != other_school.pk and elsewhere.status == Teacher.Status.ACTIVE


def test_changes_show_field_diffs_and_leave_local_fields_alone(county_admin, schools):
    rows = rows_for(schools, 3)
    county_admin_import = upload(county_admin, csv_bytes(rows))
    services.roster_import_confirm(actor=county_admin, roster_import=county_admin_import)
    teacher = Teacher.objects.get(national_id=rows[0]["身份证件号"])
    Teacher.objects.filter(pk=teacher.pk).update(phone="13900001111", remarks="班主任", post="head_teacher")
    rows[0]["任教学科"] = "心理健康" if rows[0]["任教学科"] != "心理健康" else "语文"
    rows[0]["学历"] = "硕士研究生" if rows[0]["学历"] != "硕士研究生" else "本科"
    rows[0]["学校代码"] = schools[1].code if rows[0]["学校代码"] == schools[0].code else schools[0].code
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.counts == {"new": 0, "changed": 1, "unchanged": 2, "missing": 0, "errors": 0}
    [sample] = imp.samples["changed"]
    assert sample["line"] == 2
    assert {d[0] for d in sample["diffs"]} == {"subject", "education", "school_id"}
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.counts["applied"]["changed"] == 1
    teacher.refresh_from_db()
    assert teacher.education == rows[0]["学历"] and teacher.school.code == rows[0]["学校代码"]
    assert (teacher.phone, teacher.remarks, teacher.post) == ("13900001111", "班主任", "head_teacher")


def _track_counts_off() -> None:
    """PostgreSQL without the per-transaction row counters the one-statement apply reads: it
    falls back to an UPDATE and an INSERT."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL track_counts = off")  # until the test's transaction ends


@pytest.mark.parametrize("counters", ["kept", "off"])
def test_applied_figures_split_new_changed_unchanged(settings, county_admin, schools, counters):
    if counters == "off":
        _track_counts_off()
    rows = rows_for(schools, 5)
    services.roster_import_confirm(actor=county_admin, roster_import=upload(county_admin, csv_bytes(rows[:3])))
    Teacher.objects.filter(national_id=rows[0]["身份证件号"]).update(name="改过的名字")
    imp = upload(county_admin, csv_bytes(rows))
    assert (imp.counts["new"], imp.counts["changed"], imp.counts["unchanged"]) == (2, 1, 2)
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.counts["applied"] == {"new": 2, "changed": 1, "unchanged": 2, "left": 0}
    assert Teacher.objects.get(national_id=rows[0]["身份证件号"]).name == rows[0]["姓名"]
    assert Teacher.objects.count() == 5
    # A large first import (indexes rebuilt) takes the same path.
    settings.PEIXUN_IMPORT_REBUILD_ROWS = 3
    imp = upload(county_admin, csv_bytes(rows_for(schools, 7, seed=3, start=200)))
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.counts["applied"] == {"new": 7, "changed": 0, "unchanged": 0, "left": 0}
    assert Teacher.objects.count() == 12


def test_columns_absent_from_the_file_are_not_blanked(county_admin, schools):
    rows = rows_for(schools, 2)
    services.roster_import_confirm(actor=county_admin, roster_import=upload(county_admin, csv_bytes(rows)))
    Teacher.objects.update(former_name="旧名")
    headers = [h for h in rows[0] if h not in ("民族", "政治面貌", "学历")]
    imp = upload(county_admin, csv_bytes(rows, headers))
    assert imp.counts["unchanged"] == 2 and imp.counts["changed"] == 0
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert set(Teacher.objects.values_list("former_name", flat=True)) == {"旧名"}  # 曾用名 is not in the file
    teacher = Teacher.objects.get(national_id=rows[0]["身份证件号"])
    assert teacher.ethnicity == rows[0]["民族"] and teacher.education == rows[0]["学历"]


def test_second_apply_of_the_same_file_changes_nothing(county_admin, schools):
    rows = rows_for(schools, 8)
    data = csv_bytes(rows)
    services.roster_import_confirm(actor=county_admin, roster_import=upload(county_admin, data))
    before = dict(Teacher.objects.values_list("pk", "updated_at"))
    again = upload(county_admin, data)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 8, "missing": 0, "errors": 0}
    again = services.roster_import_confirm(actor=county_admin, roster_import=again)
    assert again.counts["applied"] == {"new": 0, "changed": 0, "unchanged": 8, "left": 0}
    assert dict(Teacher.objects.values_list("pk", "updated_at")) == before
    with pytest.raises(Conflict):  # and an applied import cannot be applied twice
        services.roster_import_confirm(actor=county_admin, roster_import=again)


def test_mark_leavers_only_inside_scope(county_admin, schools, other_school):
    rows = rows_for(schools, 3)
    gone = TeacherFactory(school=schools[0])
    outside = TeacherFactory(school=other_school)
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.counts["missing"] == 1
    assert [m["national_id"] for m in imp.samples["missing"]] == [gone.national_id]
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp, mark_leavers=True)
    assert imp.counts["applied"]["left"] == 1 and imp.mark_leavers
    gone.refresh_from_db()
    outside.refresh_from_db()
    assert gone.status == Teacher.Status.LEFT and outside.status == Teacher.Status.ACTIVE


@pytest.mark.parametrize("with_duplicate", [False, True])
def test_not_in_file_counts_teachers_in_post_in_scope_once(county_admin, schools, other_school, with_duplicate):
    """Counted from the rows the preview matches when the file's IDs are unique, by an anti-join
    when a duplicate makes a teacher match twice: the same figure."""
    rows = rows_for(schools, 4)
    for row in rows[:3]:  # three teachers already on the roster, all in the file
        TeacherFactory(school=schools[0], national_id=row["身份证件号"], birth_date=date.fromisoformat(row["出生日期"]))
    gone = [TeacherFactory(school=schools[1]), TeacherFactory(school=schools[0])]
    TeacherFactory(school=schools[0], status=Teacher.Status.LEFT)  # not in post: not counted
    TeacherFactory(school=other_school)  # outside the county: not counted
    if with_duplicate:
        rows.append(dict(rows[1]))
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.counts["missing"] == 2
    assert imp.counts["errors"] == (1 if with_duplicate else 0)
    assert sorted(m["national_id"] for m in imp.samples["missing"]) == sorted(t.national_id for t in gone)


def test_without_mark_leavers_missing_teachers_stay(county_admin, schools):
    gone = TeacherFactory(school=schools[0])
    imp = services.roster_import_confirm(
        actor=county_admin, roster_import=upload(county_admin, csv_bytes(rows_for(schools, 2)))
    )
    assert imp.counts["applied"]["left"] == 0
    gone.refresh_from_db()
    assert gone.status == Teacher.Status.ACTIVE


def test_teacher_marked_left_comes_back_when_in_the_file(county_admin, schools):
    rows = rows_for(schools, 1)
    services.roster_import_confirm(actor=county_admin, roster_import=upload(county_admin, csv_bytes(rows)))
    Teacher.objects.update(status=Teacher.Status.LEFT)
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.counts["changed"] == 1
    assert imp.samples["changed"][0]["diffs"] == [["status", "left", "active"]]
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert Teacher.objects.get().status == Teacher.Status.ACTIVE


def test_apply_refuses_an_import_whose_staged_rows_are_incomplete(county_admin, schools):
    imp = upload(county_admin, csv_bytes(rows_for(schools, 4)))
    assert imp.status == S.PREVIEW
    RosterImportRow.objects.filter(roster_import_id=imp.pk, line=3).delete()
    with pytest.raises(Conflict):
        services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert Teacher.objects.count() == 0


def test_applying_one_import_keeps_the_staged_rows_of_another(county_admin, schools, other_county):
    """Staging is emptied at once only when no other import has rows there."""
    other_admin = make_actor(Role.COUNTY, region=other_county)
    other_schools = [SchoolFactory(county=other_county)]
    mine = upload(county_admin, csv_bytes(rows_for(schools, 3)))
    theirs = upload(other_admin, csv_bytes(rows_for(other_schools, 2, seed=2, start=100)))
    assert mine.status == theirs.status == S.PREVIEW
    mine = services.roster_import_confirm(actor=county_admin, roster_import=mine)
    assert mine.status == S.APPLIED
    assert RosterImportRow.objects.filter(roster_import_id=mine.pk).count() == 0
    assert RosterImportRow.objects.filter(roster_import_id=theirs.pk).count() == 2
    theirs = services.roster_import_confirm(actor=other_admin, roster_import=theirs)
    assert theirs.status == S.APPLIED and theirs.counts["applied"]["new"] == 2
    assert RosterImportRow.objects.count() == 0
    assert Teacher.objects.count() == 5


def test_apply_revalidates_against_the_current_database(county_admin, schools, other_school):
    rows = rows_for(schools, 3)
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW
    # Since the preview: one school was deactivated, and another county took one teacher.
    schools[1].is_active = False
    schools[1].save()
    taken = rows[0]
    TeacherFactory(
        school=other_school,
        national_id=taken["身份证件号"],
        birth_date=date.fromisoformat(taken["出生日期"]),
    )
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.status == S.INVALID
    messages = [m for _, _, m in problems(imp)]
    assert any("已停用" in m for m in messages) and any(other_school.name in m for m in messages)
    assert Teacher.objects.count() == 1  # nothing written
    assert AuditLog.objects.filter(action="roster.import.revalidate").exists()


def test_cancel_clears_staging_and_blocks_apply(county_admin, schools):
    imp = upload(county_admin, csv_bytes(rows_for(schools, 3)))
    imp = services.roster_import_cancel(actor=county_admin, roster_import=imp)
    assert imp.status == S.CANCELLED
    assert not RosterImportRow.objects.filter(roster_import_id=imp.pk).exists()
    with pytest.raises(Conflict):
        services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert AuditLog.objects.filter(action="roster.import.cancel").exists()


def test_newer_upload_supersedes_an_older_preview(county_admin, schools):
    first = upload(county_admin, csv_bytes(rows_for(schools, 2)))
    second = upload(county_admin, csv_bytes(rows_for(schools, 3)))
    first.refresh_from_db()
    assert first.status == S.CANCELLED and second.status == S.PREVIEW
    assert not RosterImportRow.objects.filter(roster_import_id=first.pk).exists()


def test_other_county_cannot_see_or_apply(county_admin, schools, other_county):
    imp = upload(county_admin, csv_bytes(rows_for(schools, 2)))
    stranger = make_actor(Role.COUNTY, region=other_county)
    from peixun.core.errors import NotFound

    with pytest.raises(NotFound):
        services.roster_import_confirm(actor=stranger, roster_import=imp)
    with pytest.raises(NotFound):
        services.roster_import_cancel(actor=stranger, roster_import=imp)


def test_province_import_covers_every_county(province, schools, other_school):
    actor = make_actor(Role.PROVINCE, region=province)
    rows = rows_for([*schools, other_school], 6)
    imp = services.roster_import_confirm(actor=actor, roster_import=upload(actor, csv_bytes(rows)))
    assert imp.counts["applied"]["new"] == 6


@pytest.mark.django_db(transaction=True)
def test_large_file_runs_in_the_worker_with_progress(settings, county_admin, schools):
    """The real path for big files: queued on commit, run by ``manage.py db_worker``."""
    settings.PEIXUN_IMPORT_INLINE_BYTES = 0
    settings.PEIXUN_IMPORT_INLINE_ROWS = 0
    rows = rows_for(schools, 30)
    imp = upload(county_admin, csv_bytes(rows))
    imp.job.refresh_from_db()
    assert imp.status == S.VALIDATING and imp.job.status == Job.Status.QUEUED and imp.job.task_id
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    imp.refresh_from_db()
    assert imp.status == S.PREVIEW, problems(imp)
    imp.job.refresh_from_db()
    assert imp.job.status == Job.Status.SUCCEEDED and imp.job.percent == 100 and "30" in imp.job.message

    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp, mark_leavers=True)
    assert imp.status == S.APPLYING
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    imp.refresh_from_db()
    assert imp.status == S.APPLIED and imp.counts["applied"]["new"] == 30
    assert imp.apply_job.status == Job.Status.SUCCEEDED
    assert AuditLog.objects.get(action="roster.import.apply").user == county_admin.user


def test_template_headers_are_importable(county_admin, schools):
    row = rows_for(schools, 1)[0]
    row["曾用名"] = ""
    data = csv_bytes([row], TEMPLATE_HEADERS)
    imp = upload(county_admin, data)
    assert imp.status == S.PREVIEW, problems(imp)
    assert set(imp.columns) >= {"former_name", "ethnicity", "education"}


def test_valid_national_id_examples():
    from peixun.roster.importing import check_id

    assert check_id(make_national_id("990101", date(1985, 3, 12), 23))[1] is None
    assert "无效" in check_id("990101198502300230")[1]
    assert "Excel" in check_id("9.90101198503E+17")[1]
    assert "应为18位" in check_id("９９０１０１１９８５０３１２０２３Ｘ")[1]


@pytest.mark.django_db(transaction=True)
def test_failed_validation_is_recorded_and_can_be_retried(settings, county_admin, schools):
    from peixun.core.services import job_retry

    settings.PEIXUN_IMPORT_INLINE_BYTES = 0
    imp = upload(county_admin, csv_bytes(rows_for(schools, 3)))
    stored = Path(imp.file.path)
    kept = stored.read_bytes()
    stored.unlink()  # the worker cannot read the upload: an internal failure, recorded on the import
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    imp.refresh_from_db()
    assert imp.status == S.FAILED and "内部错误" in imp.message
    imp.job.refresh_from_db()
    assert imp.job.status == Job.Status.FAILED
    stored.write_bytes(kept)
    job_retry(user=county_admin.user, job=imp.job)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    imp.refresh_from_db()
    assert imp.status == S.PREVIEW and imp.counts["new"] == 3


def test_rows_stream_to_staging_in_segments_and_problems_between_them(county_admin, schools, monkeypatch):
    """Segments end every few rows or when problems pile up; nothing is lost at any boundary."""
    from peixun.roster import imports

    monkeypatch.setattr(imports, "SEGMENT_ROWS", 4)
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    rows = rows_for(schools, 23, seed=7)
    for n in (2, 3, 5, 6, 7, 8, 15, 22):  # runs of bad rows on both sides of the boundaries
        rows[n]["学校代码"] = f"NOPE{n}"
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.INVALID
    assert imp.total_rows == 23 and imp.staged_rows == 15
    assert RosterImportRow.objects.filter(roster_import_id=imp.pk).count() == 15
    assert sorted(line for line, _c, _m in problems(imp)) == [n + 2 for n in (2, 3, 5, 6, 7, 8, 15, 22)]
    # The same file, fixed, goes through; every staged row is the file's.
    for n in (2, 3, 5, 6, 7, 8, 15, 22):
        rows[n]["学校代码"] = schools[n % 2].code
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW and imp.staged_rows == 23, problems(imp)
    lines = sorted(RosterImportRow.objects.filter(roster_import_id=imp.pk).values_list("line", flat=True))
    assert lines == list(range(2, 25))
    imp = services.roster_import_confirm(actor=county_admin, roster_import=imp)
    assert imp.status == S.APPLIED and Teacher.objects.count() == 23


def _roster_schema() -> tuple[list, list]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'roster_teacher'::regclass ORDER BY 1"
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'roster_teacher' ORDER BY 1")
        return constraints, cursor.fetchall()


def test_bulk_first_import_rebuilds_indexes_and_checks_every_constraint(settings, county_admin, schools):
    """On PostgreSQL a large first import drops the roster's secondary indexes and constraints,
    inserts, and re-creates each as it was; the re-created constraints are checked over every row."""
    from django.db import IntegrityError, connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings.PEIXUN_IMPORT_REBUILD_ROWS = 3
    schema = _roster_schema()
    assert any("FOREIGN KEY (school_id)" in d for _, d in schema[0]) and len(schema[1]) >= 5
    existing = TeacherFactory(school=schools[0])
    rows = rows_for(schools, 6)
    imp = services.roster_import_confirm(actor=county_admin, roster_import=upload(county_admin, csv_bytes(rows)))
    assert imp.counts["applied"] == {"new": 6, "changed": 0, "unchanged": 0, "left": 0}
    assert Teacher.objects.count() == 7 and Teacher.objects.filter(pk=existing.pk).exists()
    assert _roster_schema() == schema  # every index and constraint back, same name and definition

    # A constraint that fails when re-created (here: two staged rows with one ID, which the
    # validation never lets through) rolls the whole apply back, indexes included.
    imp = upload(county_admin, csv_bytes(rows_for(schools, 8, start=100)))  # more than the roster holds
    assert imp.status == S.PREVIEW
    first, second = RosterImportRow.objects.filter(roster_import_id=imp.pk).order_by("line")[:2]
    RosterImportRow.objects.filter(pk=second.pk).update(national_id=first.national_id)
    with pytest.raises(IntegrityError):
        services.roster_import_apply(actor=county_admin, roster_import=imp)
    assert Teacher.objects.count() == 7
    assert _roster_schema() == schema
    assert RosterImport.objects.get(pk=imp.pk).status == S.PREVIEW


def test_values_with_tabs_backslashes_and_line_breaks_arrive_intact(county_admin, schools):
    """Staged rows are sent as COPY text on PostgreSQL: characters with a meaning there are escaped."""
    rows = rows_for(schools, 3)
    rows[0]["姓名"] = "王\\五"
    rows[1]["民族"] = "汉\t族"
    rows[2]["学历"] = "本科\n（函授）\r"
    rows[2]["政治面貌"] = "\\N"
    imp = upload(county_admin, csv_bytes(rows))
    assert imp.status == S.PREVIEW, problems(imp)
    services.roster_import_confirm(actor=county_admin, roster_import=imp)
    by_id = {t.national_id: t for t in Teacher.objects.all()}
    assert by_id[rows[0]["身份证件号"]].name == "王\\五"
    assert by_id[rows[1]["身份证件号"]].ethnicity == "汉\t族"
    assert by_id[rows[2]["身份证件号"]].education == "本科\n（函授）"  # cells are stripped
    assert by_id[rows[2]["身份证件号"]].political_status == "\\N"


@pytest.mark.django_db(transaction=True)
def test_large_csv_is_checked_in_two_processes_with_the_same_result(settings, county_admin, schools, monkeypatch):
    """On PostgreSQL the worker checks the second half of a large CSV file in a forked process:
    the problems (with their lines, also a duplicate across the halves), the counts and the staged
    rows are the same as when one process reads the whole file."""
    from django.db import connection

    from peixun.roster import imports

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings.PEIXUN_IMPORT_INLINE_BYTES = 0
    split = []
    real = imports._check_in_two
    monkeypatch.setattr(imports, "_check_in_two", lambda *a: split.append(a[2].line) or real(*a))
    rows = rows_for(schools, 40, seed=3)
    rows[3]["学校代码"] = "NOPE3"  # line 5, first half
    rows[35]["身份证件号"] = "12345"  # line 37, second half
    rows[30].update({k: rows[5][k] for k in ("身份证件号", "出生日期", "性别")})  # line 32 repeats line 7
    data = csv_bytes(rows)

    def check(parallel_rows: int) -> tuple:
        settings.PEIXUN_IMPORT_PARALLEL_ROWS = parallel_rows
        imp = upload(county_admin, data)
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        imp.refresh_from_db()
        staged = sorted(RosterImportRow.objects.filter(roster_import_id=imp.pk).values_list("line", "national_id"))
        return imp.status, imp.total_rows, imp.staged_rows, sorted(problems(imp)), staged

    two = check(1)
    assert split and 10 < split[0] < 35  # it was cut near the middle
    one = check(10**6)
    assert len(split) == 1
    assert two == one
    status, total, staged, found, _rows = two
    assert status == S.INVALID and total == 40 and staged == 38
    assert [line for line, _c, _m in found] == [5, 32, 37] and "与第7行重复" in found[1][2]

    rows[3]["学校代码"] = schools[0].code
    rows[35]["身份证件号"] = rows_for(schools, 1, start=500)[0]["身份证件号"]
    rows[35].update({k: v for k, v in rows_for(schools, 1, start=500)[0].items() if k in ("出生日期", "性别")})
    rows[30] = rows_for(schools, 1, start=600)[0]
    data = csv_bytes(rows)
    status, total, staged, found, staged_rows = check(1)
    assert status == S.PREVIEW and staged == 40 and not found
    assert [line for line, _n in staged_rows] == list(range(2, 42))


def test_csv_is_cut_in_two_only_where_every_line_is_a_record(tmp_path):
    from peixun.roster.importing import read_csv, second_half

    header = "姓名,身份证件号,学校代码,任教学段,任教学科\r\n"
    body = "".join(f"张{n},99010119850312{n % 1000:03d}X,S{n},小学,语文\r\n" for n in range(60_000))  # > 2 MiB
    path = tmp_path / "a.csv"
    path.write_text(header + body, encoding="utf-8-sig")
    data = path.read_bytes()
    shift = (1 << 20) - 1 - data.rindex(b"\r", 0, 1 << 20)  # make a CRLF straddle the first 1 MiB read
    body = body.replace("张0,", "张0" + "x" * shift + ",", 1)
    path.write_text(header + body, encoding="utf-8-sig")
    assert path.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == b"\r\n"
    half = second_half(read_csv(path))
    assert half is not None and abs(half.offset - path.stat().st_size // 2) < 100
    first = next(half.rows())
    assert first[1][0] == f"张{first[0] - 2}"  # line numbers continue from the first half
    assert first[0] > 2
    assert sum(1 for _ in half.rows()) == 60_001 - first[0] + 1

    path.write_text(header + body.replace("张7,", '"张,7",', 1), encoding="utf-8-sig")  # a quoted cell
    assert second_half(read_csv(path)) is None
    path.write_text(header + body[: len(body) // 3] + "张,1,2,3,4\r" + body[len(body) // 3 :], encoding="utf-8-sig")
    assert second_half(read_csv(path)) is None  # a bare CR ends a line
    path.write_text(header + body, encoding="utf-16")
    assert second_half(read_csv(path)) is None


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_plain_csv_lines_are_read_as_the_csv_module_reads_them(tmp_path, delimiter):
    """A file without quotes is read by splitting lines: the rows, cells and line numbers are the
    csv module's (blank lines, delimiter-only lines, short rows, spaces, CRLF and LF)."""
    import csv as csv_module

    from peixun.roster.importing import _non_blank, _records, read_csv

    lines = [
        "标题,某县教师名单",
        "姓名,身份证件号,学校代码,任教学段,任教学科",
        "张三,990101198503120231,S1,小学,语文",
        "",
        ",,,,",
        "李四 , 990101198503120231 ,S2",
        "  ",
        "王五,990101198503120231,S3,小学,语文,多余",
        "赵六,,,,",
    ]
    text = "\r\n".join(lines[:5]) + "\n" + "\n".join(lines[5:]) + "\r\n"
    path = tmp_path / "plain.csv"
    path.write_text(text.replace(",", delimiter), encoding="utf-8-sig")
    sheet = read_csv(path)
    assert sheet.layout.plain and sheet.header_line == 2
    with open(path, encoding="utf-8-sig", newline="") as fh:
        expected = [r for r in _non_blank(_records(csv_module.reader(fh, delimiter=delimiter), 1)) if r[0] > 2]
    assert list(sheet.rows) == expected
    assert [line for line, _cells in expected] == [3, 6, 8, 9]  # blank and delimiter-only lines skipped


@pytest.mark.django_db(transaction=True)
def test_cancel_while_two_processes_check_stops_both_and_keeps_nothing(settings, county_admin, schools, monkeypatch):
    from django.db import connection

    from peixun.roster import imports

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings.PEIXUN_IMPORT_INLINE_BYTES = 0
    settings.PEIXUN_IMPORT_PARALLEL_ROWS = 1
    monkeypatch.setattr(imports, "SEGMENT_ROWS", 5)
    real = imports._segment_done

    def segment_done(import_id, job, estimated, share, rows):
        if share == 2:  # the parent, after its first segment: the user cancelled meanwhile
            RosterImport.objects.filter(pk=import_id).update(status=S.CANCELLED)
        real(import_id, job, estimated, share, rows)

    monkeypatch.setattr(imports, "_segment_done", segment_done)
    imp = upload(county_admin, csv_bytes(rows_for(schools, 60, seed=5)))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    imp.refresh_from_db()
    assert imp.status == S.CANCELLED
    assert not RosterImportRow.objects.filter(roster_import_id=imp.pk).exists()
    assert not RosterImportError.objects.filter(roster_import_id=imp.pk).exists()
    imp.job.refresh_from_db()
    assert imp.job.status == Job.Status.FAILED
