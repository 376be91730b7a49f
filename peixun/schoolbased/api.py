"""School-based training API: plans and activity records in the actor's scope."""

from datetime import date
from decimal import Decimal

from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id

from . import selectors, services

router = Router(tags=["schoolbased"])


class PlanOut(Schema):
    id: int
    school_id: int
    school_year: int
    title: str
    forms: str
    hours_per_credit: Decimal
    status: str
    feedback: str


class RecordOut(Schema):
    id: int
    plan_id: int
    teacher_id: int
    kind: str
    held_on: date
    status: str
    credits: Decimal


class ReviewIn(Schema):
    approve: bool
    feedback: str = ""
    review_body: str = "bureau"


@router.get("/plans", response=list[PlanOut], summary="校本研修年度方案（按权限范围）")
@paginate(LimitOffsetPagination)
def plans(request, status: str = ""):
    return selectors.plan_list(actor=request.actor, status=status)


@router.get("/plans/{plan_id}/records", response=list[RecordOut], summary="方案下的活动记录")
@paginate(LimitOffsetPagination)
def records(request, plan_id: Id):
    plan = selectors.plan_get(actor=request.actor, plan_id=plan_id)
    return selectors.record_list(actor=request.actor, plan=plan)


@router.post("/plans/{plan_id}/review", response=PlanOut, summary="审核校本研修方案（区县或进修学校）")
def plan_review(request, plan_id: Id, payload: ReviewIn):
    plan = selectors.plan_get(actor=request.actor, plan_id=plan_id)
    return services.plan_review(actor=request.actor, plan=plan, **payload.dict())


@router.post("/records/{record_id}/approve", response=RecordOut, summary="通过活动记录并记入学分")
def record_approve(request, record_id: Id):
    record = selectors.record_get(actor=request.actor, record_id=record_id)
    return services.record_approve(actor=request.actor, record=record)
