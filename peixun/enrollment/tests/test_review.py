"""Principal review, 复核 and 扩班: rules, windows, transitions, seats and the waitlist."""

from __future__ import annotations

import pytest

from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.enrollment import selectors, services
from peixun.enrollment.models import ClassExpansion, Enrollment
from tests.factories import InstitutionFactory, make_actor

from .conftest import K, make_class, new_teacher_actor, open_only
from .test_selection import assert_seats

pytestmark = pytest.mark.django_db
S = Enrollment.State


def fill(klass, school, n):
    return [services.enrollment_select(actor=new_teacher_actor(school), project_class=klass) for _ in range(n)]


# --- principal review -------------------------------------------------------------------------


def test_principal_approves_and_rejects_with_reason(principal, school, klass):
    a, b = fill(klass, school, 2)
    services.enrollment_review(actor=principal, enrollment=a, decision="approve")
    with pytest.raises(InvalidInput):
        services.enrollment_review(actor=principal, enrollment=b, decision="reject")
    services.enrollment_review(actor=principal, enrollment=b, decision="reject", reason="教学任务重")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, b.state, b.reason) == (S.APPROVED, S.REJECTED, "教学任务重")
    assert a.decided_by == principal.user and assert_seats(klass) == 1
    assert Notification.objects.filter(user__teacher=b.teacher, body="教学任务重").exists()
    assert AuditLog.objects.filter(action="enrollment.review").count() == 2
    with pytest.raises(Conflict):  # already decided
        services.enrollment_review(actor=principal, enrollment=a, decision="reject", reason="x")


def test_rejection_frees_the_seat_for_the_waitlist(principal, school, term, institution):
    small = make_class(term, institution, capacity=1)
    seat, waiting = fill(small, school, 2)
    assert waiting.state == S.WAITLISTED
    result = services.enrollments_review(actor=principal, enrollments=[seat.pk], decision="reject", reason="不符合")
    assert [e.pk for e in result.promoted] == [waiting.pk]
    waiting.refresh_from_db()
    assert waiting.state == S.SELECTED and assert_seats(small) == 1


def test_bulk_review_skips_what_it_may_not_decide(principal, school, other_school, klass):
    mine = fill(klass, school, 3)
    theirs = fill(klass, other_school, 1)
    services.enrollment_review(actor=principal, enrollment=mine[0], decision="approve")
    result = services.enrollments_review(
        actor=principal, enrollments=[e.pk for e in mine] + [theirs[0].pk], decision="approve"
    )
    assert sorted(e.pk for e in result.done) == sorted(e.pk for e in mine[1:])
    assert {pk for pk, _why in result.skipped} == {mine[0].pk, theirs[0].pk}
    theirs[0].refresh_from_db()
    assert theirs[0].state == S.SELECTED
    with pytest.raises(NotFound):
        services.enrollment_review(actor=principal, enrollment=theirs[0], decision="approve")


def test_review_needs_an_open_window_and_the_school_role(principal, teacher_actor, school, term, klass):
    (e,) = fill(klass, school, 1)
    with pytest.raises(PermissionDenied):
        services.enrollment_review(actor=teacher_actor, enrollment=e, decision="approve")
    open_only(term, K.CONFIRM_R1)
    with pytest.raises(WindowClosed):
        services.enrollment_review(actor=principal, enrollment=e, decision="approve")
    open_only(term, K.PRINCIPAL_R1)
    assert services.enrollment_review(actor=principal, enrollment=e, decision="approve").state == S.APPROVED
    with pytest.raises(InvalidInput):
        services.enrollments_review(actor=principal, enrollments=[], decision="approve")
    with pytest.raises(InvalidInput):
        services.enrollments_review(actor=principal, enrollments=[e.pk], decision="maybe")


def test_review_list_filters(principal, school, other_school, klass):
    a, b = fill(klass, school, 2)
    fill(klass, other_school, 1)
    services.enrollment_review(actor=principal, enrollment=a, decision="approve")
    assert list(selectors.review_list(actor=principal)) == [b]
    assert list(selectors.review_list(actor=principal, state=S.APPROVED)) == [a]
    assert list(selectors.review_list(actor=principal, state="", query=a.teacher.name)) == [a]


# --- 复核 -------------------------------------------------------------------------------------


def approved(principal, school, klass, n):
    rows = fill(klass, school, n)
    services.enrollments_review(actor=principal, enrollments=rows, decision="approve")
    for e in rows:
        e.refresh_from_db()
    return rows


