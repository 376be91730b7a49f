"""Home panels count what each role can act on now in every term whose window for it is open, one line per
term linking to that term's page: selections awaiting the school (and the principal in the teacher role),
approved trainees awaiting 复核, 扩班 requests awaiting a bureau, and the teacher's open selection rounds.
Terms whose window is closed and rows outside the actor's scope are not counted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peixun.accounts.models import RoleGrant
from peixun.core.roles import Role
from peixun.enrollment import panels, services
from peixun.enrollment.models import Enrollment
from tests.factories import InstitutionFactory, SchoolFactory, TermFactory, make_actor

from .conftest import K, make_class, new_teacher_actor, open_only

pytestmark = pytest.mark.django_db
S = Enrollment.State


def select(klass, school, n):
    return [services.enrollment_select(actor=new_teacher_actor(school), project_class=klass) for _ in range(n)]


def new_term(*open_kinds):
    term = TermFactory()
    open_only(term, *open_kinds)
    return term


def lines(panel):
    return [(w.term.pk, w.count, w.link) for w in panel["work"]]


def home(client, actor, testid="panel-enrollment") -> str:
    """The panel's card on the home page."""
    client.force_login(actor.user)
    html = client.get(reverse("home")).content.decode()
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</div></div>", start)]


@pytest.fixture
def terms(term):
    """``term`` (round 1 open) and a second term with round 1 open too (moved to another window by the tests)."""
    return term, new_term(K.SELECT_R1)


def test_school_panel_counts_every_term_with_review_open(client, principal, school, other_school, terms, institution):
    first, second = terms
    select(make_class(first, institution), school, 2)
    select(make_class(first, institution), other_school, 3)  # another school's: not ours
    select(make_class(second, institution), school, 1)
    closed = new_term(K.SELECT_R1)
    select(make_class(closed, institution), school, 4)
    open_only(closed, K.CONFIRM_R1)  # pending, but no review window open: nothing to do now
    open_only(second, K.PRINCIPAL_R1)

    panel = panels.school_review(principal)
    review = reverse("enrollment:review")
    assert panel["count"] == 3
    assert sorted(lines(panel)) == sorted(
        [(first.pk, 2, f"{review}?term={first.pk}"), (second.pk, 1, f"{review}?term={second.pk}")]
    )
    html = home(client, principal)
    assert html.count('data-testid="panel-term"') == 2 and second.name in html and closed.name not in html

    open_only(first, K.CONFIRM_R1)  # one term left: its page is the panel's link
    panel = panels.school_review(principal)
    assert (panel["count"], panel["link"]) == (1, f"{review}?term={second.pk}")
    open_only(second, K.CONFIRM_R1)
    assert panels.school_review(principal) is None


def test_principal_in_teacher_role_counts_every_term(client, school, teacher_actor, terms, institution):
    first, second = terms
    RoleGrant.objects.create(user=teacher_actor.user, role=Role.SCHOOL, school=school)
    select(make_class(first, institution), school, 1)
    select(make_class(second, institution), school, 2)
    open_only(second, K.PRINCIPAL_R1)

    panel = panels.principal_in_teacher_role(teacher_actor)
    assert panel["count"] == 3 and len(panel["work"]) == 2
    html = home(client, teacher_actor, "panel-principal-switch")
    assert html.count('data-testid="switch-to-term"') == 2
    assert (
        f'value="/enrollment/review/?term={second.pk}"' in html
        and f'value="/enrollment/review/?term={first.pk}"' in html
    )


def test_institution_panel_counts_approved_trainees_where_confirmation_is_open(
    client, inst_actor, principal, school, terms, institution
):
    first, second = terms
    other = InstitutionFactory()
    mine1, mine2, theirs = make_class(first, institution), make_class(second, institution), make_class(first, other)
    closed = new_term(K.SELECT_R1)
    shut = make_class(closed, institution)
    for klass, n in ((mine1, 2), (mine2, 3), (theirs, 4), (shut, 1)):
        services.enrollments_review(actor=principal, enrollments=select(klass, school, n), decision="approve")
    open_only(first, K.CONFIRM_R1)
    open_only(second, K.CONFIRM_R2)
    open_only(closed, K.EXPAND_ACCEPT)

    panel = panels.institution_confirm(inst_actor)
    classes = reverse("enrollment:class_list")
    assert panel["count"] == 5
    assert sorted(lines(panel)) == sorted(
        [(first.pk, 2, f"{classes}?term={first.pk}"), (second.pk, 3, f"{classes}?term={second.pk}")]
    )
    html = home(client, inst_actor)
    assert html.count('data-testid="panel-term"') == 2 and closed.name not in html
    assert panels.institution_confirm(make_actor(Role.INSTITUTION, institution=InstitutionFactory())) is None


