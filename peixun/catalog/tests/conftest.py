"""Fixtures for the catalog tests: a term whose application, review and publication windows are open,
a flagship institution with a qualified leader, and a helper that builds a complete draft."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from peixun.catalog import services
from peixun.core.roles import Role
from peixun.orgs.models import Institution
from peixun.terms.models import Window, WindowKind
from tests.factories import InstitutionFactory, StaffMemberFactory, TermFactory, make_actor, term_windows_open

OPEN = (WindowKind.PROJECT_APPLY, WindowKind.PROJECT_REVIEW, WindowKind.PUBLICATION)


@pytest.fixture
def term(db, province):
    term = TermFactory()
    term_windows_open(term, *OPEN)
    # Training from next month for four months, so class dates and change requests lie in the future.
    today = timezone.localdate()
    from peixun.terms.windows import day_end, day_start

    Window.objects.filter(term=term, kind=WindowKind.TRAINING).update(
        starts_at=day_start(today + timedelta(days=30)), ends_at=day_end(today + timedelta(days=150))
    )
    term.__dict__.pop("_window_cache", None)
    return term


@pytest.fixture
def flagship(db):
    return InstitutionFactory(type=Institution.Type.FLAGSHIP)


@pytest.fixture
def inst_actor(flagship):
    return make_actor(Role.INSTITUTION, institution=flagship)


@pytest.fixture
def leader(flagship):
    return StaffMemberFactory(institution=flagship)


@pytest.fixture
def province_actor(province):
    return make_actor(Role.PROVINCE, region=province)


def class_dates(term, offset=0, length=4) -> tuple[date, date]:
    from peixun.terms.windows import get_window

    start = timezone.localdate(get_window(term, WindowKind.TRAINING).starts_at) + timedelta(days=offset)
    return start, start + timedelta(days=length)


def project_data(**overrides) -> dict:
    data = {
        "name": "新课标下的小学数学课堂教学",
        "theme": "新课标落地",
        "field": "subject_teaching",
        "subject_category": "math",
        "level": "provincial",
        "credit_category": "tongchou",
        "format": "face",
        "days": 5,
        "hours_offline": Decimal("40"),
        "hours_online": Decimal("0"),
        "goals": "帮助教师理解新课标、开展新教学",
        "content": "专题讲座、课堂观摩、研讨交流",
        "fee_training": Decimal("1000"),
        "fee_accommodation": Decimal("300"),
        "fee_meals": Decimal("200"),
        "fee_total": Decimal("1500"),
        "target_stages": ["primary"],
        "target_subjects": ["math"],
    }
    data.update(overrides)
    return data


def make_draft(actor, term, leader=None, classes=1, lecturers=1, **overrides):
    """A complete draft, ready to submit."""
    if leader is not None:
        overrides.setdefault("leader", leader)
    project = services.project_create(actor=actor, term=term, **project_data(**overrides))
    for i in range(classes):
        starts_on, ends_on = class_dates(term, offset=7 * i)
        services.class_add(
            actor=actor, project=project, starts_on=starts_on, ends_on=ends_on, place="示范师范大学", capacity=40
        )
    for i in range(lecturers):
        services.lecturer_add(
            actor=actor,
            project=project,
            name=f"讲师{i}",
            organisation="示范师范大学",
            title="教授",
            expertise="数学教育",
            phone=f"1380000{i:04d}",
            topic="新课标解读",
        )
    return project


@pytest.fixture
def draft(inst_actor, term, leader):
    return make_draft(inst_actor, term, leader)


def active_policy_with(province, *, preset: str = "A", conversion: list[dict] | None = None, online_share_max=None):
    """Activate a credit policy from a preset whose conversion rules the province has edited."""
    from peixun.credits import services as credit_services
    from peixun.credits.policy import preset_data
    from tests.factories import credit_policy, make_actor

    data = preset_data(preset)
    if conversion is not None:
        data["conversion"]["rules"] = conversion
    if online_share_max is not None:
        data["conversion"]["online_share_max"] = online_share_max
    policy = credit_policy(preset, activate=False, province=province)
    policy = credit_services.policy_update_draft(
        actor=make_actor(Role.PROVINCE, region=province), policy=policy, data=data
    )
    return credit_services.policy_activate(actor=None, policy=policy)
