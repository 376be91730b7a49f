"""The results spreadsheet: a template with the roster prefilled, and the parser for uploads.

Columns are found by their Chinese header (order free, known aliases, extra columns
ignored). Rows are matched by 编号 (the result row's id, prefilled in the template) and
checked against 姓名, so a row pasted into the wrong place is caught.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from peixun.core.choices import TrainingFormat
from peixun.core.exports import xlsx_row
from peixun.core.masking import mask_national_id

from .models import ResultSheet

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

H_ID, H_NAME, H_SCHOOL, H_NID = "编号", "姓名", "学校", "身份证号"
H_OFFLINE, H_ONLINE, H_PASSED, H_REMARKS = "线下学时", "线上学时", "是否合格", "备注"

ALIASES = {
    "id": {H_ID, "成绩编号", "学员编号"},
    "name": {H_NAME, "学员姓名", "教师姓名"},
    "hours_offline": {H_OFFLINE, "面授学时", "线下参训学时", "面授参训学时"},
    "hours_online": {H_ONLINE, "网络学时", "在线学时", "线上参训学时"},
    "hours": {"参训学时", "学时", "实际学时"},
    "passed": {H_PASSED, "考核结果", "合格", "考核是否合格"},
    "remarks": {H_REMARKS, "说明"},
}


def columns_for(fmt: str) -> list[str]:
    hours = {
        TrainingFormat.FACE_TO_FACE: [H_OFFLINE],
        TrainingFormat.ONLINE: [H_ONLINE],
    }.get(fmt, [H_OFFLINE, H_ONLINE])
    return [H_ID, H_NAME, H_SCHOOL, H_NID, *hours, H_PASSED, H_REMARKS]


def _num(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def template_bytes(sheet: ResultSheet) -> bytes:
    """The class's roster with any results entered so far, ready to fill in and upload."""
    project = sheet.project_class.project
    headers = columns_for(project.format)
    wb = Workbook()
    ws = wb.active
    ws.title = "成绩登记"
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        if cell.value in (H_ID, H_NAME, H_SCHOOL, H_NID):
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
    results = sheet.results.select_related("teacher", "teacher__school").order_by(
        "teacher__school__code", "teacher__name", "pk"
    )
    for r in results:
        values = {
            H_ID: r.pk,
            H_NAME: r.teacher.name,
            H_SCHOOL: r.teacher.school.name,
            H_NID: mask_national_id(r.teacher.national_id),
            H_OFFLINE: _num(r.hours_offline),
            H_ONLINE: _num(r.hours_online),
            H_PASSED: "" if r.passed is None else ("合格" if r.passed else "不合格"),
            H_REMARKS: r.remarks,
        }
        ws.append(xlsx_row(ws, [values[h] for h in headers]))
    last = max(ws.max_row, 2)
    passed_col = ws.cell(row=1, column=headers.index(H_PASSED) + 1).column_letter
    check = DataValidation(type="list", formula1='"合格,不合格"', allow_blank=True)
    check.add(f"{passed_col}2:{passed_col}{last}")
    ws.add_data_validation(check)
    for letter, width in zip("ABCDEFGH", (10, 12, 28, 22, 12, 12, 10, 30)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "C2"
    notes = wb.create_sheet("填写说明")
    hours_off, hours_on = project.hours_offline, project.hours_online
    for line in (
        f"项目：{project.name}（{project.code}）第{sheet.project_class.number}期",
        f"计划学时：线下 {hours_off}，线上 {hours_on}（形式：{project.get_format_display()}）",
        "请勿修改“编号”“姓名”列；每行填写实际参训学时（不超过计划学时，最多一位小数）和是否合格（合格/不合格），备注可选。",
        "上传后系统先检查全部行并显示预览，确认后才会一次性全部生效；有任何错误则不做任何修改。",
        "同一文件重复上传不会重复修改。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_key(value: Any) -> str | None:
    text = _text(value).replace(" ", "").replace("\u3000", "")
    text = text.split("（")[0].split("(")[0]
    for key, names in ALIASES.items():
        if text in names:
            return key
    return None


def parse_upload(content: bytes, sheet: ResultSheet) -> tuple[list[dict], list[dict]]:
    """Rows ``{"line", "id", "hours_offline", "hours_online", "passed", "remarks"}`` and errors ``{"line", "message"}``.

    Row-level value checks (学时 limits, 合格/不合格) are the service's ``clean_values``; this
    reports them too, with line numbers, so the preview lists every problem at once.
    """
    from .services import clean_values

    if len(content) > MAX_BYTES:
        return [], [{"line": None, "message": _("The file is larger than 5 MB.")}]
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError):
        return [], [{"line": None, "message": _("The file is not an Excel workbook (.xlsx). Use the template.")}]
    try:
        ws = wb["成绩登记"] if "成绩登记" in wb.sheetnames else wb.worksheets[0]
        records = ws.iter_rows(values_only=True)
        header_line, mapping = None, {}
        errors: list[dict] = []
        rows: list[dict] = []
        project = sheet.project_class.project
        for line, values in enumerate(records, start=1):
            if header_line is None:
                keys = {i: _header_key(v) for i, v in enumerate(values or ())}
                if "id" in keys.values() and "name" in keys.values():
                    header_line = line
                    mapping = {}
                    for i, key in keys.items():
                        if key and key not in mapping:
                            mapping[key] = i
                    problem = _missing_columns(mapping, project.format)
                    if problem:
                        return [], [{"line": line, "message": problem}]
                elif line >= 10:
                    break
                continue
            cells = {key: (values[i] if i < len(values) else None) for key, i in mapping.items()}
            if all(_text(v) == "" for v in cells.values()):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append({"line": line, "message": _("Too many rows (at most %(n)s).") % {"n": MAX_ROWS}})
                break
            rows.append(_row(line, cells, project.format))
        if header_line is None:
            return [], [{"line": None, "message": _("No header row with 编号 and 姓名 was found. Use the template.")}]
    finally:
        wb.close()
    results = {r.pk: r for r in sheet.results.select_related("teacher")}
    seen: dict[int, int] = {}
    checked = []
    for row in rows:
        line = row["line"]
        try:
            rid = int(Decimal(_text(row["id"])))
        except Exception:
            errors.append({"line": line, "message": _("编号 is missing or not a number.")})
            continue
        result = results.get(rid)
        if result is None:
            errors.append(
                {"line": line, "message": _("编号 %(id)s is not a trainee of this class.") % {"id": _text(row["id"])}}
            )
            continue
        if rid in seen:
            errors.append(
                {
                    "line": line,
                    "message": _("编号 %(id)s already appears on line %(line)s.") % {"id": rid, "line": seen[rid]},
                }
            )
            continue
        seen[rid] = line
        if _text(row["name"]) != result.teacher.name:
            errors.append(
                {
                    "line": line,
                    "message": _("编号 %(id)s belongs to %(name)s, but the row says %(given)s.")
                    % {"id": rid, "name": result.teacher.name, "given": _text(row["name"]) or "—"},
                }
            )
            continue
        row["id"] = rid
        _values, problems = clean_values(project, row)
        errors.extend({"line": line, "message": f"{result.teacher.name}：{p}"} for p in problems)
        checked.append(row)
    errors.sort(key=lambda e: e["line"] or 0)
    clean_rows = [
        {k: (str(v) if isinstance(v, (Decimal, float, int)) and not isinstance(v, bool) else v) for k, v in r.items()}
        for r in checked
    ]
    for r in clean_rows:
        r["id"] = int(r["id"])
    return clean_rows, errors


def _missing_columns(mapping: dict, fmt: str) -> str | None:
    need = ["passed"]
    if "hours" not in mapping:
        if fmt != TrainingFormat.ONLINE:
            need.append("hours_offline")
        if fmt != TrainingFormat.FACE_TO_FACE:
            need.append("hours_online")
    elif fmt == TrainingFormat.BLENDED and not ("hours_offline" in mapping and "hours_online" in mapping):
        need += ["hours_offline", "hours_online"]
    labels = {"passed": H_PASSED, "hours_offline": H_OFFLINE, "hours_online": H_ONLINE}
    missing = [labels[k] for k in need if k not in mapping]
    if missing:
        return _("Columns missing: %(cols)s. Use the template.") % {"cols": "、".join(missing)}
    return None


def _row(line: int, cells: dict, fmt: str) -> dict:
    offline, online = cells.get("hours_offline"), cells.get("hours_online")
    if "hours" in cells and fmt != TrainingFormat.BLENDED:
        if fmt == TrainingFormat.ONLINE and online is None:
            online = cells["hours"]
        elif fmt != TrainingFormat.ONLINE and offline is None:
            offline = cells["hours"]
    return {
        "line": line,
        "id": cells.get("id"),
        "name": cells.get("name"),
        "hours_offline": _text(offline),
        "hours_online": _text(online),
        "passed": _text(cells.get("passed")),
        "remarks": _text(cells.get("remarks")),
    }