def test_bureau_panel_counts_pending_expansions_of_its_region_where_acceptance_is_open(
    client, inst_actor, province_actor, province, county, school, terms, institution
):
    first, second = terms
    closed = new_term(K.SELECT_R1)
    provincial = [make_class(t, institution, region=province) for t in (first, second, closed)]
    local = make_class(second, institution, region=county, level="county")
    for t in (first, second, closed):
        open_only(t, K.EXPAND_REQUEST)
    for klass in (*provincial, local):
        services.expansion_request(actor=inst_actor, project_class=klass, seats=2, reason="报名踊跃")
    open_only(first, K.EXPAND_ACCEPT)
    open_only(second, K.EXPAND_ACCEPT)

    panel = panels.bureau_expansions(province_actor)
    expansions = reverse("enrollment:expansion_list")
    assert panel["count"] == 2  # the county's class is the county's to decide; the third term's window is shut
    assert sorted(lines(panel)) == sorted(
        [
            (first.pk, 1, f"{expansions}?term={first.pk}&status=pending"),
            (second.pk, 1, f"{expansions}?term={second.pk}&status=pending"),
        ]
    )
    county_actor = make_actor(Role.COUNTY, region=county)
    panel = panels.bureau_expansions(county_actor)
    assert (panel["count"], panel["link"]) == (1, f"{expansions}?term={second.pk}&status=pending")
    html = home(client, province_actor)
    assert html.count('data-testid="panel-term"') == 2 and closed.name not in html


def test_teacher_panel_lists_the_rounds_open_to_them(client, teacher_actor, school, terms, institution):
    first, second = terms
    make_class(first, institution)
    make_class(first, institution, days_ahead=60)
    done = make_class(second, institution)
    services.enrollment_select(actor=teacher_actor, project_class=done)  # round 1 of the second term
    make_class(second, institution, days_ahead=60)
    open_only(second, K.SELECT_R2)
    refused = new_term(K.SELECT_R2)  # round 2 of a term where they did not select in round 1: not theirs
    make_class(refused, institution)

    panel = panels.teacher_selection(teacher_actor)
    select_url = reverse("enrollment:select")
    assert sorted(lines(panel)) == sorted(
        [(first.pk, 2, f"{select_url}?term={first.pk}"), (second.pk, 2, f"{select_url}?term={second.pk}")]
    )
    assert [e.project_class_id for e in panel["rows"]] == [done.pk]
    html = home(client, teacher_actor, "panel-selection")
    assert html.count('data-testid="panel-term"') == 2 and refused.name not in html
    assert "2 个班期可选" in html

    open_only(first, K.CONFIRM_R1)  # one round left: the banner of that term and its select page
    panel = panels.teacher_selection(teacher_actor)
    assert panel["term"] == second and panel["rounds"].open_round == 2
    assert panel["link"] == f"{select_url}?term={second.pk}"


def test_school_panel_leaves_out_other_schools_teachers_in_every_term(principal, other_school, terms, institution):
    first, second = terms
    select(make_class(first, institution), other_school, 2)
    select(make_class(second, institution), SchoolFactory(), 2)
    assert panels.school_review(principal) is None


def test_work_api_gives_each_role_the_panels_lines(
    client, principal, teacher_actor, inst_actor, school, terms, institution
):
    from .test_api import get

    first, second = terms
    select(make_class(first, institution), school, 2)
    select(make_class(second, institution), school, 1)
    open_only(second, K.PRINCIPAL_R1)
    rows = get(client, "/api/enrollment/work", principal).json()
    assert sorted((r["term_id"], r["count"], r["kind"]) for r in rows) == sorted(
        [(first.pk, 2, "review"), (second.pk, 1, "review")]
    )
    assert {r["link"] for r in rows} == {f"/enrollment/review/?term={t.pk}" for t in (first, second)}
    rows = get(client, "/api/enrollment/work", teacher_actor).json()
    assert [(r["term_id"], r["window"], r["count"], r["open_for_me"]) for r in rows] == [
        (first.pk, "select_r1", 1, True)
    ]
    assert get(client, "/api/enrollment/work", inst_actor).json() == []
