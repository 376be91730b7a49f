"""Terms and their windows: read by everyone, managed by the province."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.errors import NotFound
from peixun.core.scopes import get_visible

from . import selectors, services
from .models import Term, Window
from .windows import current_term, states

router = Router(tags=["terms"])


class WindowOut(Schema):
    id: int
    kind: str
    label: str
    starts_at: datetime
    ends_at: datetime
    is_open: bool
    is_upcoming: bool
    paused: bool = False  # a selection round with an active pause somewhere (see /pauses)
    staggered: bool = False  # a selection round that opens in batches (see /batches)


class TermOut(Schema):
    id: int
    code: str
    name: str
    selection_mode: str
    per_teacher_limit: int
    school_share_cap: int | None
    order_projects_use_quota: bool
    min_orders_per_county: int
    schedule_lead_days: int
    windows: list[WindowOut]

    @staticmethod
    def resolve_windows(obj):
        return [
            WindowOut(
                id=s.window.pk,
                kind=s.window.kind,
                label=s.label,
                starts_at=s.window.starts_at,
                ends_at=s.window.ends_at,
                is_open=s.is_open,
                is_upcoming=s.is_upcoming,
                paused=s.window.paused,
                staggered=s.window.staggered,
            )
            for s in states(obj)
        ]


class TermIn(Schema):
    code: str
    name: str
    year: int
    selection_mode: str = Term.SelectionMode.FIRST_COME
    per_teacher_limit: int = 3
    schedule_lead_days: int = 5


class TermUpdate(Schema):
    name: str | None = None
    selection_mode: str | None = None
    per_teacher_limit: int | None = None
    school_share_cap: int | None = None
    order_projects_use_quota: bool | None = None
    min_orders_per_county: int | None = None
    schedule_lead_days: int | None = None


class WindowIn(Schema):
    starts_at: datetime
    ends_at: datetime


class ExtendIn(Schema):
    new_ends_at: datetime
    reason: str


class ExtensionOut(Schema):
    id: int
    window_id: Id
    kind: str
    old_ends_at: datetime
    new_ends_at: datetime
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_kind(obj):
        return obj.window.kind


@router.get("/terms", response=list[TermOut], summary="学期列表（含各时间窗口）")
@paginate(LimitOffsetPagination)
def terms(request):
    return selectors.term_list(actor=request.actor).prefetch_related("windows")


@router.get("/terms/current", response=TermOut, summary="当前学期")
def term_current(request):
    term = current_term()
    if term is None:
        raise NotFound(_("No term has been set up yet."))
    return term


@router.get("/terms/{term_id}", response=TermOut, summary="学期详情")
def term_detail(request, term_id: Id):
    return selectors.term_get(actor=request.actor, term_id=term_id)


@router.post("/terms", response={201: TermOut}, summary="按2024年上半年预设新建学期（省级）")
def term_create(request, payload: TermIn):
    data = payload.dict()
    term = services.term_create_from_preset(
        actor=request.actor, code=data.pop("code"), name=data.pop("name"), year=data.pop("year"), **data
    )
    return 201, selectors.term_get(actor=request.actor, term_id=term.pk)


@router.put("/terms/{term_id}", response=TermOut, summary="修改学期设置（省级）")
def term_update(request, term_id: Id, payload: TermUpdate):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    services.term_update(actor=request.actor, term=term, **payload.dict(exclude_unset=True))
    return selectors.term_get(actor=request.actor, term_id=term_id)


@router.put("/terms/{term_id}/windows/{kind}", response=WindowOut, summary="设置时间窗口（省级）")
def window_set(request, term_id: Id, kind: str, payload: WindowIn):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    window = services.window_set(
        actor=request.actor, term=term, kind=kind, starts_at=payload.starts_at, ends_at=payload.ends_at
    )
    return _window_out(window)


@router.post("/windows/{window_id}/extend", response=WindowOut, summary="延长时间窗口（附理由，记入审计日志）")
def window_extend(request, window_id: Id, payload: ExtendIn):
    window = get_visible(request.actor, Window.objects.select_related("term"), pk=window_id)
    window = services.window_extend(
        actor=request.actor, window=window, new_ends_at=payload.new_ends_at, reason=payload.reason
    )
    return _window_out(window)


@router.get("/terms/{term_id}/extensions", response=list[ExtensionOut], summary="窗口延长记录")
@paginate(LimitOffsetPagination)
def extensions(request, term_id: Id):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    return selectors.extensions(actor=request.actor, term=term)


class PauseIn(Schema):
    kind: str
    notice: str


class PauseOut(Schema):
    id: int
    kind: str
    region: str
    notice: str
    started_at: datetime
    ended_at: datetime | None
    is_active: bool
    window_ends_at: datetime

    @staticmethod
    def resolve_kind(obj):
        return obj.window.kind

    @staticmethod
    def resolve_region(obj):
        return obj.region.name

    @staticmethod
    def resolve_window_ends_at(obj):
        return obj.window.ends_at


@router.get("/terms/{term_id}/pauses", response=list[PauseOut], summary="选课暂停记录")
@paginate(LimitOffsetPagination)
def pauses(request, term_id: Id):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    return selectors.pauses(actor=request.actor, term=term)


@router.post(
    "/terms/{term_id}/pauses",
    response={201: PauseOut},
    summary="暂停选课（省级全省；市、县本地区），附向教师展示的公告",
)
def pause_create(request, term_id: Id, payload: PauseIn):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    pause = services.round_pause(actor=request.actor, term=term, kind=payload.kind, notice=payload.notice)
    return 201, selectors.pause_get(actor=request.actor, term=term, pause_id=pause.pk)


@router.post("/pauses/{pause_id}/resume", response=PauseOut, summary="恢复选课（窗口按暂停时长自动顺延）")
def pause_resume(request, pause_id: Id):
    from .models import RoundPause

    pause = get_visible(request.actor, RoundPause.objects.select_related("window__term"), pk=pause_id)
    services.round_resume(actor=request.actor, pause=pause)
    return selectors.pause_get(actor=request.actor, term=pause.window.term, pause_id=pause.pk)


class BatchIn(Schema):
    kind: str
    name: str
    opens_at: datetime
    region_codes: list[str] = []
    school_codes: list[str] = []


class BatchOut(Schema):
    id: int
    kind: str
    name: str
    opens_at: datetime
    region_codes: list[str]
    school_codes: list[str]

    @staticmethod
    def resolve_kind(obj):
        return obj.window.kind

    @staticmethod
    def resolve_region_codes(obj):
        return [r.code for r in obj.regions.all()]

    @staticmethod
    def resolve_school_codes(obj):
        return [s.code for s in obj.schools.all()]


@router.get("/terms/{term_id}/batches", response=list[BatchOut], summary="分批开放选课的批次")
@paginate(LimitOffsetPagination)
def batches(request, term_id: Id):
    term = selectors.term_get(actor=request.actor, term_id=term_id)
    return selectors.batches(actor=request.actor, term=term)


@router.post("/terms/{term_id}/batches", response={201: BatchOut}, summary="新增分批开放批次（省级；按市、县或学校）")
def batch_create(request, term_id: Id, payload: BatchIn):
    from peixun.orgs.models import Region, School

    term = selectors.term_get(actor=request.actor, term_id=term_id)
    regions = list(Region.objects.filter(code__in=payload.region_codes))
    schools = list(School.objects.filter(code__in=payload.school_codes))
    unknown = (set(payload.region_codes) - {r.code for r in regions}) | (
        set(payload.school_codes) - {s.code for s in schools}
    )
    if unknown:
        from peixun.core.errors import InvalidInput

        raise InvalidInput(
            _("Unknown region or school codes: %(codes)s") % {"codes": "、".join(sorted(unknown)[:10])},
            details={"field": "region_codes"},
        )
    batch = services.batch_create(
        actor=request.actor,
        term=term,
        kind=payload.kind,
        name=payload.name,
        opens_at=payload.opens_at,
        regions=regions,
        schools=schools,
    )
    return 201, selectors.batches(actor=request.actor, term=term).get(pk=batch.pk)


@router.delete("/batches/{batch_id}", response={204: None}, summary="删除分批开放批次（省级）")
def batch_delete(request, batch_id: Id):
    services.batch_delete(actor=request.actor, batch=selectors.batch_get(actor=request.actor, batch_id=batch_id))
    return 204, None


def _window_out(window: Window) -> WindowOut:
    from django.utils import timezone

    now = timezone.now()
    return WindowOut(
        id=window.pk,
        kind=window.kind,
        label=str(window.get_kind_display()),
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        is_open=window.starts_at <= now < window.ends_at,
        is_upcoming=now < window.starts_at,
        paused=window.paused,
        staggered=window.staggered,
    )
