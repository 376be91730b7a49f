from datetime import date

from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.masking import mask_national_id, mask_phone
from peixun.core.scopes import can

from . import selectors, services

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
