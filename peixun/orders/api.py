"""Orders API (/api/orders/): every step of the order workflow, scoped like the pages."""

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.catalog import rules as catalog_rules
from peixun.catalog import selectors as catalog_selectors
from peixun.core.api_types import Id
from peixun.core.errors import NotFound
from peixun.orgs.models import Institution

from . import selectors, services
from .models import OrderResponse

router = Router(tags=["orders"])


class OrderIn(Schema):
    name: str
    theme: str
    target_trainees: str
    target_stages: list[str]
    target_subjects: list[str] = []
    field: str
    trainee_count: int
    days: int
    level: str
    format: str
    goals: str
    course_requirements: str
    intended_institution_ids: list[Id] = []
    contact_person: str
    contact_phone: str


class OrderCreateIn(OrderIn):
    term_id: Id | None = None
    post: bool = False


class OrderOut(Schema):
    id: int
    code: str
    term_id: int
    county_id: int
    county: str
    name: str
    theme: str
    target_trainees: str
    target_stages: list[str]
    target_subjects: list[str]
    field: str
    trainee_count: int
    days: int
    level: str
    format: str
    goals: str
    course_requirements: str
    intended_institution_ids: list[int]
    contact_person: str
    contact_phone: str
    status: str
    stage: str
    stage_label: str
    posted_at: datetime | None
    published_at: datetime | None
    selected_at: datetime | None
    response_count: int
    chosen_institution: str | None
    chosen_project_id: int | None

    @staticmethod
    def resolve_county(obj):
        return obj.county.name

    @staticmethod
    def resolve_target_stages(obj):
        return obj.stage_list

    @staticmethod
    def resolve_target_subjects(obj):
        return obj.subject_list

    @staticmethod
    def resolve_intended_institution_ids(obj):
        return [i.pk for i in obj.intended_institutions.all()]

    @staticmethod
    def resolve_response_count(obj):
        return getattr(obj, "response_count", None) or 0

    @staticmethod
    def resolve_chosen_institution(obj):
        return getattr(obj, "chosen_institution", None)

    @staticmethod
    def resolve_chosen_project_id(obj):
        return getattr(obj, "chosen_project_id", None)


class ReasonIn(Schema):
    reason: str


class CoverageOut(Schema):
    county_id: int
    county: str
    posted: int
    drafts: int
    minimum: int
    below: bool


class PublishOut(Schema):
    published: int
    order_ids: list[int]


def _term(term_id):
    term = selectors.term_for(term_id)
    if term is None:
        raise NotFound(_("No term has been set up yet."))
    return term


