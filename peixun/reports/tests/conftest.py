"""A small province for the report tests: two cities, three counties, schools, teachers with ledgers."""

import random
from datetime import date

import pytest

from peixun.core.roles import Role
from peixun.credits import selectors as credit_selectors
from peixun.credits.tests.test_sqlreport import random_ledger
from peixun.roster.models import Exemption
from tests.factories import CityFactory, CountyFactory, SchoolFactory, TeacherFactory, credit_policy, make_actor


@pytest.fixture
def area(db, province):
    """province → city A (counties A1, A2), city B (county B1); 2 schools per county, 6 teachers per school."""
    credit_policy("A", province=province)
    city_a, city_b = CityFactory(parent=province), CityFactory(parent=province)
    counties = {
        "a1": CountyFactory(parent=city_a),
        "a2": CountyFactory(parent=city_a),
        "b1": CountyFactory(parent=city_b),
    }
    schools = {key: [SchoolFactory(county=c), SchoolFactory(county=c, is_rural=True)] for key, c in counties.items()}
    teachers = []
    for pair in schools.values():
        for school in pair:
            teachers += TeacherFactory.create_batch(6, school=school)
    left = TeacherFactory(school=schools["a1"][0], status="left")  # not in post: never counted
    random_ledger(random.Random(11), teachers + [left], credit_selectors.active_rules())
    Exemption.objects.create(teacher=teachers[0], kind="seconded", reason="借调", starts_on=date(2020, 1, 1))
    return {
        "province": province,
        "cities": {"a": city_a, "b": city_b},
        "counties": counties,
        "schools": schools,
        "teachers": teachers,
        "left": left,
    }


@pytest.fixture
def province_actor(area):
    return make_actor(Role.PROVINCE, region=area["province"])


@pytest.fixture
def city_actor(area):
    return make_actor(Role.CITY, region=area["cities"]["a"])


@pytest.fixture
def county_actor(area):
    return make_actor(Role.COUNTY, region=area["counties"]["a1"])


@pytest.fixture
def school_actor(area):
    return make_actor(Role.SCHOOL, school=area["schools"]["a1"][0])
