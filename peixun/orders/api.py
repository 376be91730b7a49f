"""Orders API (/api/orders/): every step of the order workflow, scoped like the pages."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import NotFound
from peixun.orgs.models import Institution

from . import selectors, services

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
