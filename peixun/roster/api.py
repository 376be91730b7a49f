from datetime import date, datetime

from ninja import File, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import Conflict
from peixun.core.masking import mask_national_id, mask_phone
from peixun.core.scopes import can, require

from . import selectors, services
from .models import RosterImport

router = Router(tags=["roster"])


class TeacherOut(Schema):
    id: int
    national_id: str
    name: str
    gender: str
    birth_date: date
    school_id: int
    school_code: str
    stage: str
    subject: str
    title: str
    status: str
    phone: str
    post: str
    hire_date: date | None
    probation_end: date | None

    @staticmethod
    def resolve_school_code(obj):
        return obj.school.code

    @staticmethod
    def resolve_national_id(obj, context):
        full = can(context["request"].actor, "roster.teacher.view_full_id")
        return obj.national_id if full else mask_national_id(obj.national_id)

    @staticmethod
    def resolve_phone(obj, context):
        full = can(context["request"].actor, "roster.teacher.view_full_id")
        return obj.phone if full else mask_phone(obj.phone)


class TeacherLocalIn(Schema):
    phone: str = ""
    post: str = "teacher"
    hire_date: date | None = None
    probation_end: date | None = None
    remarks: str = ""


class ExemptionIn(Schema):
    kind: str
    reason: str
    starts_on: date
    ends_on: date | None = None


class ExemptionOut(Schema):
    id: int
    kind: str
    reason: str
    starts_on: date
    ends_on: date | None


@router.get("/teachers", response=list[TeacherOut], summary="教师名册（按权限范围，身份证号按角色脱敏）")
@paginate(LimitOffsetPagination)
def teachers(
    request,
    q: str = "",
    school_id: Id | None = None,
    county_id: Id | None = None,
    stage: str = "",
    subject: str = "",
):
    qs = selectors.teacher_list(
        actor=request.actor, query=q, school_id=school_id, county_id=county_id, stage=stage, subject=subject
    )
    return qs


@router.get("/teachers/{teacher_id}", response=TeacherOut, summary="教师详情")
def teacher(request, teacher_id: Id):
    return selectors.teacher_get(actor=request.actor, teacher_id=teacher_id)


@router.put("/teachers/{teacher_id}/local", response=TeacherOut, summary="修改学校维护的字段")
def teacher_update_local(request, teacher_id: Id, payload: TeacherLocalIn):
    teacher = selectors.teacher_get(actor=request.actor, teacher_id=teacher_id)
    return services.teacher_update_local(actor=request.actor, teacher=teacher, **payload.dict())


@router.post("/teachers/{teacher_id}/exemptions", response={201: ExemptionOut}, summary="登记免修（学分要求不适用）")
def exemption_create(request, teacher_id: Id, payload: ExemptionIn):
    teacher = selectors.teacher_get(actor=request.actor, teacher_id=teacher_id)
    return 201, services.exemption_create(actor=request.actor, teacher=teacher, **payload.dict())


# --- roster import ----------------------------------------------------------------------------

ERRORS_INLINE = 200


class ImportErrorOut(Schema):
    line: int
    column: str
    message: str


class ImportJobOut(Schema):
    status: str
    percent: int
    progress: int
    total: int
    message: str


class ImportFields(Schema):
    id: int
    file_name: str
    status: str
    status_label: str
    scope: str
    created_at: datetime
    created_by: str
    total_rows: int
    counts: dict
    applied_at: datetime | None


class ImportSummaryOut(ImportFields):
    @staticmethod
    def resolve_file_name(obj):
        return obj.original_name

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())

    @staticmethod
    def resolve_scope(obj):
        return str(obj.school or obj.region or "")

    @staticmethod
    def resolve_created_by(obj):
        return str(obj.created_by)


class ImportOut(ImportFields):
    notices: list[str]
    columns: list[str]
    mark_leavers: bool
    message: str
    job: ImportJobOut | None
    samples: dict
    errors: list[ImportErrorOut]
    errors_truncated: bool


class ImportApplyIn(Schema):
    mark_leavers: bool = False


