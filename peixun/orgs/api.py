from datetime import date

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id

from . import selectors, services
from .models import Region

router = Router(tags=["orgs"])


class RegionOut(Schema):
    id: int
    name: str
    code: str
    level: str
    parent_id: int | None


class RegionIn(Schema):
    parent_id: Id
    name: str
    code: str


class SchoolOut(Schema):
    id: int
    code: str
    name: str
    county_id: int
    city_id: int
    stages: list[str]
    is_rural: bool
    is_remote: bool
    is_active: bool

    @staticmethod
    def resolve_stages(obj):
        return obj.stage_list


class SchoolIn(Schema):
    county_id: Id
    code: str
    name: str
    stages: list[str]
    is_rural: bool = False
    is_remote: bool = False
    address: str = ""


class SchoolUpdate(Schema):
    name: str
    stages: list[str]
    is_rural: bool = False
    is_remote: bool = False
    address: str = ""
    is_active: bool = True


class InstitutionOut(Schema):
    id: int
    code: str
    name: str
    type: str
    qualified_on: date
    qualification_scope: list[str]
    province_wide: bool
    may_blended: bool
    may_online: bool
    may_take_orders: bool
    is_active: bool

    @staticmethod
    def resolve_qualification_scope(obj):
        return obj.scope_list


class InstitutionIn(Schema):
    code: str
    name: str
    type: str
    qualified_on: date
    qualification_scope: list[str]
    region_id: Id | None = None
    province_wide: bool = True
    may_blended: bool = False
    may_online: bool = False
    may_take_orders: bool = True
    contact_person: str = ""
    contact_phone: str = ""


@router.get("/regions", response=list[RegionOut], summary="行政区划（按权限范围）")
def regions(request):
    return list(selectors.region_list(actor=request.actor).order_by("path"))


@router.post("/regions", response={201: RegionOut}, summary="新增市或区县（省级）")
def region_create(request, payload: RegionIn):
    parent = selectors.region_get(actor=request.actor, region_id=payload.parent_id)
    return 201, services.region_create(actor=request.actor, parent=parent, name=payload.name, code=payload.code)


@router.get("/schools", response=list[SchoolOut], summary="学校列表")
@paginate(LimitOffsetPagination)
def schools(request, county_id: Id | None = None, stage: str = "", q: str = ""):
    return selectors.school_list(actor=request.actor, county_id=county_id, stage=stage, query=q)


@router.post("/schools", response={201: SchoolOut}, summary="新建学校")
def school_create(request, payload: SchoolIn):
    county = selectors.region_get(actor=request.actor, region_id=payload.county_id)
    data = payload.dict(exclude={"county_id"})
    return 201, services.school_create(actor=request.actor, county=county, **data)


@router.put("/schools/{school_id}", response=SchoolOut, summary="修改学校")
def school_update(request, school_id: Id, payload: SchoolUpdate):
    school = selectors.school_get(actor=request.actor, school_id=school_id)
    return services.school_update(actor=request.actor, school=school, **payload.dict())


@router.get("/institutions", response=list[InstitutionOut], summary="培训机构列表")
def institutions(request, type: str = "", q: str = ""):
    return list(selectors.institution_list(actor=request.actor, type=type, query=q))


@router.post("/institutions", response={201: InstitutionOut}, summary="新建培训机构（省级）")
def institution_create(request, payload: InstitutionIn):
    data = payload.dict(exclude={"region_id"})
    data["region"] = get_object_or_404(Region, pk=payload.region_id) if payload.region_id else None
    return 201, services.institution_create(actor=request.actor, **data)
