"""A principal who signs in with the teacher role active finds 选课审核: a home panel with the count and a
one-click switch, the menu's "other roles" entry, and the review page offering the switch instead of a refusal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peixun.accounts.models import RoleGrant
from peixun.core.roles import Role
from peixun.enrollment import services

from .conftest import new_teacher_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def principal_teacher(school, teacher_actor):
    """demo_principal's shape: a teacher grant first (the default at sign-in), then the school grant."""
    grant = RoleGrant.objects.create(user=teacher_actor.user, role=Role.SCHOOL, school=school)
    return teacher_actor, grant


def test_home_points_the_principal_in_teacher_role_to_review(client, principal_teacher, school, klass):
    actor, grant = principal_teacher
    for _ in range(2):
        services.enrollment_select(actor=new_teacher_actor(school), project_class=klass)
    client.force_login(actor.user)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="panel-principal-switch"' in html
    assert "2 条选课等待您审核" in html and "切换为学校管理员并打开选课审核" in html
    assert 'data-testid="switch-role"' in html and "我的其他角色" in html  # the menu offers it too

    response = client.post(reverse("accounts:switch_role"), {"grant": grant.pk, "next": reverse("enrollment:review")})
    assert response.status_code == 302 and response.url == reverse("enrollment:review")
    page = client.get(reverse("enrollment:review")).content.decode()
    assert page.count('data-testid="review-row"') == 2
    assert 'data-testid="panel-principal-switch"' not in client.get(reverse("home")).content.decode()


def test_review_page_in_teacher_role_offers_the_switch(client, principal_teacher):
    actor, grant = principal_teacher
    client.force_login(actor.user)
    response = client.get(reverse("enrollment:review") + "?state=selected")
    html = response.content.decode()
    assert response.status_code == 403 and 'data-testid="switch-role-page"' in html
    assert f'value="{grant.pk}"' in html and 'value="/enrollment/review/?state=selected"' in html


def test_switch_role_ignores_foreign_grants_and_offsite_next(client, principal_teacher, principal):
    actor, _grant = principal_teacher
    client.force_login(actor.user)
    response = client.post(
        reverse("accounts:switch_role"), {"grant": principal.grant.pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("enrollment:review")).status_code == 403  # still the teacher role


def test_teacher_without_school_role_sees_no_hint(client, teacher_actor):
    client.force_login(teacher_actor.user)
    html = client.get(reverse("home")).content.decode()
    assert "panel-principal-switch" not in html and "我的其他角色" not in html
    assert client.get(reverse("enrollment:review")).status_code == 403
