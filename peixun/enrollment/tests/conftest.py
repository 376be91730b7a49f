"""Fixtures for the enrollment tests: a term whose round 1 selection window is open now, a published
provincial project with one future class, and a teacher, principal, institution and bureau to act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.roles import Role
from peixun.terms.models import WindowKind
from tests.factories import (
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    TermFactory,
    make_actor,
    term_windows_open,
)

K = WindowKind


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def term(db, province):
    term = TermFactory()
    term_windows_open(term, K.SELECT_R1)
    return term


def open_only(term, *kinds):
    """Close every selection-stage window of ``term``, then open ``kinds`` now."""
    from datetime import datetime

    from peixun.terms.models import Window

    stage = [
        K.SELECT_R1,
        K.PRINCIPAL_R1,
        K.EXPAND_REQUEST,
        K.EXPAND_ACCEPT,
        K.CONFIRM_R1,
        K.SELECT_R2,
        K.PRINCIPAL_R2,
        K.CONFIRM_R2,
    ]
    past = timezone.make_aware(datetime(2001, 1, 1))
    Window.objects.filter(term=term, kind__in=stage).update(starts_at=past, ends_at=past + timedelta(days=1))
    term_windows_open(term, *kinds)
    term.__dict__.pop("_window_cache", None)


def make_class(term, institution=None, *, days_ahead=30, length=3, capacity=20, **project_kwargs):
    today = timezone.localdate()
    kwargs = {"term": term, **project_kwargs}
    if institution is not None:
        kwargs["institution"] = institution
    project = ProjectFactory(**kwargs)
    start = today + timedelta(days=days_ahead)
    return ProjectClassFactory(
        project=project, starts_on=start, ends_on=start + timedelta(days=length - 1), capacity=capacity
    )


@pytest.fixture
def klass(term, institution):
    return make_class(term, institution)


@pytest.fixture
def teacher(school):
    return TeacherFactory(school=school)


@pytest.fixture
def teacher_actor(teacher):
    return make_actor(Role.TEACHER, teacher=teacher)


def new_teacher_actor(school, **kwargs):
    return make_actor(Role.TEACHER, teacher=TeacherFactory(school=school, **kwargs))


@pytest.fixture
def principal(school):
    return make_actor(Role.SCHOOL, school=school)


@pytest.fixture
def inst_actor(institution):
    return make_actor(Role.INSTITUTION, institution=institution)


@pytest.fixture
def province_actor(province):
    return make_actor(Role.PROVINCE, region=province)
