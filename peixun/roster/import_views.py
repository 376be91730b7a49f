"""Pages of the roster import: list, upload, preview with progress, apply / cancel, downloads."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import XLSX_TYPE, export_or_job, xlsx_response
from peixun.core.ids import make_national_id
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id
from peixun.core.scopes import can, require
from peixun.orgs.models import School
from peixun.orgs.selectors import school_list

from . import selectors, services
from .forms import ImportApplyForm, ImportUploadForm
from .importing import HEADERS, REQUIRED, STAGE_ALIASES, SUBJECT_ALIASES, TEMPLATE_HEADERS, TITLE_ALIASES
from .models import RosterImport, Teacher

ERRORS_SHOWN = 200
S = RosterImport.Status


@actor_required
def import_list(request):
    actor = request.actor
    qs = selectors.import_list(actor=actor, query=request.GET.get("q", ""), status=request.GET.get("status", ""))
    if request.GET.get("export"):
        return export_or_job(request, "roster.imports", request.GET.dict())
    return render(
        request,
        "roster/import_list.html",
        {"state": paginate(request, qs), "statuses": S.choices},
    )


@actor_required
def import_create(request):
    actor = request.actor
    require(actor, "roster.import")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imp = services.roster_import_create(actor=actor, file=upload, filename=upload.name)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            return redirect("roster:import_detail", pk=imp.pk)
    return render(request, "roster/import_form.html", {"form": form})


def _display(field: str, value, schools: dict) -> str:
    if value is None or value == "":
        return "—"
    if field == "school_id":
        school = schools.get(value)
        return f"{school.name}（{school.code}）" if school else str(value)
    if field == "on_establishment":
        return _("Yes") if value in (True, 1, "1", "t", "true") else _("No")
    if field == "status":
        return str(Teacher.Status(value).label)
    model_field = Teacher._meta.get_field(field)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, str) and field in ("work_start", "school_join"):
        return value[:7]
    return str(value)


def _field_label(field: str) -> str:
    if field == "school_id":
        return str(Teacher._meta.get_field("school").verbose_name)
    return str(Teacher._meta.get_field(field).verbose_name)


def _samples_for_display(imp: RosterImport, full_id: bool) -> dict:
    samples = imp.samples or {}
    ids = set()
    for kind in ("new", "unchanged", "missing"):
        ids.update(row.get("school_id") for row in samples.get(kind, []))
    for row in samples.get("changed", []):
        for field, old, new in row["diffs"]:
            if field == "school_id":
                ids.update((old, new))
    schools = School.objects.in_bulk([i for i in ids if i])
    mask = (lambda v: v) if full_id else mask_national_id
    shown: dict[str, list] = {}
    for kind in ("new", "changed", "unchanged", "missing"):
        rows = []
        for row in samples.get(kind, []):
            item = {**row, "national_id": mask(row["national_id"])}
            if "school_id" in row:
                item["school"] = _display("school_id", row["school_id"], schools)
            for field in ("stage", "subject", "title"):
                if field in row:
                    item[field] = _display(field, row[field], schools)
            if kind == "changed":
                item["diffs"] = [
                    {"label": _field_label(f), "old": _display(f, old, schools), "new": _display(f, new, schools)}
                    for f, old, new in row["diffs"]
                ]
            rows.append(item)
        shown[kind] = rows
    return shown


@actor_required
def import_detail(request, pk):
    actor = request.actor
    imp = selectors.import_get(actor=actor, import_id=pk)
    if request.headers.get("HX-Request"):
        if imp.busy:
            return render(request, "roster/_import_progress.html", {"imp": imp})
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    errors = list(selectors.import_errors(actor=actor, roster_import=imp)[:ERRORS_SHOWN])
    return render(
        request,
        "roster/import_detail.html",
        {
            "imp": imp,
            "errors": errors,
            "errors_capped": imp.error_count > len(errors),
            "samples": _samples_for_display(imp, can(actor, "roster.teacher.view_full_id")),
            "apply_form": ImportApplyForm(initial={"mark_leavers": imp.mark_leavers}),
            "can_apply": imp.status == S.PREVIEW,
            "can_cancel": imp.status in (S.VALIDATING, S.PREVIEW, S.INVALID, S.FAILED),
            "applied": (imp.counts or {}).get("applied"),
        },
    )


@require_POST
@actor_required
def import_apply(request, pk):
    actor = request.actor
    imp = selectors.import_get(actor=actor, import_id=pk)
    form = ImportApplyForm(request.POST)
    form.is_valid()
    try:
        imp = services.roster_import_confirm(
            actor=actor, roster_import=imp, mark_leavers=form.cleaned_data.get("mark_leavers", False)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("roster:import_detail", pk=pk)
    if imp.status == S.APPLIED:
        messages.success(request, _("The roster has been updated."))
    elif imp.status == S.INVALID:
        messages.error(request, imp.message)
    return redirect("roster:import_detail", pk=pk)


@require_POST
@actor_required
def import_cancel(request, pk):
    imp = selectors.import_get(actor=request.actor, import_id=pk)
    try:
        services.roster_import_cancel(actor=request.actor, roster_import=imp)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("The import has been cancelled; the roster was not changed."))
    return redirect("roster:import_detail", pk=pk)


@actor_required
def import_errors(request, pk):
    actor = request.actor
    imp = selectors.import_get(actor=actor, import_id=pk)
    rows = (
        [line or "", column, message]
        for line, column, message in selectors.import_errors(actor=actor, roster_import=imp)
        .values_list("line", "column", "message")
        .iterator(chunk_size=5000)
    )
    return xlsx_response(_("import-errors"), [_("Line"), _("Column"), _("Problem")], rows, title=_("Problems"))


@actor_required
def import_template(request):
    """An xlsx with the national system's headers, one example row and a sheet of accepted values."""
    actor = request.actor
    require(actor, "roster.import")
    school = actor.school or school_list(actor=actor).first()
    return template_response(school.code if school else "4401060001")


