from datetime import date, timedelta

import pytest

from peixun.core.roles import Role
from peixun.terms.models import Window
from tests.factories import InstitutionFactory, TermFactory, make_actor


def close_window(term, kind):
    """Move ``kind`` into the past (closed)."""
    from django.utils import timezone

    now = timezone.now()
    Window.objects.filter(term=term, kind=kind).update(
        starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2)
    )
    term.__dict__.pop("_window_cache", None)


def future_window(term, kind):
    """Move ``kind`` into the future (not yet open)."""
    from django.utils import timezone

    now = timezone.now()
    Window.objects.filter(term=term, kind=kind).update(
        starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3)
    )
    term.__dict__.pop("_window_cache", None)


def order_data(**overrides):
    data = {
        "name": "新课标下小学数学大单元教学",
        "theme": "大单元教学设计与实施",
        "target_trainees": "全县小学数学骨干教师",
        "target_stages": ["primary"],
        "target_subjects": ["math"],
        "field": "subject_teaching",
        "trainee_count": 45,
        "days": 5,
        "level": "county",
        "format": "face",
        "goals": "理解新课标理念，掌握大单元教学设计方法",
        "course_requirements": "专题讲座、课例研讨、实践展示相结合",
        "contact_person": "李老师",
        "contact_phone": "13900001111",
    }
    data.update(overrides)
    return data


@pytest.fixture
def term(db):
    return TermFactory()


@pytest.fixture
def county_actor(county):
    return make_actor(Role.COUNTY, region=county)


@pytest.fixture
def other_county_actor(other_county):
    return make_actor(Role.COUNTY, region=other_county)


@pytest.fixture
def province_actor(province):
    return make_actor(Role.PROVINCE, region=province)


@pytest.fixture
def takers(db):
    """Three institutions that may take orders."""
    return [InstitutionFactory() for _ in range(3)]


@pytest.fixture
def newcomer(db):
    """Qualified only recently: under one year on any term's reference date."""
    return InstitutionFactory(qualified_on=date.today() - timedelta(days=30))


@pytest.fixture
def local_school(db, county):
    """A county teacher-development school: not qualified for province-wide training."""
    return InstitutionFactory(province_wide=False)


def institution_actor(institution):
    return make_actor(Role.INSTITUTION, institution=institution)
