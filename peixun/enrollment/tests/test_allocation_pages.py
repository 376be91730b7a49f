# ruff: noqa: F811  (fixtures imported from allocation_helpers are redefined as test parameters)
"""Pages of the fair allocation mode: the teacher's preferences and results, runs, verification."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peixun.core.models import Job
from peixun.core.roles import Role
from peixun.enrollment.models import AllocationRun, Preference
from peixun.enrollment.services.allocation import allocation_execute, allocation_start
from peixun.terms.models import Term
from tests.factories import TermFactory, make_actor, term_windows_open

from .allocation_helpers import (  # noqa: F401  (fixtures)
    fair_term,
    make_class,
    policy,
    province_actor,
    rank,
    teacher_with_credits,
)

pytestmark = pytest.mark.django_db
MINE = reverse("enrollment:allocation_mine")
HOME = reverse("enrollment:allocation_home")


def login(client, actor):
    client.force_login(actor.user)
    return client


@pytest.fixture
def open_term(db):
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    term_windows_open(term, "select_r1")
    return term


def test_teacher_ranks_and_reorders_on_the_page(client, open_term, school):
    a, b, c = (make_class(open_term, starts_in=30 + 10 * n) for n in range(3))
    teacher = teacher_with_credits(school, 0)
    rank(teacher.user.teacher, open_term, a, b)
    login(client, teacher)
    page = client.get(MINE).content.decode()
    assert "我的志愿" in page and "志愿填报时段" in page
    assert page.index(a.project.name) < page.index(b.project.name)
    assert c.project.name in page  # a candidate to add
    client.post(MINE, {"term": open_term.pk, "class": b.pk, "action": "up"})
    assert list(Preference.objects.order_by("rank").values_list("project_class_id", flat=True)) == [b.pk, a.pk]
    client.post(MINE, {"term": open_term.pk, "class": b.pk, "action": "remove"})
    assert list(Preference.objects.values_list("project_class_id", "rank")) == [(a.pk, 1)]
    response = client.post(MINE, {"term": open_term.pk, "action": "wanted", "wanted": "2"}, follow=True)
    assert "已保存" in response.content.decode() or response.status_code == 200
    assert Preference.objects.get().preference_list.wanted == 2
    response = client.post(MINE, {"term": open_term.pk, "action": "wanted", "wanted": "99"}, follow=True)
    assert "可申请 1 至 3 门课程" in response.content.decode()
    response = client.post(MINE, {"term": open_term.pk, "class": "999999", "action": "remove"}, follow=True)
    assert "该班级不在您的志愿中" in response.content.decode()


def test_teacher_sees_results_with_reasons(client, policy, fair_term, province_actor, school):
    klass = make_class(fair_term, capacity=1)
    winner = teacher_with_credits(school, 0)
    loser = teacher_with_credits(school, 20)
    for a in (winner, loser):
        rank(a.user.teacher, fair_term, klass)
    run = allocation_execute(allocation_start(actor=province_actor, term=fair_term, seed=3).pk)
    page = login(client, loser).get(MINE).content.decode()
    assert "分配结果" in page and "低于录取线" in page and str(run.seed) in page
    assert "加入志愿" not in page  # the window is closed
    page = login(client, winner).get(MINE).content.decode()
    assert "获得第1志愿" in page


def test_fcfs_term_explains_there_is_nothing_to_rank(client, school):
    TermFactory()
    teacher = teacher_with_credits(school, 0)
    page = login(client, teacher).get(MINE).content.decode()
    assert "先到先得" in page or "没有学期采用志愿分配" in page


def test_province_starts_the_run_from_the_page(client, policy, fair_term, province_actor, school):
    klass = make_class(fair_term, capacity=1)
    rank(teacher_with_credits(school, 0).user.teacher, fair_term, klass)
    login(client, province_actor)
    page = client.get(HOME).content.decode()
    assert "开始分配" in page and 'data-testid="submitted-teachers">1<' in page
    response = client.post(HOME, {"term": fair_term.pk, "seed": "2024"})
    run = AllocationRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("enrollment:allocation_run", args=[run.pk])
    assert run.seed == 2024 and run.job.status == Job.Status.QUEUED
    response = client.post(HOME, {"term": fair_term.pk, "seed": ""})
    assert "正在进行" in response.content.decode() and AllocationRun.objects.count() == 1
    response = client.post(HOME, {"term": fair_term.pk, "seed": "-5"})
    assert AllocationRun.objects.count() == 1 and response.status_code == 200


def test_bureau_cannot_start_but_sees_runs(client, policy, fair_term, province_actor, school):
    county = make_actor(Role.COUNTY, region=school.county)
    login(client, county)
    page = client.get(HOME).content.decode()
    assert "开始分配" not in page and "本学期尚未进行名额分配" in page
    client.post(HOME, {"term": fair_term.pk, "seed": "1"})
    assert not AllocationRun.objects.exists()
    assert client.get(HOME + "?term=abc").status_code == 404
    assert client.get(HOME + "?term=999999").status_code == 404


def test_run_page_verifies_and_is_scoped(client, policy, fair_term, province_actor, school, other_school):
    klass = make_class(fair_term, capacity=1)
    ours = teacher_with_credits(school, 0)
    theirs = teacher_with_credits(other_school, 0)
    for a in (ours, theirs):
        rank(a.user.teacher, fair_term, klass)
    run = allocation_execute(allocation_start(actor=province_actor, term=fair_term, seed=11).pk)
    url = reverse("enrollment:allocation_run", args=[run.pk])

    principal = make_actor(Role.SCHOOL, school=school)
    page = login(client, principal).get(url).content.decode()
    assert ours.user.teacher.name in page and theirs.user.teacher.name not in page
    response = client.post(url, {"action": "verify"})
    assert "结果一致" in response.content.decode()

    page = login(client, province_actor).get(url).content.decode()
    assert ours.user.teacher.name in page and theirs.user.teacher.name in page
    page = login(client, province_actor).get(url + "?outcome=full").content.decode()
    assert page.count('data-testid="result-row"') == 1
    assert login(client, theirs).get(url).status_code == 200
    assert client.get(reverse("enrollment:allocation_run", args=[run.pk + 99])).status_code == 404


def test_run_page_query_count_does_not_grow(client, policy, fair_term, province_actor, school):
    from peixun.catalog.models import ProjectClass
    from peixun.enrollment.models import Enrollment

    classes = [make_class(fair_term, capacity=1, starts_in=20 + 7 * n) for n in range(3)]

    def queries():
        AllocationRun.objects.all().delete()
        Enrollment.objects.all().delete()
        ProjectClass.objects.update(seats_taken=0)
        run = allocation_execute(allocation_start(actor=province_actor, term=fair_term, seed=1).pk)
        login(client, province_actor)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("enrollment:allocation_run", args=[run.pk])).status_code == 200
        return len(ctx)

    for _ in range(2):
        rank(teacher_with_credits(school, 0).user.teacher, fair_term, *classes)
    few = queries()
    for _ in range(6):
        rank(teacher_with_credits(school, 0).user.teacher, fair_term, *classes)
    assert queries() == few


def test_selection_page_points_to_the_ranking_in_the_fair_mode(client, open_term, school):
    make_class(open_term)
    teacher = teacher_with_credits(school, 0)
    page = login(client, teacher).get(reverse("enrollment:select") + f"?term={open_term.pk}").content.decode()
    assert 'data-testid="rank-link"' in page and "填报志愿" in page