def test_institution_confirms_and_declines(principal, inst_actor, school, term, klass):
    a, b, c = approved(principal, school, klass, 3)
    (pending,) = fill(klass, school, 1)
    with pytest.raises(WindowClosed):
        services.enrollment_confirm(actor=inst_actor, enrollment=a, decision="approve")
    open_only(term, K.CONFIRM_R1)
    services.enrollments_confirm(actor=inst_actor, enrollments=[a, b], decision="approve")
    services.enrollment_confirm(actor=inst_actor, enrollment=c, decision="reject", reason="不满足参训条件")
    with pytest.raises(Conflict):  # not approved by the school yet
        services.enrollment_confirm(actor=inst_actor, enrollment=pending, decision="approve")
    assert sorted(e.pk for e in selectors.roster(actor=inst_actor, project_class=klass)) == sorted([a.pk, b.pk])
    c.refresh_from_db()
    assert c.state == S.DECLINED and assert_seats(klass) == 3  # two confirmed + the pending one
    assert Notification.objects.filter(user__teacher=a.teacher, title__contains="名单").exists()


def test_another_institution_cannot_confirm(principal, school, term, klass):
    (a,) = approved(principal, school, klass, 1)
    open_only(term, K.CONFIRM_R1)
    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    with pytest.raises(NotFound):
        services.enrollment_confirm(actor=other, enrollment=a, decision="approve")


# --- 扩班 -------------------------------------------------------------------------------------


def test_expansion_request_rules(inst_actor, term, klass, institution):
    with pytest.raises(WindowClosed):
        services.expansion_request(actor=inst_actor, project_class=klass, seats=5, reason="报名踊跃")
    open_only(term, K.EXPAND_REQUEST)
    with pytest.raises(InvalidInput):
        services.expansion_request(actor=inst_actor, project_class=klass, seats=0, reason="报名踊跃")
    with pytest.raises(InvalidInput):
        services.expansion_request(actor=inst_actor, project_class=klass, seats=5, reason=" ")
    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    with pytest.raises(NotFound):
        services.expansion_request(actor=other, project_class=klass, seats=5, reason="报名踊跃")
    x = services.expansion_request(actor=inst_actor, project_class=klass, seats=5, reason="报名踊跃")
    assert x.status == ClassExpansion.Status.PENDING and x.capacity_before == 20
    with pytest.raises(Conflict):
        services.expansion_request(actor=inst_actor, project_class=klass, seats=3, reason="再加")


def test_accepted_seats_go_to_the_waitlist_in_order(inst_actor, province_actor, principal, school, term, institution):
    small = make_class(term, institution, capacity=2)
    fill(small, school, 2)
    w = fill(small, school, 4)
    assert [e.state for e in w] == [S.WAITLISTED] * 4
    open_only(term, K.EXPAND_REQUEST)
    x = services.expansion_request(actor=inst_actor, project_class=small, seats=5, reason="报名踊跃")
    open_only(term, K.EXPAND_ACCEPT)
    county_actor = make_actor(Role.COUNTY, region=school.county)
    with pytest.raises((PermissionDenied, NotFound)):
        services.expansion_decide(actor=county_actor, expansion=x, seats_accepted=3)
    with pytest.raises(InvalidInput):
        services.expansion_decide(actor=province_actor, expansion=x, seats_accepted=6)
    x = services.expansion_decide(actor=province_actor, expansion=x, seats_accepted=3, note="同意扩班3人")
    assert (x.status, x.seats_accepted, x.promoted) == (ClassExpansion.Status.PARTLY, 3, 3)
    states = [Enrollment.objects.get(pk=e.pk).state for e in w]
    assert states == [S.SELECTED, S.SELECTED, S.SELECTED, S.WAITLISTED]
    small.refresh_from_db()
    assert small.capacity == 5 and assert_seats(small) == 5
    assert Notification.objects.filter(user__teacher=w[0].teacher, title__contains="候补成功").exists()
    assert Notification.objects.filter(user=inst_actor.user, kind="enrollment.expansion").exists()
    with pytest.raises(Conflict):
        services.expansion_decide(actor=province_actor, expansion=x, seats_accepted=1)


def test_declining_needs_a_reason_and_changes_no_capacity(inst_actor, province_actor, term, klass):
    open_only(term, K.EXPAND_REQUEST)
    x = services.expansion_request(actor=inst_actor, project_class=klass, seats=5, reason="报名踊跃")
    open_only(term, K.EXPAND_ACCEPT)
    with pytest.raises(InvalidInput):
        services.expansion_decide(actor=province_actor, expansion=x, seats_accepted=0)
    x = services.expansion_decide(actor=province_actor, expansion=x, seats_accepted=0, note="场地容量不足")
    klass.refresh_from_db()
    assert x.status == ClassExpansion.Status.DECLINED and klass.capacity == 20
