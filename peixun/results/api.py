"""Results API (成绩登记 and 审核): the same services as the pages, every step."""

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from ninja import File, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from peixun.core.api_types import Id
from peixun.core.exports import XLSX_TYPE, write_xlsx

from . import exports, selectors, services, spreadsheet
from .models import ResultSheet, ResultUpload

router = Router(tags=["results"])


class ClassOut(Schema):
    class_id: int = Field(..., alias="pk")
    project_id: int
    project_code: str = Field(..., alias="project.code")
    project_name: str = Field(..., alias="project.name")
    institution: str = Field(..., alias="project.institution.name")
    term: str = Field(..., alias="project.term.name")
    number: int
    starts_on: date
    ends_on: date
    sheet_id: int | None
    status: str
    trainees: int
    passed: int
    needs_reapproval: bool

    @staticmethod
    def resolve_sheet_id(obj) -> int | None:
        sheet = getattr(obj, "result_sheet", None)
        return sheet.pk if sheet else None

    @staticmethod
    def resolve_status(obj) -> str:
        sheet = getattr(obj, "result_sheet", None)
        return sheet.status if sheet else selectors.NOT_STARTED

    @staticmethod
    def resolve_needs_reapproval(obj) -> bool:
        sheet = getattr(obj, "result_sheet", None)
        return bool(sheet and selectors.needs_reapproval(sheet, obj.project))


@router.get("/classes", response=list[ClassOut], summary="班期成绩登记情况（按学期、机构、状态筛选）")
@paginate(LimitOffsetPagination)
def classes(
    request, term: Id | None = None, institution: Id | None = None, status: str = "", q: str = "", due: bool = False
):
    return selectors.class_list(
        actor=request.actor, term_id=term, institution_id=institution, status=status, query=q, due=due
    )


class ResultOut(Schema):
    id: int
    teacher_id: int
    name: str
    school: str
    hours_offline: Decimal | None
    hours_online: Decimal | None
    passed: bool | None
    remarks: str
    credits: Decimal
    credits_online: Decimal


class SheetOut(Schema):
    id: int
    class_id: int
    project_id: int
    project_code: str
    project_name: str
    number: int
    status: str
    approvals: int
    credit_category: str
    credit_level: str
    format: str
    planned_hours_offline: Decimal
    planned_hours_online: Decimal
    return_reason: str
    cancel_reason: str
    submitted_at: datetime | None
    approved_at: datetime | None
    needs_reapproval: bool
    results: list[ResultOut]


def _sheet_out(sheet: ResultSheet) -> SheetOut:
    project = sheet.project_class.project
    offline, online = services.planned_hours(project)
    return SheetOut(
        id=sheet.pk,
        class_id=sheet.project_class_id,
        project_id=project.pk,
        project_code=project.code,
        project_name=project.name,
        number=sheet.project_class.number,
        status=sheet.status,
        approvals=sheet.approvals,
        credit_category=project.credit_category,
        credit_level=project.credit_level,
        format=project.format,
        planned_hours_offline=offline,
        planned_hours_online=online,
        return_reason=sheet.return_reason,
        cancel_reason=sheet.cancel_reason,
        submitted_at=sheet.submitted_at,
        approved_at=sheet.approved_at if sheet.status == ResultSheet.Status.APPROVED else None,
        needs_reapproval=selectors.needs_reapproval(sheet, project),
        results=[
            ResultOut(
                id=r.pk,
                teacher_id=r.teacher_id,
                name=r.teacher.name,
                school=r.teacher.school.name,
                hours_offline=r.hours_offline,
                hours_online=r.hours_online,
                passed=r.passed,
                remarks=r.remarks,
                credits=r.credits,
                credits_online=r.credits_online,
            )
            for r in selectors.sheet_results(sheet)
        ],
    )


def _sheet(request, sheet_id: int) -> ResultSheet:
    return selectors.sheet_get(actor=request.actor, sheet_id=sheet_id)


def _fresh(request, sheet_id: int) -> SheetOut:
    return _sheet_out(_sheet(request, sheet_id))


