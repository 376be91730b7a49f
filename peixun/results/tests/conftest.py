from datetime import date
from decimal import Decimal

import pytest

from peixun.core.roles import Role
from tests.factories import (
    EnrollmentFactory,
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    credit_policy,
    make_actor,
)


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


@pytest.fixture
def project(institution, province):
    """A provincial face-to-face 统筹 project of 40 学时 (4 credits under preset A)."""
    return ProjectFactory(institution=institution, region=province, hours_offline=Decimal("40"), credits=Decimal("4"))


@pytest.fixture
def project_class(project):
    return ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))


# Named so that a sheet (which lists its trainees by school, then name) does not list them in the
# order they were created: a test must find a trainee's row by teacher, never by position. (The
# factory's "教师<n>" names come from a process-wide counter: whether they sort in creation order
# depended on how many teachers earlier test files had made, e.g. 教师9, 教师10, 教师11.)
TRAINEE_NAMES = ("教师B", "教师C", "教师A")


@pytest.fixture
def trainees(project_class, school):
    return [
        EnrollmentFactory(project_class=project_class, teacher=TeacherFactory(school=school, name=name))
        for name in TRAINEE_NAMES
    ]


@pytest.fixture
def clerk(institution):
    return make_actor(Role.INSTITUTION, institution=institution)


@pytest.fixture
def reviewer(institution):
    return make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