def _institutions(ids: list[int]) -> list[Institution]:
    found = {i.pk: i for i in Institution.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotFound(
            _("Institution not found: %(ids)s") % {"ids": ", ".join(map(str, missing))},
            details={"field": "intended_institution_ids"},
        )
    return [found[pk] for pk in ids]


def _get(request, order_id: Id):
    return selectors.order_get(actor=request.actor, order_id=order_id)


@router.get(
    "/orders", response=list[OrderOut], summary="订单列表（区县：本县订单；机构：推送给本机构的订单；省：全部）"
)
@paginate(LimitOffsetPagination)
def orders(
    request,
    term_id: Id | None = None,
    county_id: Id | None = None,
    stage: str = "",
    level: str = "",
    q: str = "",
):
    return selectors.order_list(
        actor=request.actor, term=_term(term_id), county_id=county_id, stage=stage, level=level, query=q
    )


@router.get("/orders/{order_id}", response=OrderOut, summary="订单详情")
def order(request, order_id: Id):
    return _get(request, order_id)


@router.post("/orders", response={201: OrderOut}, summary="区县填报订单需求（post=true 同时报送）")
def order_create(request, payload: OrderCreateIn):
    data = payload.dict(exclude={"term_id", "intended_institution_ids", "post"})
    created = services.order_create(
        actor=request.actor,
        term=_term(payload.term_id),
        intended_institutions=_institutions(payload.intended_institution_ids),
        post=payload.post,
        **data,
    )
    return 201, _get(request, created.pk)


@router.put("/orders/{order_id}", response=OrderOut, summary="修改订单（草稿，或需求报送期内已报送的订单）")
def order_update(request, order_id: Id, payload: OrderIn):
    data = payload.dict(exclude={"intended_institution_ids"})
    services.order_update(
        actor=request.actor,
        order=_get(request, order_id),
        intended_institutions=_institutions(payload.intended_institution_ids),
        **data,
    )
    return _get(request, order_id)


@router.post("/orders/{order_id}/post", response=OrderOut, summary="报送订单（需求报送期内）")
def order_post(request, order_id: Id):
    services.order_post(actor=request.actor, order=_get(request, order_id))
    return _get(request, order_id)


@router.post("/orders/{order_id}/unpost", response=OrderOut, summary="撤回已报送的订单为草稿（需求报送期内）")
def order_unpost(request, order_id: Id):
    services.order_unpost(actor=request.actor, order=_get(request, order_id))
    return _get(request, order_id)


@router.post("/orders/{order_id}/cancel", response=OrderOut, summary="撤销订单（确定承训机构之前）")
def order_cancel(request, order_id: Id, payload: ReasonIn):
    services.order_cancel(actor=request.actor, order=_get(request, order_id), reason=payload.reason)
    return _get(request, order_id)


@router.post(
    "/orders/{order_id}/reopen",
    response=OrderOut,
    summary="重新开放订单（选定的机构已撤回项目时，区县附理由重新接受响应）",
)
def order_reopen(request, order_id: Id, payload: ReasonIn):
    services.order_reopen(actor=request.actor, order=_get(request, order_id), reason=payload.reason)
    return _get(request, order_id)


@router.get("/coverage", response=list[CoverageOut], summary="各区县报送订单数与最低要求")
@paginate(LimitOffsetPagination)
def coverage(request, term_id: Id | None = None):
    return [
        {
            "county_id": r["county"].pk,
            "county": r["county"].name,
            "posted": r["posted"],
            "drafts": r["drafts"],
            "minimum": r["minimum"],
            "below": r["below"],
        }
        for r in selectors.coverage(actor=request.actor, term=_term(term_id))
    ]


@router.post("/terms/{term_id}/publish", response=PublishOut, summary="公布订单清单并推送给培训机构（省级，公布日）")
def list_publish(request, term_id: Id):
    published = services.order_list_publish(actor=request.actor, term=_term(term_id))
    return PublishOut(published=len(published), order_ids=[o.pk for o in published])


@router.post("/terms/{term_id}/remind", summary="提醒订单数不足的区县（省级）")
def counties_remind(request, term_id: Id):
    return {"reminded": services.counties_remind(actor=request.actor, term=_term(term_id))}


# --- responses, choice, formal application, review, publication ----------------------------------


class ResponseIn(Schema):
    """What the institution sets on its draft project (everything else is taken from the order)."""

    note: str = ""
    subject_category: str | None = None
    credit_category: str | None = None
    hours_offline: Decimal | None = None
    hours_online: Decimal | None = None
    content: str | None = None
    fee_training: Decimal | None = None
    fee_accommodation: Decimal | None = None
    fee_meals: Decimal | None = None
    leader_id: Id | None = None
    class_starts_on: date | None = None
    class_place: str = ""


class ResponseOut(Schema):
    id: int
    order_id: int
    order_name: str
    county: str
    institution_id: int
    institution: str
    status: str
    status_label: str
    note: str
    county_remark: str
    submitted_at: datetime | None
    decided_at: datetime | None
    project_id: int
    project_code: str
    project_name: str
    project_status: str
    level: str
    format: str
    days: int
    hours_offline: Decimal
    hours_online: Decimal
    credits: Decimal
    fee_total: Decimal
    fee_training: Decimal
    fee_accommodation: Decimal
    fee_meals: Decimal
    leader_name: str
    classes: int
    lecturers: int

    @staticmethod
    def resolve_order_name(obj):
        return obj.order.name

    @staticmethod
    def resolve_county(obj):
        return obj.order.county.name

    @staticmethod
    def resolve_institution(obj):
        return obj.institution.name

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_project_code(obj):
        return obj.project.code

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_project_status(obj):
        return obj.project.status

    @staticmethod
    def resolve_leader_name(obj):
        return obj.project.leader.name if obj.project.leader_id else ""

    @staticmethod
    def resolve_classes(obj):
        return len(obj.project.classes.all())

    @staticmethod
    def resolve_lecturers(obj):
        return len(obj.project.projectlecturer_set.all())

    @staticmethod
    def resolve_level(obj):
        return obj.project.level

    @staticmethod
    def resolve_format(obj):
        return obj.project.format

    @staticmethod
    def resolve_days(obj):
        return obj.project.days

    @staticmethod
    def resolve_hours_offline(obj):
        return obj.project.hours_offline

    @staticmethod
    def resolve_hours_online(obj):
        return obj.project.hours_online

    @staticmethod
    def resolve_credits(obj):
        return obj.project.credits

    @staticmethod
    def resolve_fee_total(obj):
        return obj.project.fee_total

    @staticmethod
    def resolve_fee_training(obj):
        return obj.project.fee_training

    @staticmethod
    def resolve_fee_accommodation(obj):
        return obj.project.fee_accommodation

    @staticmethod
    def resolve_fee_meals(obj):
        return obj.project.fee_meals


class ResponseDetailOut(ResponseOut):
    problems: list[str]

    @staticmethod
    def resolve_problems(obj):
        return [p["message"] for p in catalog_rules.checklist(obj.project)]


class WithdrawIn(Schema):
    reason: str = ""


class RemarkIn(Schema):
    remark: str


class ReviewIn(Schema):
    action: str
    reason: str = ""


class ProjectStateOut(Schema):
    order_id: int
    project_id: int
    project_status: str
    stage: str
    stage_label: str


def _response(request, response_id: Id) -> OrderResponse:
    return selectors.response_get(actor=request.actor, response_id=response_id)


def _project_state(request, order_id: Id) -> ProjectStateOut:
    order = _get(request, order_id)
    response = services.chosen_response(order)
    return ProjectStateOut(
        order_id=order.pk,
        project_id=response.project_id,
        project_status=response.project.status,
        stage=order.stage,
        stage_label=order.stage_label,
    )


@router.get("/orders/{order_id}/responses", response=list[ResponseOut], summary="订单的机构响应（比较）")
@paginate(LimitOffsetPagination)
def order_responses(request, order_id: Id):
    return selectors.response_list(actor=request.actor, order=_get(request, order_id))


@router.post(
    "/orders/{order_id}/responses",
    response={201: ResponseDetailOut},
    summary="机构响应订单：以订单生成项目草稿（响应期内）",
)
def response_create(request, order_id: Id, payload: ResponseIn):
    order = _get(request, order_id)
    data = payload.dict(exclude={"leader_id", "note", "class_starts_on", "class_place"})
    if payload.leader_id is not None:
        data["leader"] = catalog_selectors.staff_get(actor=request.actor, staff_id=payload.leader_id)
    created = services.response_create(
        actor=request.actor,
        order=order,
        note=payload.note,
        class_starts_on=payload.class_starts_on,
        class_place=payload.class_place,
        **{k: v for k, v in data.items() if v is not None},
    )
    return 201, _response(request, created.pk)


@router.get("/responses", response=list[ResponseOut], summary="本机构的订单响应")
@paginate(LimitOffsetPagination)
def my_responses(request, term_id: Id | None = None, status: str = ""):
    return selectors.my_responses(actor=request.actor, term=_term(term_id), status=status).prefetch_related(
        "project__classes", "project__projectlecturer_set", "project__leader", "institution"
    )


@router.get("/responses/{response_id}", response=ResponseDetailOut, summary="订单响应详情（含申报规则检查）")
def response_detail(request, response_id: Id):
    return _response(request, response_id)


@router.post("/responses/{response_id}/submit", response=ResponseDetailOut, summary="提交响应给区县（响应期内）")
def response_submit(request, response_id: Id):
    services.response_submit(actor=request.actor, response=_response(request, response_id))
    return _response(request, response_id)


@router.post("/responses/{response_id}/withdraw", response=ResponseDetailOut, summary="撤回响应（区县决定之前）")
def response_withdraw(request, response_id: Id, payload: WithdrawIn):
    services.response_withdraw(actor=request.actor, response=_response(request, response_id), reason=payload.reason)
    return _response(request, response_id)


@router.post(
    "/responses/{response_id}/select",
    response=ResponseDetailOut,
    summary="区县选定承训机构（遴选期内，附意见；其他响应关闭并告知意见）",
)
def response_select(request, response_id: Id, payload: RemarkIn):
    services.response_select(actor=request.actor, response=_response(request, response_id), remark=payload.remark)
    return _response(request, response_id)


@router.post(
    "/responses/{response_id}/apply",
    response=ResponseDetailOut,
    summary="选定的机构正式申报订单项目（订单项目申报期内）",
)
def response_apply(request, response_id: Id):
    services.response_apply(actor=request.actor, response=_response(request, response_id))
    return _response(request, response_id)


@router.post(
    "/orders/{order_id}/review",
    response=ProjectStateOut,
    summary="区县审核订单项目（action=approve 通过 / return 退回，附理由）",
)
def order_project_review(request, order_id: Id, payload: ReviewIn):
    services.order_project_review(
        actor=request.actor, order=_get(request, order_id), action=payload.action, reason=payload.reason
    )
    return _project_state(request, order_id)


@router.post("/orders/{order_id}/publish", response=ProjectStateOut, summary="区县发布订单项目（发布期内）")
def order_project_publish(request, order_id: Id):
    services.order_project_publish(actor=request.actor, order=_get(request, order_id))
    return _project_state(request, order_id)
