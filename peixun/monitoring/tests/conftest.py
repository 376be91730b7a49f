"""Fixtures for the monitoring tests: a term, two institutions with running classes, and the actors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.choices import TrainingLevel
from peixun.core.roles import Role
from tests.factories import (
    EnrollmentFactory,
    InstitutionFactory,
    ProjectClassFactory,
    TeacherFactory,
    TermFactory,
    make_actor,
)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def term(db):
    return TermFactory()


@pytest.fixture
def other_institution(db):
    return InstitutionFactory()


def running_class(term, institution, region, today, **kwargs):
    """A class of a published project that started two days ago and ends in two days."""
    project = kwargs.pop("project", None)
    if project is None:
        extra = {"level": TrainingLevel.COUNTY} if region.level == "county" else {}
        from tests.factories import ProjectFactory

        project = ProjectFactory(term=term, institution=institution, region=region, **extra)
    return ProjectClassFactory(
        project=project, starts_on=today - timedelta(days=2), ends_on=today + timedelta(days=2), **kwargs
    )


@pytest.fixture
def klass(term, institution, province, today):
    """A provincial project's running class of ``institution``."""
    return running_class(term, institution, province, today)


@pytest.fixture
def other_klass(term, other_institution, province, today):
    return running_class(term, other_institution, province, today)


@pytest.fixture
def monitor(province):
    return make_actor(Role.MONITOR, region=province)


@pytest.fixture
def inst_actor(institution):
    return make_actor(Role.INSTITUTION, institution=institution)


@pytest.fixture
def other_inst_actor(other_institution):
    return make_actor(Role.INSTITUTION, institution=other_institution)


@pytest.fixture
def school_actor(school):
    return make_actor(Role.SCHOOL, school=school)


@pytest.fixture
def county_actor(county):
    return make_actor(Role.COUNTY, region=county)


@pytest.fixture
def other_county_actor(other_county):
    return make_actor(Role.COUNTY, region=other_county)


@pytest.fixture
def trainee(school, klass):
    """A teacher on ``klass``'s roster (confirmed enrollment)."""
    teacher = TeacherFactory(school=school)
    EnrollmentFactory(teacher=teacher, project_class=klass)
    return teacher


@pytest.fixture
def other_trainee(other_school, other_klass):
    """A teacher on ``other_klass``'s roster."""
    teacher = TeacherFactory(school=other_school)
    EnrollmentFactory(teacher=teacher, project_class=other_klass)
    return teacher
