# ruff: noqa: F811  (fixtures imported from allocation_helpers are redefined as test parameters)
"""Ranked preferences: the window, the fair mode, eligibility, idempotence, order, the page and API."""

import pytest
from django.urls import reverse

from peixun.accounts.services import token_create
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.enrollment.models import Preference, PreferenceList
from peixun.enrollment.services import allocation as services
from peixun.terms.models import Term
from tests.factories import TermFactory, make_actor, term_windows_open

from .allocation_helpers import make_class, teacher_with_credits, zh  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("zh")]


@pytest.fixture
def open_term(db):
    term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    term_windows_open(term, "select_r1")
    return term


@pytest.fixture
def teacher(school):
    return teacher_with_credits(school, 0)


def order(actor, term):
    plist = PreferenceList.objects.get(term=term, teacher_id=actor.teacher_id)
    return list(plist.preferences.order_by("rank").values_list("project_class_id", flat=True))


def test_add_rank_reorder_remove(open_term, teacher):
    a, b, c = (make_class(open_term, starts_in=30 + 10 * n) for n in range(3))
    for klass in (a, b, c):
        services.preference_add(actor=teacher, project_class=klass)
    assert order(teacher, open_term) == [a.pk, b.pk, c.pk]
    again = services.preference_add(actor=teacher, project_class=b)  # a double click
    assert again.rank == 2 and Preference.objects.count() == 3
    services.preference_reorder(actor=teacher, term=open_term, class_ids=[c.pk, a.pk, b.pk])
    assert order(teacher, open_term) == [c.pk, a.pk, b.pk]
    services.preference_move(actor=teacher, term=open_term, project_class_id=b.pk, up=True)
    assert order(teacher, open_term) == [c.pk, b.pk, a.pk]
    services.preference_remove(actor=teacher, term=open_term, project_class_id=c.pk)
    assert order(teacher, open_term) == [b.pk, a.pk]
    assert list(Preference.objects.order_by("rank").values_list("rank", flat=True)) == [1, 2]
    for bad in ([a.pk], [a.pk, a.pk], [a.pk, b.pk, c.pk]):
        with pytest.raises(InvalidInput, match="仅列出一次"):
            services.preference_reorder(actor=teacher, term=open_term, class_ids=bad)
    with pytest.raises(NotFound):
        services.preference_remove(actor=teacher, term=open_term, project_class_id=c.pk)
    services.preference_set_wanted(actor=teacher, term=open_term, wanted=3)
    for bad in (0, 4, True):
        with pytest.raises(InvalidInput, match="1 至 3"):
            services.preference_set_wanted(actor=teacher, term=open_term, wanted=bad)
    assert AuditLog.objects.filter(action="enrollment.preference.add").count() == 3


def test_eligibility_is_checked_when_adding(open_term, teacher):
    wrong_subject = make_class(open_term, target_subjects=",chinese,")
    with pytest.raises(Conflict, match="语文") as info:
        services.preference_add(actor=teacher, project_class=wrong_subject)
    assert info.value.code == "not_eligible"
    started = make_class(open_term, starts_in=-1)
    with pytest.raises(Conflict, match="已开班"):
        services.preference_add(actor=teacher, project_class=started)
    assert not Preference.objects.exists()


def test_only_in_the_fair_mode_and_the_window(teacher, school):
    fcfs = TermFactory()
    term_windows_open(fcfs, "select_r1")
    with pytest.raises(Conflict, match="先到先得"):
        services.preference_add(actor=teacher, project_class=make_class(fcfs))
    closed = TermFactory(selection_mode=Term.SelectionMode.FAIR)  # 2024 windows: long closed
    with pytest.raises(WindowClosed):
        services.preference_add(actor=teacher, project_class=make_class(closed))
    with pytest.raises(WindowClosed):
        services.preference_set_wanted(actor=teacher, term=closed, wanted=1)
    with pytest.raises(PermissionDenied):
        services.preference_add(actor=make_actor(Role.SCHOOL, school=school), project_class=make_class(closed))


def test_at_most_ten(open_term, teacher):
    classes = [make_class(open_term, starts_in=20 + 7 * n, days=1) for n in range(services.MAX_PREFERENCES + 1)]
    for klass in classes[:-1]:
        services.preference_add(actor=teacher, project_class=klass)
    with pytest.raises(Conflict, match="最多可填报 10 个志愿"):
        services.preference_add(actor=teacher, project_class=classes[-1])


def test_page_and_api_add(client, open_term, teacher):
    klass = make_class(open_term)
    other = make_class(open_term, starts_in=60)
    client.force_login(teacher.user)
    url = reverse("enrollment:allocation_mine")
    response = client.post(url, {"term": open_term.pk, "class": klass.pk, "action": "add"}, follow=True)
    assert "已添加为第1志愿" in response.content.decode()
    _token, raw = token_create(actor=teacher, name="t")
    api = f"/api/enrollment/allocation/terms/{open_term.pk}/preferences"
    added = client.post(
        api, {"class_id": other.pk}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert added.status_code == 201 and [p["class_id"] for p in added.json()["preferences"]] == [klass.pk, other.pk]
    moved = client.put(
        f"{api}/order",
        {"class_ids": [other.pk, klass.pk]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert [p["rank"] for p in moved.json()["preferences"]] == [1, 2]
    assert moved.json()["preferences"][0]["class_id"] == other.pk
    wanted = client.put(
        f"{api}/wanted", {"wanted": 2}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert wanted.json()["wanted"] == 2
    gone = client.delete(f"{api}/{klass.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [p["class_id"] for p in gone.json()["preferences"]] == [other.pk]


def test_ranking_in_round_one_opens_round_two(teacher):
    from peixun.enrollment.services import check_eligibility

    term = TermFactory(selection_mode=Term.SelectionMode.FAIR)
    term_windows_open(term, "select_r2")
    klass = make_class(term)
    with pytest.raises(Conflict, match="第一轮") as info:
        check_eligibility(teacher=teacher.user.teacher, project_class=klass, round=2)
    assert info.value.details["rule"] == "round2"
    plist = PreferenceList.objects.create(term=term, teacher_id=teacher.teacher_id)
    Preference.objects.create(preference_list=plist, project_class=make_class(term, starts_in=80), rank=1)
    check_eligibility(teacher=teacher.user.teacher, project_class=klass, round=2)  # ranked, got nothing: may select