def _summary(imp: RosterImport) -> dict:
    return {
        "id": imp.pk,
        "file_name": imp.original_name,
        "status": imp.status,
        "status_label": str(imp.get_status_display()),
        "scope": str(imp.school or imp.region or ""),
        "created_at": imp.created_at,
        "created_by": str(imp.created_by),
        "total_rows": imp.total_rows,
        "counts": imp.counts or {},
        "applied_at": imp.applied_at,
    }


def _import_out(actor, imp: RosterImport) -> ImportOut:
    full = can(actor, "roster.teacher.view_full_id")
    job = imp.apply_job if imp.status == RosterImport.Status.APPLYING and imp.apply_job_id else imp.job
    samples = {
        kind: [
            {**row, "national_id": row["national_id"] if full else mask_national_id(row["national_id"])} for row in rows
        ]
        for kind, rows in (imp.samples or {}).items()
    }
    errors = list(
        selectors.import_errors(actor=actor, roster_import=imp).values("line", "column", "message")[:ERRORS_INLINE]
    )
    return ImportOut(
        **_summary(imp),
        notices=imp.notices or [],
        columns=imp.columns or [],
        mark_leavers=imp.mark_leavers,
        message=imp.message,
        job=ImportJobOut(
            status=job.status, percent=job.percent, progress=job.progress, total=job.total, message=job.message
        )
        if job is not None
        else None,
        samples=samples,
        errors=errors,
        errors_truncated=imp.error_count > len(errors),
    )


@router.get("/imports", response=list[ImportSummaryOut], summary="名册导入记录（按权限范围）")
@paginate(LimitOffsetPagination)
def imports(request, q: str = "", status: str = ""):
    return selectors.import_list(actor=request.actor, query=q, status=status)


@router.post("/imports", response={201: ImportOut}, summary="上传国家教师信息系统导出文件（xlsx 或 csv）并校验")
def import_create(request, file: UploadedFile = File(...)):
    imp = services.roster_import_create(actor=request.actor, file=file, filename=file.name)
    imp = selectors.import_get(actor=request.actor, import_id=imp.pk)
    return 201, _import_out(request.actor, imp)


@router.get("/imports/{import_id}", response=ImportOut, summary="导入状态、预览（新增/变更/未变/不在文件中）与错误")
def import_detail(request, import_id: Id):
    return _import_out(request.actor, selectors.import_get(actor=request.actor, import_id=import_id))


@router.get("/imports/{import_id}/errors", response=list[ImportErrorOut], summary="全部错误（按行号，分页）")
@paginate(LimitOffsetPagination)
def import_errors(request, import_id: Id):
    imp = selectors.import_get(actor=request.actor, import_id=import_id)
    return selectors.import_errors(actor=request.actor, roster_import=imp)


@router.post(
    "/imports/{import_id}/apply",
    response={200: ImportOut, 202: ImportOut},
    summary="确认导入：全部成功或全部不写入；大文件转入后台（202）",
)
def import_apply(request, import_id: Id, payload: ImportApplyIn):
    imp = selectors.import_get(actor=request.actor, import_id=import_id)
    imp = services.roster_import_confirm(actor=request.actor, roster_import=imp, mark_leavers=payload.mark_leavers)
    if imp.status == RosterImport.Status.INVALID:
        raise Conflict(imp.message, code="import_invalid", details={"errors": imp.error_count})
    imp = selectors.import_get(actor=request.actor, import_id=import_id)
    return (202 if imp.status == RosterImport.Status.APPLYING else 200), _import_out(request.actor, imp)


@router.post("/imports/{import_id}/cancel", response=ImportOut, summary="取消导入（名册不变）")
def import_cancel(request, import_id: Id):
    imp = selectors.import_get(actor=request.actor, import_id=import_id)
    services.roster_import_cancel(actor=request.actor, roster_import=imp)
    return _import_out(request.actor, selectors.import_get(actor=request.actor, import_id=import_id))


@router.get("/import-template", summary="导入模板（xlsx，国家系统表头 + 示例行）")
def import_template(request):
    from peixun.orgs.selectors import school_list

    from .import_views import template_response

    require(request.actor, "roster.import")
    school = request.actor.school or school_list(actor=request.actor).first()
    return template_response(school.code if school else "4401060001")
