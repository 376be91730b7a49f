"""Every rule of the monitoring services: who may record / answer / close / report / acknowledge, and what."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from peixun.catalog.models import Project
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.monitoring import selectors, services
from peixun.monitoring.models import MisconductReport, Rating, SpotCheck
from tests.factories import ProjectClassFactory, SchoolFactory, TeacherFactory, make_actor

from .conftest import running_class

pytestmark = pytest.mark.django_db


def record(actor, project_class, today, **overrides):
    data = {
        "checked_on": today,
        "method": SpotCheck.Method.ON_SITE,
        "findings": "课程按计划实施，考勤记录完整。",
        "rating": Rating.GOOD,
        "follow_up_required": True,
        "follow_up_due": today + timedelta(days=7),
    }
    data.update(overrides)
    return services.spot_check_record(actor=actor, project_class=project_class, **data)


def report(actor, project_class, teacher, today, **overrides):
    data = {
        "kind": MisconductReport.Kind.ABSENCE,
        "description": "无故缺席全天课程。",
        "starts_on": today - timedelta(days=1),
        "ends_on": today - timedelta(days=1),
    }
    data.update(overrides)
    return services.misconduct_report(actor=actor, project_class=project_class, teacher=teacher, **data)


# --- spot checks: recording ------------------------------------------------------------------


def test_monitor_records_a_spot_check_and_the_institution_is_notified(
    monitor, klass, inst_actor, other_inst_actor, today
):
    check = record(monitor, klass, today)
    assert check.status == SpotCheck.Status.OPEN and check.recorded_by == monitor.user
    log = AuditLog.objects.get(action="monitoring.spotcheck.record")
    assert log.object_id == str(check.pk) and log.user == monitor.user
    notes = Notification.objects.filter(kind="monitoring.spotcheck")
    assert [n.user for n in notes] == [inst_actor.user]
    assert f"/monitoring/spot-checks/{check.pk}/" == notes[0].link


def test_without_follow_up_the_check_needs_no_answer(monitor, klass, today):
    check = record(monitor, klass, today, follow_up_required=False, follow_up_due=today + timedelta(days=3))
    assert check.status == SpotCheck.Status.NO_FOLLOW_UP and check.follow_up_due is None


@pytest.mark.parametrize("role", [Role.PROVINCE, Role.COUNTY, Role.INSTITUTION, Role.SCHOOL, Role.EXPERT])
def test_only_the_monitor_records_spot_checks(role, klass, province, county, school, institution, today):
    scope = {
        Role.PROVINCE: {"region": province},
        Role.COUNTY: {"region": county},
        Role.INSTITUTION: {"institution": institution},
        Role.SCHOOL: {"school": school},
        Role.EXPERT: {"region": province},
    }[role]
    with pytest.raises(PermissionDenied):
        record(make_actor(role, **scope), klass, today)
    assert not SpotCheck.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"checked_on": "tomorrow"}, "checked_on"),
        ({"checked_on": "before_class"}, "checked_on"),
        ({"findings": "   "}, "findings"),
        ({"rating": 7}, "rating"),
        ({"method": "phone"}, "method"),
        ({"rating": Rating.FAIL, "follow_up_required": False}, "follow_up_required"),
        ({"follow_up_due": None}, "follow_up_due"),
        ({"follow_up_due": "yesterday"}, "follow_up_due"),
    ],
)
def test_spot_check_input_is_validated(monitor, klass, today, overrides, field):
    dates = {
        "tomorrow": today + timedelta(days=1),
        "yesterday": today - timedelta(days=1),
        "before_class": klass.starts_on - timedelta(days=1),
    }
    overrides = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    with pytest.raises(InvalidInput) as info:
        record(monitor, klass, today, **overrides)
    assert info.value.details == {"field": field}
    assert not SpotCheck.objects.exists() and not AuditLog.objects.exists()


def test_document_review_may_precede_the_class(monitor, term, institution, province, today):
    upcoming = ProjectClassFactory(
        project__term=term,
        project__institution=institution,
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=12),
    )
    check = record(monitor, upcoming, today, method=SpotCheck.Method.DOCUMENTS)
    assert check.pk
    with pytest.raises(InvalidInput):
        record(monitor, upcoming, today, method=SpotCheck.Method.ON_SITE)


def test_only_published_projects_are_checked(monitor, klass, today):
    Project.objects.filter(pk=klass.project_id).update(status=Project.Status.SUBMITTED)
    klass.project.refresh_from_db()
    with pytest.raises(Conflict):
        record(monitor, klass, today)


def test_attachments_are_kept_and_checked(monitor, klass, today, monkeypatch):
    pdf = SimpleUploadedFile("现场照片.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    check = record(monitor, klass, today, attachments=[pdf])
    attachment = check.attachments.get()
    assert attachment.name == "现场照片.pdf" and attachment.side == "monitor" and attachment.size == 13
    assert attachment.file.read() == b"%PDF-1.4 test"
    with pytest.raises(InvalidInput, match="只能上传"):
        record(monitor, klass, today, attachments=[SimpleUploadedFile("x.exe", b"MZ")])
    monkeypatch.setattr(services, "ATTACHMENT_MAX_BYTES", 10)
    with pytest.raises(InvalidInput, match="10 MB"):
        record(monitor, klass, today, attachments=[SimpleUploadedFile("big.pdf", b"x" * 11)])
    assert SpotCheck.objects.count() == 1


# --- spot checks: answering and closing ------------------------------------------------------


def test_institution_answers_and_the_monitor_is_notified(monitor, klass, inst_actor, today):
    check = record(monitor, klass, today)
    answered = services.spot_check_answer(actor=inst_actor, spot_check=check, response="已整改。")
    assert answered.status == SpotCheck.Status.ANSWERED and answered.responded_by == inst_actor.user
    assert answered.responded_at is not None
    note = Notification.objects.get(user=monitor.user)
    assert "答复" in note.title and note.body == "已整改。"
    # It may revise its answer until the follow-up is closed.
    revised = services.spot_check_answer(actor=inst_actor, spot_check=check, response="已整改，附整改报告。")
    assert revised.response == "已整改，附整改报告。" and revised.status == SpotCheck.Status.ANSWERED
    assert AuditLog.objects.filter(action="monitoring.spotcheck.answer").count() == 2


def test_another_institution_cannot_answer(monitor, klass, other_inst_actor, today):
    check = record(monitor, klass, today)
    with pytest.raises(NotFound):
        services.spot_check_answer(actor=other_inst_actor, spot_check=check, response="不是我们的班")
    check.refresh_from_db()
    assert check.status == SpotCheck.Status.OPEN and check.response == ""


def test_monitor_and_bureaus_do_not_answer(monitor, klass, province, today):
    check = record(monitor, klass, today)
    for actor in (monitor, make_actor(Role.PROVINCE, region=province)):
        with pytest.raises(PermissionDenied):
            services.spot_check_answer(actor=actor, spot_check=check, response="x")


def test_answer_needs_text(monitor, klass, inst_actor, today):
    check = record(monitor, klass, today)
    with pytest.raises(InvalidInput):
        services.spot_check_answer(actor=inst_actor, spot_check=check, response=" ")


def test_monitor_closes_an_answered_follow_up(monitor, klass, inst_actor, today):
    check = record(monitor, klass, today)
    services.spot_check_answer(actor=inst_actor, spot_check=check, response="已整改。")
    closed = services.spot_check_close(actor=monitor, spot_check=check)
    assert closed.status == SpotCheck.Status.CLOSED and closed.closed_by == monitor.user
    assert Notification.objects.filter(user=inst_actor.user, title__contains="已关闭").exists()
    with pytest.raises(Conflict):
        services.spot_check_close(actor=monitor, spot_check=check)
    with pytest.raises(Conflict):
        services.spot_check_answer(actor=inst_actor, spot_check=check, response="再补充")


def test_closing_an_unanswered_follow_up_needs_a_reason(monitor, klass, today):
    check = record(monitor, klass, today)
    with pytest.raises(InvalidInput):
        services.spot_check_close(actor=monitor, spot_check=check)
    closed = services.spot_check_close(actor=monitor, spot_check=check, note="现场复查已整改")
    assert closed.status == SpotCheck.Status.CLOSED and closed.close_note == "现场复查已整改"


def test_nothing_to_close_without_follow_up(monitor, klass, today):
    check = record(monitor, klass, today, follow_up_required=False)
    with pytest.raises(Conflict):
        services.spot_check_close(actor=monitor, spot_check=check, note="x")


def test_institution_cannot_close(monitor, klass, inst_actor, today):
    check = record(monitor, klass, today)
    with pytest.raises(PermissionDenied):
        services.spot_check_close(actor=inst_actor, spot_check=check, note="x")


# --- spot checks: who sees them ---------------------------------------------------------------


def test_spot_check_scope(monitor, term, institution, other_institution, province, county, other_county, today):
    provincial = record(monitor, running_class(term, institution, province, today), today)
    local = record(monitor, running_class(term, institution, county, today), today)
    elsewhere = record(monitor, running_class(term, other_institution, other_county, today), today)

    def ids(actor):
        return set(selectors.spot_check_list(actor=actor).values_list("pk", flat=True))

    assert ids(monitor) == {provincial.pk, local.pk, elsewhere.pk}
    assert ids(make_actor(Role.PROVINCE, region=province)) == {provincial.pk, local.pk, elsewhere.pk}
    assert ids(make_actor(Role.INSTITUTION, institution=institution)) == {provincial.pk, local.pk}
    assert ids(make_actor(Role.INSTITUTION, institution=other_institution)) == {elsewhere.pk}
    # The responsible bureau (the project's region subtree) reads the checks of its projects only.
    assert ids(make_actor(Role.COUNTY, region=county)) == {local.pk}
    assert ids(make_actor(Role.CITY, region=county.parent)) == {local.pk}
    with pytest.raises(NotFound):
        selectors.spot_check_get(actor=make_actor(Role.COUNTY, region=county), spot_check_id=provincial.pk)
    for role, scope in ((Role.SCHOOL, {"school": SchoolFactory(county=county)}), (Role.TEACHER, {})):
        with pytest.raises(PermissionDenied):
            selectors.spot_check_list(actor=make_actor(role, **scope))


# --- misconduct reports ----------------------------------------------------------------------


def test_report_reaches_the_school_and_the_county(
    klass, inst_actor, trainee, school, county, school_actor, county_actor, other_county_actor, today
):
    # Others who must not hear of it: another school of the same county, the teacher, a city officer.
    other_school_admin = make_actor(Role.SCHOOL, school=SchoolFactory(county=county))
    teacher_actor = make_actor(Role.TEACHER, teacher=trainee)
    inactive = make_actor(Role.SCHOOL, school=school)
    inactive.grant.is_active = False
    inactive.grant.save()
    filed = report(inst_actor, klass, trainee, today)
    assert filed.school == school and filed.reported_by == inst_actor.user
    recipients = set(Notification.objects.filter(kind="monitoring.misconduct").values_list("user_id", flat=True))
    assert recipients == {school_actor.user.pk, county_actor.user.pk}
    assert other_school_admin.user.pk not in recipients and teacher_actor.user.pk not in recipients
    note = Notification.objects.filter(user=school_actor.user).get()
    assert trainee.name in note.title and note.link == f"/monitoring/misconduct/{filed.pk}/"
    assert AuditLog.objects.filter(action="monitoring.misconduct.report", object_id=str(filed.pk)).exists()


def test_only_the_class_institution_reports(klass, other_klass, inst_actor, monitor, school_actor, trainee, today):
    with pytest.raises(NotFound):
        report(inst_actor, other_klass, trainee, today)
    for actor in (monitor, school_actor):
        with pytest.raises(PermissionDenied):
            report(actor, klass, trainee, today)
    assert not MisconductReport.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"kind": "sleeping"}, InvalidInput),
        ({"description": ""}, InvalidInput),
        ({"starts_on": "today", "ends_on": "yesterday"}, InvalidInput),
        ({"starts_on": "today", "ends_on": "tomorrow"}, InvalidInput),
        ({"starts_on": "before_class", "ends_on": "today"}, InvalidInput),
    ],
)
def test_report_input_is_validated(klass, inst_actor, trainee, today, overrides, error):
    dates = {
        "today": today,
        "yesterday": today - timedelta(days=1),
        "tomorrow": today + timedelta(days=1),
        "before_class": klass.starts_on - timedelta(days=1),
    }
    overrides = {k: dates.get(v, v) for k, v in overrides.items()}
    with pytest.raises(error):
        report(inst_actor, klass, trainee, today, **overrides)
    assert not MisconductReport.objects.exists()


def test_no_report_before_the_class_starts(term, institution, inst_actor, trainee, today):
    upcoming = ProjectClassFactory(
        project__term=term,
        project__institution=institution,
        starts_on=today + timedelta(days=3),
        ends_on=today + timedelta(days=5),
    )
    with pytest.raises(Conflict):
        report(inst_actor, upcoming, trainee, today, starts_on=today, ends_on=today)


def test_the_same_incident_is_reported_once(klass, inst_actor, trainee, today):
    report(inst_actor, klass, trainee, today)
    with pytest.raises(Conflict):
        report(inst_actor, klass, trainee, today)
    report(inst_actor, klass, trainee, today, kind=MisconductReport.Kind.EARLY_LEAVE)
    assert MisconductReport.objects.count() == 2


def test_roster_hook(klass, inst_actor, trainee, today):
    assert selectors.trainee_in_class(trainee, klass) is True
    # Only a confirmed enrollment (复核) puts a teacher on the roster.
    trainee.enrollments.update(state="approved")
    assert selectors.trainee_in_class(trainee, klass) is False
    with pytest.raises(InvalidInput, match="名单"):
        report(inst_actor, klass, trainee, today)


def test_trainee_lookup_needs_id_and_name(trainee):
    assert selectors.trainee_get(national_id=trainee.national_id.lower(), name=f" {trainee.name} ") == trainee
    for national_id, name in ((trainee.national_id, "别人"), ("", trainee.name), (trainee.national_id, "")):
        with pytest.raises(InvalidInput):
            selectors.trainee_get(national_id=national_id, name=name)


def test_school_and_county_each_acknowledge_once(klass, inst_actor, trainee, school_actor, county_actor, today):
    filed = report(inst_actor, klass, trainee, today)
    acked = services.misconduct_acknowledge(actor=school_actor, report=filed, note="已约谈。")
    assert acked.school_ack_by == school_actor.user and acked.school_ack_note == "已约谈。"
    assert acked.county_ack_at is None
    with pytest.raises(Conflict):
        services.misconduct_acknowledge(actor=school_actor, report=filed)
    acked = services.misconduct_acknowledge(actor=county_actor, report=filed)
    assert acked.county_ack_by == county_actor.user and acked.county_ack_note == ""
    assert AuditLog.objects.filter(action="monitoring.misconduct.acknowledge").count() == 2


def test_acknowledge_only_within_scope(
    klass, inst_actor, trainee, other_county_actor, county, province, institution, today
):
    filed = report(inst_actor, klass, trainee, today)
    with pytest.raises(NotFound):
        services.misconduct_acknowledge(actor=other_county_actor, report=filed)
    with pytest.raises(NotFound):
        services.misconduct_acknowledge(
            actor=make_actor(Role.SCHOOL, school=SchoolFactory(county=county)), report=filed
        )
    for actor in (
        make_actor(Role.CITY, region=county.parent),
        make_actor(Role.PROVINCE, region=province),
        inst_actor,
    ):
        with pytest.raises(PermissionDenied):
            services.misconduct_acknowledge(actor=actor, report=filed)
    filed.refresh_from_db()
    assert filed.school_ack_at is None and filed.county_ack_at is None


def test_misconduct_scope(
    klass, other_klass, inst_actor, other_inst_actor, trainee, other_trainee, school, county, other_county, today
):
    mine = report(inst_actor, klass, trainee, today)
    theirs = report(other_inst_actor, other_klass, other_trainee, today)

    def ids(actor, **filters):
        return set(selectors.misconduct_list(actor=actor, **filters).values_list("pk", flat=True))

    assert ids(make_actor(Role.COUNTY, region=county)) == {mine.pk}
    assert ids(make_actor(Role.COUNTY, region=other_county)) == {theirs.pk}
    assert ids(make_actor(Role.SCHOOL, school=school)) == {mine.pk}
    assert ids(inst_actor) == {mine.pk} and ids(other_inst_actor) == {theirs.pk}
    assert ids(make_actor(Role.MONITOR, region=county.parent.parent)) == {mine.pk, theirs.pk}
    with pytest.raises(NotFound):
        selectors.misconduct_get(actor=make_actor(Role.COUNTY, region=county), report_id=theirs.pk)
    # The teacher does not see reports (their own or anyone else's).
    with pytest.raises(PermissionDenied):
        selectors.misconduct_list(actor=make_actor(Role.TEACHER, teacher=TeacherFactory(school=school)))


def test_pending_is_per_side(klass, inst_actor, trainee, school_actor, county_actor, monitor, today):
    filed = report(inst_actor, klass, trainee, today)
    services.misconduct_acknowledge(actor=school_actor, report=filed)
    assert not selectors.misconduct_list(actor=school_actor, pending=True).exists()
    assert selectors.misconduct_list(actor=county_actor, pending=True).get() == filed
    assert selectors.misconduct_list(actor=monitor, pending=True).get() == filed
    services.misconduct_acknowledge(actor=county_actor, report=filed)
    assert not selectors.misconduct_list(actor=monitor, pending=True).exists()
