"""Selection (round 1 and 2), eligibility, seats, the waitlist and withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.catalog import services as catalog_services
from peixun.core.choices import Stage, Subject, join_codes
from peixun.core.errors import Conflict, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.enrollment import services
from peixun.enrollment.models import Enrollment, EnrollmentEvent
from peixun.enrollment.services import ClassFull, NotEligible
from peixun.roster.models import Teacher
from peixun.terms.models import Term
from tests.factories import CountyFactory, SchoolFactory, make_actor

from .conftest import K, make_class, new_teacher_actor, open_only

pytestmark = pytest.mark.django_db
S = Enrollment.State


def assert_seats(project_class):
    project_class.refresh_from_db()
    holding = Enrollment.objects.filter(project_class=project_class).holding_seats().count()
    assert project_class.seats_taken == holding <= project_class.capacity
    return holding


def rule_of(excinfo) -> str:
    return excinfo.value.details["rule"]


# --- selecting --------------------------------------------------------------------------------


def test_select_takes_a_seat_records_and_notifies(teacher_actor, klass):
    e = services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert e.state == S.SELECTED and e.round == 1 and e.holds_seat
    assert assert_seats(klass) == 1
    assert EnrollmentEvent.objects.get(enrollment=e).to_state == S.SELECTED
    assert AuditLog.objects.filter(action="enrollment.select", object_id=str(e.pk)).exists()
    assert Notification.objects.filter(user=teacher_actor.user, kind="enrollment").count() == 1


def test_retries_and_double_clicks_return_the_same_enrollment(teacher_actor, klass):
    first = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-1")
    again = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-1")
    click = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-2")
    plain = services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert first.pk == again.pk == click.pk == plain.pk
    assert Enrollment.objects.count() == 1 and assert_seats(klass) == 1


def test_retry_with_the_same_key_after_withdrawal_does_not_enrol_again(teacher_actor, klass):
    first = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-1")
    services.enrollment_withdraw(actor=teacher_actor, enrollment=first)
    again = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-1")
    assert again.pk == first.pk and again.state == S.WITHDRAWN
    assert assert_seats(klass) == 0
    # a new request (new key) may select it again
    fresh = services.enrollment_select(actor=teacher_actor, project_class=klass, request_key="k-2")
    assert fresh.pk != first.pk and fresh.state == S.SELECTED


def test_only_teachers_select(principal, klass):
    with pytest.raises(PermissionDenied):
        services.enrollment_select(actor=principal, project_class=klass)


def test_window_closed_says_when_it_opens(teacher_actor, term, klass):
    open_only(term)
    with pytest.raises(WindowClosed) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert "选课" in exc.value.message or "已结束" in exc.value.message
    assert not Enrollment.objects.exists() and assert_seats(klass) == 0


def test_fair_mode_term_refuses_first_come_selection_in_round_1(teacher_actor, term, klass):
    Term.objects.filter(pk=term.pk).update(selection_mode=Term.SelectionMode.FAIR)
    klass.project.term.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert exc.value.code == "fair_mode"


# --- eligibility ------------------------------------------------------------------------------


def test_target_stage_subject_region_and_rural(teacher, teacher_actor, term, institution, province):
    senior = make_class(term, institution, target_stages=join_codes([Stage.SENIOR]))
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=senior)
    assert rule_of(exc) == "stage" and "高中" in exc.value.message

    english = make_class(term, institution, target_subjects=join_codes([Subject.ENGLISH]))
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=english)
    assert rule_of(exc) == "subject"

    elsewhere = make_class(term, institution)
    elsewhere.project.target_regions.set([CountyFactory(parent__parent=province)])
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=elsewhere)
    assert rule_of(exc) == "region"

    rural = make_class(term, institution, rural_only=True)
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=rural)
    assert rule_of(exc) == "rural"
    assert not Enrollment.objects.exists()

    # targeting the teacher's city (an ancestor of the county) is fine
    mine = make_class(term, institution, target_stages=join_codes([teacher.stage]))
    mine.project.target_regions.set([teacher.school.county.parent])
    assert services.enrollment_select(actor=teacher_actor, project_class=mine).state == S.SELECTED


def test_rural_teacher_may_take_a_rural_only_class(term, institution, county):
    actor = new_teacher_actor(SchoolFactory(county=county, is_rural=True))
    rural = make_class(term, institution, rural_only=True)
    assert services.enrollment_select(actor=actor, project_class=rural).state == S.SELECTED


def test_started_class_unpublished_project_and_teacher_who_left(teacher, teacher_actor, term, institution):
    started = make_class(term, institution, days_ahead=0)
    with pytest.raises(NotEligible):
        services.enrollment_select(actor=teacher_actor, project_class=started)
    draft = make_class(term, institution, status="approved")  # not published: outside a teacher's scope
    with pytest.raises(NotFound):
        services.enrollment_select(actor=teacher_actor, project_class=draft)
    ok = make_class(term, institution)
    Teacher.objects.filter(pk=teacher.pk).update(status=Teacher.Status.LEFT)
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=ok)
    assert rule_of(exc) == "teacher"


def test_overlapping_dates_are_refused(teacher_actor, term, institution):
    first = make_class(term, institution, days_ahead=30, length=5)
    services.enrollment_select(actor=teacher_actor, project_class=first)
    overlapping = make_class(term, institution, days_ahead=34, length=3)
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=overlapping)
    assert rule_of(exc) == "overlap" and first.project.name in exc.value.message
    after = make_class(term, institution, days_ahead=35, length=3)
    assert services.enrollment_select(actor=teacher_actor, project_class=after).state == S.SELECTED


def test_another_class_of_the_same_project_is_refused(teacher_actor, term, klass):
    from tests.factories import ProjectClassFactory

    second = ProjectClassFactory(
        project=klass.project,
        starts_on=klass.starts_on + timedelta(days=40),
        ends_on=klass.ends_on + timedelta(days=40),
    )
    services.enrollment_select(actor=teacher_actor, project_class=klass)
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=second)
    assert rule_of(exc) == "duplicate"


def test_per_teacher_limit_counts_active_places_only(teacher_actor, term, institution):
    Term.objects.filter(pk=term.pk).update(per_teacher_limit=2)
    classes = [make_class(term, institution, days_ahead=20 + 10 * i) for i in range(3)]
    a = services.enrollment_select(actor=teacher_actor, project_class=classes[0])
    services.enrollment_select(actor=teacher_actor, project_class=classes[1])
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=classes[2])
    assert rule_of(exc) == "limit" and "2" in exc.value.message
    services.enrollment_withdraw(actor=teacher_actor, enrollment=a)
    assert services.enrollment_select(actor=teacher_actor, project_class=classes[2]).state == S.SELECTED


def test_round_2_only_for_teachers_who_selected_in_round_1(teacher_actor, term, institution, school):
    first = make_class(term, institution, days_ahead=30)
    second = make_class(term, institution, days_ahead=50)
    services.enrollment_select(actor=teacher_actor, project_class=first)
    open_only(term, K.SELECT_R2)
    newcomer = new_teacher_actor(school)
    with pytest.raises(NotEligible) as exc:
        services.enrollment_select(actor=newcomer, project_class=second)
    assert rule_of(exc) == "round2" and "第一轮" in exc.value.message
    e = services.enrollment_select(actor=teacher_actor, project_class=second)
    assert e.round == 2 and e.state == S.SELECTED


def test_check_eligibility_can_skip_the_window(teacher, term, klass):
    open_only(term)
    with pytest.raises(WindowClosed):
        services.check_eligibility(teacher=teacher, project_class=klass, round=1)
    services.check_eligibility(teacher=teacher, project_class=klass, round=1, check_window=False)


# --- full classes and the waitlist ----------------------------------------------------------


def test_full_class_without_waitlist_refuses_and_changes_nothing(teacher_actor, term, institution, school):
    small = make_class(term, institution, capacity=1)
    small.waitlist_enabled = False
    small.save()
    services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    with pytest.raises(ClassFull) as exc:
        services.enrollment_select(actor=teacher_actor, project_class=small)
    assert "已满" in exc.value.message
    assert Enrollment.objects.count() == 1 and assert_seats(small) == 1


def test_full_class_gives_a_numbered_waitlist_place(term, institution, school):
    small = make_class(term, institution, capacity=1)
    holder = new_teacher_actor(school)
    services.enrollment_select(actor=holder, project_class=small)
    w1 = services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    w2 = services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    assert (w1.state, w2.state) == (S.WAITLISTED, S.WAITLISTED)
    assert (services.waitlist_rank(w1), services.waitlist_rank(w2)) == (1, 2)
    assert w1.rank == 1 and not w1.holds_seat
    assert assert_seats(small) == 1
    assert Notification.objects.filter(user__teacher=w2.teacher, title__contains="第 2 位").exists()


def test_withdrawal_frees_the_seat_and_promotes_the_first_in_line(term, institution, school):
    small = make_class(term, institution, capacity=1)
    holder = new_teacher_actor(school)
    seat = services.enrollment_select(actor=holder, project_class=small)
    a_actor, b_actor = new_teacher_actor(school), new_teacher_actor(school)
    a = services.enrollment_select(actor=a_actor, project_class=small)
    b = services.enrollment_select(actor=b_actor, project_class=small)
    services.enrollment_withdraw(actor=holder, enrollment=seat, reason="时间冲突")
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == S.SELECTED and b.state == S.WAITLISTED and services.waitlist_rank(b) == 1
    assert assert_seats(small) == 1
    assert Notification.objects.filter(user=a_actor.user, title__contains="候补").exists()
    # withdrawing from the waitlist frees no seat
    services.enrollment_withdraw(actor=b_actor, enrollment=b)
    assert assert_seats(small) == 1
    assert list(EnrollmentEvent.objects.filter(enrollment=a).values_list("to_state", flat=True)) == [
        S.WAITLISTED,
        S.SELECTED,
    ]


def test_promotion_skips_nobody_into_a_started_class(term, institution, school, today):
    small = make_class(term, institution, capacity=1)
    assert services.promote_waitlist(small, 1) == []
    holder = new_teacher_actor(school)
    services.enrollment_select(actor=holder, project_class=small)
    waiting = services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    small.starts_on = today
    assert services.promote_waitlist(small, 1) == []
    waiting.refresh_from_db()
    assert waiting.state == S.WAITLISTED


# --- withdrawal -------------------------------------------------------------------------------


def test_withdraw_rules(teacher_actor, school, term, klass, today):
    e = services.enrollment_select(actor=teacher_actor, project_class=klass)
    with pytest.raises(NotFound):
        services.enrollment_withdraw(actor=new_teacher_actor(school), enrollment=e)
    services.enrollment_withdraw(actor=teacher_actor, enrollment=e, reason="家中有事")
    e.refresh_from_db()
    assert e.state == S.WITHDRAWN and e.reason == "家中有事" and assert_seats(klass) == 0
    with pytest.raises(Conflict):
        services.enrollment_withdraw(actor=teacher_actor, enrollment=e)


def test_withdraw_after_start_only_after_a_major_change(teacher_actor, klass, today):
    e = services.enrollment_select(actor=teacher_actor, project_class=klass)
    Enrollment.objects.filter(pk=e.pk).update(state=S.CONFIRMED)
    type(klass).objects.filter(pk=klass.pk).update(
        starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=2)
    )
    with pytest.raises(Conflict) as exc:
        services.enrollment_withdraw(actor=teacher_actor, enrollment=e)
    assert "已开班" in exc.value.message
    Enrollment.objects.filter(pk=e.pk).update(free_withdrawal=True)
    services.enrollment_withdraw(actor=teacher_actor, enrollment=e)
    assert assert_seats(klass) == 0


# --- catalog hooks ----------------------------------------------------------------------------


def test_deleting_the_project_cancels_enrollments_and_frees_seats(term, institution, school, province_actor):
    small = make_class(term, institution, capacity=1)
    seat = services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    waiting = services.enrollment_select(actor=new_teacher_actor(school), project_class=small)
    project = small.project
    catalog_services.project_delete(actor=province_actor, project=project, reason="场地取消", confirm=project.code)
    assert set(Enrollment.objects.values_list("state", flat=True)) == {S.CANCELLED}
    assert assert_seats(small) == 0
    for e in (seat, waiting):
        assert Notification.objects.filter(user__teacher=e.teacher, title__contains="取消").exists()


def test_an_approved_major_change_lets_trainees_withdraw_any_time(teacher_actor, klass, province_actor, institution):
    e = services.enrollment_select(actor=teacher_actor, project_class=klass)
    inst = make_actor(Role.INSTITUTION, institution=institution)
    change = catalog_services.change_request_create(
        actor=inst,
        project=klass.project,
        kind="place",
        reason="场地维修",
        proposed={"place": "新校区"},
        project_class=klass,
    )
    catalog_services.change_request_approve(actor=province_actor, change_request=change)
    e.refresh_from_db()
    assert e.free_withdrawal
    assert (
        Notification.objects.filter(user=teacher_actor.user, body__contains="不受影响").exists()
        or Notification.objects.filter(user=teacher_actor.user, title__contains=klass.project.name).exists()
    )


def test_upcoming_classes_are_confirmed_unfinished_classes(teacher, teacher_actor, term, institution, today):
    from peixun.credits.selectors import upcoming_classes

    future = make_class(term, institution, days_ahead=20)
    past = make_class(term, institution, days_ahead=-20)
    selected = make_class(term, institution, days_ahead=40)
    for pc, state in ((future, S.CONFIRMED), (past, S.CONFIRMED), (selected, S.SELECTED)):
        Enrollment.objects.create(teacher=teacher, project_class=pc, state=state)
    assert upcoming_classes(teacher) == [(future.starts_on, future.project)]
    assert timezone.localdate() == today