@router.post(
    "/classes/{class_id}/sheet", response=SheetOut, summary="开始（或继续）登记一个班期的成绩（培训机构，幂等）"
)
def sheet_open(request, class_id: Id):
    project_class = selectors.class_get(actor=request.actor, class_id=class_id)
    sheet = services.sheet_open(actor=request.actor, project_class=project_class)
    return _fresh(request, sheet.pk)


@router.get("/sheets/{sheet_id}", response=SheetOut, summary="班期成绩（每位学员的学时、是否合格、备注、学分）")
def sheet_detail(request, sheet_id: Id):
    return _fresh(request, sheet_id)


class RowIn(Schema):
    id: Id
    hours_offline: Decimal | None = None
    hours_online: Decimal | None = None
    passed: bool | None = None
    remarks: str = Field("", max_length=1000)


class RowsIn(Schema):
    rows: list[RowIn] = Field(..., max_length=5000)


class ChangedOut(Schema):
    changed: int


@router.put(
    "/sheets/{sheet_id}/results",
    response=ChangedOut,
    summary="保存成绩（整班一次提交；任何一行有误则全部不保存，details.rows 列出每行问题）",
)
def results_save(request, sheet_id: Id, payload: RowsIn):
    sheet = _sheet(request, sheet_id)
    rows = [row.dict() for row in payload.rows]
    return {"changed": services.results_save(actor=request.actor, sheet=sheet, rows=rows)}


@router.post("/sheets/{sheet_id}/fill", response=ChangedOut, summary="未填行按计划学时、合格填充")
def results_fill(request, sheet_id: Id):
    return {"changed": services.results_fill_full(actor=request.actor, sheet=_sheet(request, sheet_id))}


@router.post("/sheets/{sheet_id}/submit", response=SheetOut, summary="提交成绩审核（培训机构）")
def sheet_submit(request, sheet_id: Id):
    services.sheet_submit(actor=request.actor, sheet=_sheet(request, sheet_id))
    return _fresh(request, sheet_id)


@router.post(
    "/sheets/{sheet_id}/approve",
    response=SheetOut,
    summary="审核：为合格学员登记学分（机构审核人；重复审核不会重复登记）",
)
def sheet_approve(request, sheet_id: Id):
    services.sheet_approve(actor=request.actor, sheet=_sheet(request, sheet_id))
    return _fresh(request, sheet_id)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=1000)


@router.post(
    "/sheets/{sheet_id}/cancel-approval", response=SheetOut, summary="取消审核：冲销该次审核登记的学分（机构审核人）"
)
def sheet_cancel_approval(request, sheet_id: Id, payload: ReasonIn):
    services.sheet_cancel_approval(actor=request.actor, sheet=_sheet(request, sheet_id), reason=payload.reason)
    return _fresh(request, sheet_id)


@router.post("/sheets/{sheet_id}/return", response=SheetOut, summary="退回培训机构修改（机构审核人）")
def sheet_return(request, sheet_id: Id, payload: ReasonIn):
    services.sheet_return(actor=request.actor, sheet=_sheet(request, sheet_id), reason=payload.reason)
    return _fresh(request, sheet_id)


class LedgerOut(Schema):
    id: int
    teacher_id: int
    name: str
    category: str
    level: str
    amount: Decimal
    earned_on: date
    source_id: int
    generation: int
    reverses_id: int | None
    note: str
    created_at: datetime


@router.get("/sheets/{sheet_id}/ledger", response=list[LedgerOut], summary="本班成绩登记和冲销的学分账目")
@paginate(LimitOffsetPagination)
def sheet_ledger(request, sheet_id: Id):
    entries = selectors.sheet_ledger(actor=request.actor, sheet=_sheet(request, sheet_id))
    return [
        LedgerOut(
            id=e.pk,
            teacher_id=e.teacher_id,
            name=e.teacher.name,
            category=e.category,
            level=e.level,
            amount=e.amount,
            earned_on=e.earned_on,
            source_id=e.source_id,
            generation=e.generation,
            reverses_id=e.reverses_id,
            note=e.note,
            created_at=e.created_at,
        )
        for e in entries
    ]


