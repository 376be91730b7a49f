"""Fixtures and helpers shared by the fair allocation tests (import the fixtures by name)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from peixun.core.roles import Role
from peixun.enrollment.models import Preference, PreferenceList
from peixun.terms.models import Term, Window, WindowKind
from tests.factories import (
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    TermFactory,
    credit_policy,
    make_actor,
    post_credit,
)


def future(days: int):
    return timezone.localdate() + timedelta(days=days)


def close_selection(term: Term) -> None:
    """Round 1 selection closed an hour ago (the allocation may run)."""
    now = timezone.now()
    Window.objects.filter(term=term, kind=WindowKind.SELECT_R1).update(
        starts_at=now - timedelta(days=5), ends_at=now - timedelta(hours=1)
    )
    term.__dict__.pop("_window_cache", None)


def make_class(term, *, capacity=2, starts_in=30, days=3, **project):
    start = future(starts_in)
    return ProjectClassFactory(
        project=ProjectFactory(term=term, **project),
        capacity=capacity,
        starts_on=start,
        ends_on=start + timedelta(days=days - 1),
    )


def rank(teacher, term, *classes, wanted=1) -> PreferenceList:
    """Preferences written directly (the service checks eligibility; these tests are about the run)."""
    plist, _ = PreferenceList.objects.get_or_create(term=term, teacher=teacher, defaults={"wanted": wanted})
    for n, c in enumerate(classes, start=1):
        Preference.objects.create(preference_list=plist, project_class=c, rank=n)
    return plist


def teacher_with_credits(school, credits, **kwargs):
    """A teacher with a login and ``credits`` 统筹 credits this cycle (priority = credits still missing)."""
    actor = make_actor(Role.TEACHER, teacher=TeacherFactory(school=school, **kwargs))
    if credits:
        post_credit(actor.user.teacher, Decimal(credits), earned_on=timezone.localdate() - timedelta(days=30))
    return actor


@pytest.fixture
def policy(province):
    return credit_policy("A", province=province)


@pytest.fixture
def fair_term(db):
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    close_selection(term)
    return term


@pytest.fixture
def province_actor(province):
    return make_actor(Role.PROVINCE, region=province)


@pytest.fixture
def zh():
    """Messages and reasons in Chinese, as users see them."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield
