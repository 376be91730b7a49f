"""JSON API of credit statements and certificates (mounted by api.py under /api/reports/)."""

from datetime import date, datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from peixun.core.api_types import Id
from peixun.core.errors import NotFound
from peixun.core.scopes import require
from peixun.orgs.selectors import school_get
from peixun.roster.selectors import teacher_get

from . import selectors_certificates as selectors
from . import services_certificates as services
from . import services_class_certificates as class_services
from .certificates_views import pdf_response, verify_url

router = Router(tags=["certificates"])


class IssueIn(Schema):
    teacher_id: Id
    cycle: int | None = Field(default=None, ge=1990, le=2100)


class IssuedOut(Schema):
    serial: str
    kind: str
    teacher_id: int
    teacher_name: str = Field(alias="teacher.name")
    cycle: int | None
    project_class_id: int | None
    as_of: date
    issued_at: datetime
    authority: str
    verify_url: str = ""
    download_url: str = ""

    @staticmethod
    def resolve_verify_url(obj, context):
        return verify_url(context["request"], obj)

    @staticmethod
    def resolve_download_url(obj, context):
        return context["request"].build_absolute_uri(reverse("api:certificate_pdf", args=[obj.serial]))


class ClassCertificateIn(Schema):
    teacher_id: Id
    class_id: Id


class PassedClassOut(Schema):
    class_id: int = Field(alias="sheet.project_class_id")
    project: str = Field(alias="sheet.project_class.project.name")
    number: int = Field(alias="sheet.project_class.number")
    institution: str = Field(alias="sheet.project_class.project.institution.name")
    starts_on: date = Field(alias="sheet.project_class.starts_on")
    ends_on: date = Field(alias="sheet.project_class.ends_on")
    credits: Decimal


class ClassBatchIn(Schema):
    class_id: Id


class BatchIn(Schema):
    school_id: Id
    cycle: int | None = Field(default=None, ge=1990, le=2100)


class BatchOut(Schema):
    job_id: int = Field(alias="pk")
    kind: str
    title: str
    status: str
    total: int


class CategoryOut(Schema):
    label: str
    counted: str
    required: str
    missing: str


class VerifyOut(Schema):
    state: str = Field(description="valid / outdated / invalid")
    message: str
    serial: str = ""
    kind: str = ""
    kind_label: str = ""
    teacher_name: str = Field("", description="masked")
    national_id: str = Field("", description="masked")
    school: str = ""
    authority: str = ""
    issued_on: str = ""
    as_of: str = ""
    cycle: str = ""
    status_label: str = ""
    categories: list[CategoryOut] = []
    class_name: str = ""
    credits: str = ""


@router.post("/certificates/statements", response=IssuedOut, summary="出具教师学分证明（账本未变时返回同一份）")
def statement_issue(request, data: IssueIn):
    teacher = teacher_get(actor=request.actor, teacher_id=data.teacher_id)
    issued = services.credit_statement_issue(actor=request.actor, teacher=teacher, cycle=data.cycle)
    return issued


@router.get(
    "/certificates/teachers/{teacher_id}/classes",
    response=list[PassedClassOut],
    summary="教师可出具结业证书的班次（成绩已审核且合格）",
)
def passed_classes(request, teacher_id: Id):
    require(request.actor, "reports.certificate.issue")
    teacher = teacher_get(actor=request.actor, teacher_id=teacher_id)
    return list(class_services.passed_results([teacher.pk])[:200])


@router.post("/certificates/class-certificates", response=IssuedOut, summary="出具培训结业证书（账本未变时返回同一份）")
def class_certificate_issue(request, data: ClassCertificateIn):
    from peixun.catalog.models import ProjectClass

    teacher = teacher_get(actor=request.actor, teacher_id=data.teacher_id)
    project_class = ProjectClass.objects.filter(pk=data.class_id).first()
    if project_class is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    return class_services.class_certificate_issue(actor=request.actor, teacher=teacher, project_class=project_class)


@router.post(
    "/certificates/batches", response=BatchOut, summary="批量生成一所学校的学分证明（后台任务，完成后下载 zip）"
)
def batch_start(request, data: BatchIn):
    school = school_get(actor=request.actor, school_id=data.school_id)
    return services.certificate_batch_start(
        actor=request.actor, school=school, cycle=data.cycle, base_url=request.build_absolute_uri("/")
    )


@router.post(
    "/certificates/class-batches",
    response=BatchOut,
    summary="培训机构批量生成一个班次全部合格学员的结业证书（后台任务）",
)
def class_batch_start(request, data: ClassBatchIn):
    from peixun.catalog.models import ProjectClass

    require(request.actor, "reports.certificate.class_batch")
    project_class = ProjectClass.objects.select_related("project").filter(pk=data.class_id).first()
    if project_class is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    return class_services.class_certificate_batch_start(
        actor=request.actor, project_class=project_class, base_url=request.build_absolute_uri("/")
    )


@router.get("/certificates/issued", response=list[IssuedOut], summary="已出具的学分证明与结业证书（范围内）")
@paginate(LimitOffsetPagination)
def issued_list(request, teacher_id: Id | None = None, kind: str = "", q: str = ""):
    return selectors.issued_list(actor=request.actor, teacher_id=teacher_id, kind=kind, query=q)


@router.get("/certificates/issued/{serial}", response=IssuedOut, summary="一份已出具的证明")
def issued_detail(request, serial: str):
    return selectors.issued_get(actor=request.actor, serial=serial[:20])


@router.get("/certificates/issued/{serial}/pdf", url_name="certificate_pdf", summary="下载已出具证明的 PDF")
def issued_pdf(request, serial: str):
    return pdf_response(request, selectors.issued_get(actor=request.actor, serial=serial[:20]))


@router.get("/certificates/verify", auth=None, response=VerifyOut, summary="公开核验（无需登录，仅显示脱敏信息）")
def verify(request, token: str):
    return services.verify_token(token[:300]).public_data()