def _attachment(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@router.get("/sheets/{sheet_id}/template", summary="成绩登记模板（xlsx，已填入本班名单和已登记的成绩）")
def sheet_template(request, sheet_id: Id):
    sheet = _sheet(request, sheet_id)
    name = f"成绩登记模板-{sheet.project_class.project.code}-{sheet.project_class.number}.xlsx"
    return _attachment(spreadsheet.template_bytes(sheet), name)


@router.get("/sheets/{sheet_id}/export", summary="导出本班成绩（xlsx）")
def sheet_export(request, sheet_id: Id):
    import io

    from peixun.core.audit import audit_record

    export = exports.sheet(request.actor, {"sheet": str(_sheet(request, sheet_id).pk)})
    out = io.BytesIO()
    write_xlsx(out, export.headers, export.rows, title=export.title)
    audit_record(request.actor, "core.export", summary=f"{export.filename}: {export.total}")
    return _attachment(out.getvalue(), f"{export.filename}.xlsx")


class UploadErrorOut(Schema):
    line: int | None
    message: str


class UploadOut(Schema):
    id: int
    sheet_id: int
    file_name: str
    status: str
    rows: int
    changed: int
    unchanged: int
    errors: list[UploadErrorOut]


def _upload_out(upload: ResultUpload) -> UploadOut:
    return UploadOut(
        id=upload.pk,
        sheet_id=upload.sheet_id,
        file_name=upload.file_name,
        status=upload.status,
        rows=len(upload.rows),
        changed=upload.changed,
        unchanged=upload.unchanged,
        errors=[UploadErrorOut(line=e.get("line"), message=e.get("message", "")) for e in upload.errors],
    )


@router.post(
    "/sheets/{sheet_id}/uploads",
    response={201: UploadOut},
    summary="上传成绩表格并检查（预览，不生效；有错误时列出行号）",
)
def upload_create(request, sheet_id: Id, file: UploadedFile = File(...)):
    upload = services.upload_create(actor=request.actor, sheet=_sheet(request, sheet_id), file=file)
    return 201, _upload_out(upload)


@router.get("/uploads/{upload_id}", response=UploadOut, summary="上传检查结果")
def upload_detail(request, upload_id: Id):
    return _upload_out(selectors.upload_get(actor=request.actor, upload_id=upload_id))


@router.post("/uploads/{upload_id}/apply", response=UploadOut, summary="确认上传生效（全部或全不；重复确认不重复修改）")
def upload_apply(request, upload_id: Id):
    upload = selectors.upload_get(actor=request.actor, upload_id=upload_id)
    return _upload_out(services.upload_apply(actor=request.actor, upload=upload))


@router.post("/uploads/{upload_id}/cancel", response=UploadOut, summary="取消上传")
def upload_cancel(request, upload_id: Id):
    upload = selectors.upload_get(actor=request.actor, upload_id=upload_id)
    return _upload_out(services.upload_cancel(actor=request.actor, upload=upload))


class MyResultOut(Schema):
    id: int
    project_code: str = Field(..., alias="sheet.project_class.project.code")
    project_name: str = Field(..., alias="sheet.project_class.project.name")
    class_number: int = Field(..., alias="sheet.project_class.number")
    starts_on: date = Field(..., alias="sheet.project_class.starts_on")
    ends_on: date = Field(..., alias="sheet.project_class.ends_on")
    status: str = Field(..., alias="sheet.status")
    hours_offline: Decimal | None
    hours_online: Decimal | None
    passed: bool | None
    remarks: str
    credits: Decimal | None

    @staticmethod
    def _approved(obj) -> bool:
        return obj.sheet.status == ResultSheet.Status.APPROVED

    @staticmethod
    def resolve_hours_offline(obj):
        return obj.hours_offline if MyResultOut._approved(obj) else None

    @staticmethod
    def resolve_hours_online(obj):
        return obj.hours_online if MyResultOut._approved(obj) else None

    @staticmethod
    def resolve_passed(obj):
        return obj.passed if MyResultOut._approved(obj) else None

    @staticmethod
    def resolve_remarks(obj):
        return obj.remarks if MyResultOut._approved(obj) else ""

    @staticmethod
    def resolve_credits(obj):
        return obj.credits if MyResultOut._approved(obj) else None


@router.get("/mine", response=list[MyResultOut], summary="我的培训成绩（教师；成绩审核后显示学时、结果和学分）")
@paginate(LimitOffsetPagination)
def my_results(request):
    return selectors.my_results(actor=request.actor)