def template_response(school_code: str) -> HttpResponse:
    from io import BytesIO
    from urllib.parse import quote

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "教师名册"
    sheet.append(TEMPLATE_HEADERS)
    required = {HEADERS[f][0] for f in REQUIRED}
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="C00000" if cell.value in required else "000000")
        cell.fill = PatternFill("solid", fgColor="EEF3FF")
    born = date(1988, 5, 17)
    example = {
        "姓名": "王晓明",
        "曾用名": "",
        "性别": "男",
        "身份证件类型": "居民身份证",
        "身份证件号": make_national_id("440106", born, 35),
        "出生日期": born.isoformat(),
        "民族": "汉族",
        "政治面貌": "中共党员",
        "参加工作年月": "2010-09",
        "进本校年月": "2016-09",
        "教职工来源": "录用应届毕业生",
        "教职工类别": "专任教师",
        "是否在编": "是",
        "用人形式": "合同制",
        "签订合同情况": "聘用合同",
        "学历": "本科",
        "专业技术职务": "中小学一级教师",
        "任教学段": "初中",
        "任教学科": "数学",
        "学校代码": school_code,
    }
    sheet.append([example[h] for h in TEMPLATE_HEADERS])
    id_column = TEMPLATE_HEADERS.index("身份证件号") + 1
    for row in range(2, 1002):  # text format, so Excel keeps all 18 digits of typed IDs
        sheet.cell(row=row, column=id_column).number_format = "@"
    for index, header in enumerate(TEMPLATE_HEADERS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, len(header) * 2 + 4)
    sheet.column_dimensions[sheet.cell(row=1, column=id_column).column_letter].width = 22
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append(["项目", "说明"])
    notes.append(["必填列", "、".join(HEADERS[f][0] for f in REQUIRED)])
    notes.append(["列的顺序", "任意；按列名识别，无法识别的列会被忽略并提示"])
    notes.append(["身份证件号", "18位居民身份证号，请设为文本格式，避免 Excel 丢失末几位"])
    notes.append(["任教学段", "、".join(STAGE_ALIASES)])
    notes.append(["任教学科", "、".join(SUBJECT_ALIASES)])
    notes.append(["专业技术职务", "、".join(k for k in TITLE_ALIASES if k)])
    notes.append(["日期", "如 2010-09 或 2010-09-01"])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 100
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('教师名册导入模板.xlsx')}"
    return response
