"""Pausing a selection round (SPEC §6): the province for everyone or a bureau for its own teachers posts a
notice; paused teachers are refused with it and see it as a banner; resuming extends the window by the
paused time; every step is audited. Through the services, the term page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from peixun.core.errors import Conflict, InvalidInput, PermissionDenied
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.enrollment import services
from peixun.enrollment.models import Enrollment
from peixun.terms import services as term_services
from peixun.terms.models import RoundPause, Window, WindowExtension
from peixun.terms.windows import RoundPaused
from tests.factories import make_actor

from .conftest import K, new_teacher_actor
from .test_api import bearer, post

pytestmark = pytest.mark.django_db
NOTICE = "系统维护中，预计10:30恢复选课。"


def window(term):
    return Window.objects.get(term=term, kind=K.SELECT_R1)


def test_province_pause_refuses_selection_with_the_notice_and_resume_extends_the_window(
    term, klass, teacher_actor, province_actor
):
    pause = term_services.round_pause(actor=province_actor, term=term, kind=K.SELECT_R1, notice=NOTICE)
    with pytest.raises(RoundPaused) as refused:
        services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert NOTICE in refused.value.message and "已暂停" in refused.value.message
    assert not Enrollment.objects.exists() and klass.__class__.objects.get(pk=klass.pk).seats_taken == 0

    closes = window(term).ends_at
    RoundPause.objects.filter(pk=pause.pk).update(started_at=timezone.now() - timedelta(minutes=25, seconds=10))
    term_services.round_resume(actor=province_actor, pause=pause)
    assert window(term).ends_at == closes + timedelta(minutes=26)  # whole minutes, rounded up
    extension = WindowExtension.objects.get(window__term=term)
    assert "26" in extension.reason and extension.old_ends_at == closes
    assert services.enrollment_select(actor=teacher_actor, project_class=klass).state == Enrollment.State.SELECTED
    actions = list(AuditLog.objects.filter(action__startswith="terms.round").values_list("action", flat=True))
    assert sorted(actions) == ["terms.round.pause", "terms.round.resume"]


def test_a_county_pause_stops_only_its_own_teachers(term, klass, county, other_school, teacher_actor):
    bureau = make_actor(Role.COUNTY, region=county)
    term_services.round_pause(actor=bureau, term=term, kind=K.SELECT_R1, notice=NOTICE)
    with pytest.raises(RoundPaused):
        services.enrollment_select(actor=teacher_actor, project_class=klass)  # teacher_actor's school is in county
    elsewhere = new_teacher_actor(other_school)
    assert services.enrollment_select(actor=elsewhere, project_class=klass).state == Enrollment.State.SELECTED
    # Another county's bureau may not lift it; the province may.
    other_bureau = make_actor(Role.COUNTY, region=other_school.county)
    pause = RoundPause.objects.get()
    with pytest.raises(PermissionDenied):
        term_services.round_resume(actor=other_bureau, pause=pause)
    assert RoundPause.objects.get().ended_at is None


def _pauses_by_two_counties(term, county, other_county, spans):
    """Two county bureaus pause round 1 over ``spans`` (minutes from now: (start, end) each); the window's
    closing time after both resumed."""
    base = timezone.now()
    closes = window(term).ends_at
    bureaus = [make_actor(Role.COUNTY, region=county), make_actor(Role.COUNTY, region=other_county)]
    events = []
    for bureau, (start, end) in zip(bureaus, spans):
        events += [(start, "pause", bureau), (end, "resume", bureau)]
    pauses = {}
    for minute, what, bureau in sorted(events, key=lambda e: (e[0], e[1] == "pause")):
        at = base + timedelta(minutes=minute)
        if what == "pause":
            pauses[bureau] = term_services.round_pause(actor=bureau, term=term, kind=K.SELECT_R1, notice=NOTICE, now=at)
        else:
            term_services.round_resume(actor=bureau, pause=pauses[bureau], now=at)
    assert not window(term).paused
    return window(term).ends_at - closes


@pytest.mark.parametrize(
    ("spans", "lost"),
    [
        pytest.param([(0, 30), (10, 50)], 50, id="overlapping"),
        pytest.param([(0, 50), (10, 30)], 50, id="nested, the inner one resumed first"),
        pytest.param([(10, 30), (0, 50)], 50, id="nested, the outer one paused second"),
        pytest.param([(0, 20), (30, 45)], 35, id="disjoint"),
        pytest.param([(0, 20), (20, 30)], 30, id="one after the other"),
    ],
)
def test_overlapping_regional_pauses_extend_the_window_by_the_time_lost_once(term, county, other_county, spans, lost):
    assert _pauses_by_two_counties(term, county, other_county, spans) == timedelta(minutes=lost)
    extensions = WindowExtension.objects.filter(window__term=term)
    assert sum((e.new_ends_at - e.old_ends_at for e in extensions), timedelta(0)) == timedelta(minutes=lost)
    audited = AuditLog.objects.filter(action="terms.round.resume")
    assert sum(a.after["extended_minutes"] for a in audited) == lost


def test_a_resume_inside_an_earlier_pause_says_how_much_it_adds(term, county, other_county):
    _pauses_by_two_counties(term, county, other_county, [(0, 30), (10, 50)])
    second = WindowExtension.objects.filter(window__term=term).order_by("pk").last()
    assert second.new_ends_at - second.old_ends_at == timedelta(minutes=20)
    assert "40" in second.reason and "20" in second.reason and "顺延" in second.reason


def test_pause_rules(term, province_actor, principal):
    with pytest.raises(InvalidInput):
        term_services.round_pause(actor=province_actor, term=term, kind=K.SELECT_R1, notice="  ")
    with pytest.raises(InvalidInput):
        term_services.round_pause(actor=province_actor, term=term, kind=K.CONFIRM_R1, notice=NOTICE)
    with pytest.raises(Conflict):  # round 2's window is not open
        term_services.round_pause(actor=province_actor, term=term, kind=K.SELECT_R2, notice=NOTICE)
    with pytest.raises(PermissionDenied):
        term_services.round_pause(actor=principal, term=term, kind=K.SELECT_R1, notice=NOTICE)
    pause = term_services.round_pause(actor=province_actor, term=term, kind=K.SELECT_R1, notice=NOTICE)
    with pytest.raises(Conflict):
        term_services.round_pause(actor=province_actor, term=term, kind=K.SELECT_R1, notice=NOTICE)
    term_services.round_resume(actor=province_actor, pause=pause)
    with pytest.raises(Conflict):
        term_services.round_resume(actor=province_actor, pause=pause)
    assert RoundPause.objects.count() == 1 and AuditLog.objects.filter(action="terms.round.pause").count() == 1


def test_term_page_pauses_and_resumes_and_teachers_see_the_banner(client, term, klass, teacher_actor, province_actor):
    client.force_login(province_actor.user)
    url = reverse("terms:term_detail", args=[term.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="pause"' in page
    client.post(url, {"form": "pause", "kind": K.SELECT_R1, "notice": NOTICE})
    assert RoundPause.objects.filter(ended_at__isnull=True).count() == 1

    client.force_login(teacher_actor.user)
    select = client.get(reverse("enrollment:select")).content.decode()
    assert 'data-testid="round-paused"' in select and NOTICE in select and "第1轮选课已暂停" in select
    assert "data-select-button disabled" in select
    refused = client.post(reverse("enrollment:select"), {"class": klass.pk}, follow=True).content.decode()
    assert NOTICE in refused and not Enrollment.objects.exists()
    assert 'data-testid="round-paused"' in client.get(reverse("home")).content.decode()

    client.force_login(province_actor.user)
    pause = RoundPause.objects.get()
    client.post(url, {"form": "resume", "pause": pause.pk})
    assert RoundPause.objects.get().ended_at is not None
    client.force_login(teacher_actor.user)
    assert 'data-testid="round-paused"' not in client.get(reverse("enrollment:select")).content.decode()


def test_api_pause_and_resume(client, term, klass, teacher_actor, province_actor):
    r = post(client, f"/api/terms/terms/{term.pk}/pauses", province_actor, {"kind": K.SELECT_R1, "notice": NOTICE})
    assert r.status_code == 201 and r.json()["is_active"] and r.json()["notice"] == NOTICE
    pause_id = r.json()["id"]
    windows = client.get(f"/api/terms/terms/{term.pk}", **bearer(teacher_actor)).json()["windows"]
    assert [w["paused"] for w in windows if w["kind"] == K.SELECT_R1] == [True]
    refused = post(client, "/api/enrollment/select", teacher_actor, {"class_id": klass.pk})
    assert refused.status_code == 409 and refused.json()["code"] == "round_paused"
    state = client.get("/api/enrollment/round", **bearer(teacher_actor)).json()
    assert state["open_round"] == 1 and state["paused"] and state["notice"] == NOTICE
    assert NOTICE in refused.json()["message"]
    denied = post(client, f"/api/terms/terms/{term.pk}/pauses", teacher_actor, {"kind": K.SELECT_R1, "notice": NOTICE})
    assert denied.status_code == 403
    listing = client.get(f"/api/terms/terms/{term.pk}/pauses", **bearer(teacher_actor))
    assert listing.status_code == 200 and listing.json()["items"][0]["id"] == pause_id
    resumed = post(client, f"/api/terms/pauses/{pause_id}/resume", province_actor, {})
    assert resumed.status_code == 200 and not resumed.json()["is_active"]
    assert post(client, "/api/enrollment/select", teacher_actor, {"class_id": klass.pk}).status_code == 200
    assert not client.get("/api/enrollment/round", **bearer(teacher_actor)).json()["paused"]
