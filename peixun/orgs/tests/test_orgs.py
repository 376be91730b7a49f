from datetime import date

import pytest

from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.orgs import services
from peixun.orgs.models import Institution
from tests.factories import make_actor

pytestmark = pytest.mark.django_db


def test_province_adds_new_district(province, county):
    actor = make_actor(Role.PROVINCE, region=province)
    city = county.parent
    district = services.region_create(actor=actor, parent=city, name="新区", code="981234")
    assert district.level == "county" and district.path == f"{city.path}{district.pk}/"
    assert AuditLog.objects.filter(action="orgs.region.create").count() == 1
    with pytest.raises(Conflict):
        services.region_create(actor=actor, parent=city, name="另一个", code="981234")
    with pytest.raises(InvalidInput):
        services.region_create(actor=actor, parent=district, name="镇", code="981235")


def test_only_province_adds_regions(county):
    with pytest.raises(PermissionDenied):
        services.region_create(actor=make_actor(Role.COUNTY, region=county), parent=county.parent, name="x", code="1")


def test_county_creates_school_in_own_county_only(county, other_county):
    actor = make_actor(Role.COUNTY, region=county)
    school = services.school_create(
        actor=actor, county=county, code="S1", name="新学校", stages=["primary"], is_rural=True
    )
    assert school.city_id == county.parent_id and school.stage_list == ["primary"]
    with pytest.raises(NotFound):
        services.school_create(actor=actor, county=other_county, code="S2", name="别人的学校", stages=["primary"])
    with pytest.raises(InvalidInput):
        services.school_create(actor=actor, county=county, code="S3", name="无学段", stages=[])


def test_institution_under_one_year_cannot_take_orders(province):
    actor = make_actor(Role.PROVINCE, region=province)
    inst = services.institution_create(
        actor=actor,
        code="N1",
        name="新机构",
        type=Institution.Type.PROVINCIAL,
        qualified_on=date(2024, 1, 10),
        qualification_scope=["math"],
        may_take_orders=True,
    )
    assert inst.qualified_under_one_year(date(2025, 1, 9))
    assert not inst.can_take_orders(date(2025, 1, 9))
    assert inst.can_take_orders(date(2025, 1, 10))
