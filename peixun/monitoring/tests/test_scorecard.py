"""The institution scorecard: its numbers equal independent aggregates of the factory data."""

import io
import random
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from peixun.catalog.models import ChangeRequest, Lecturer, LecturerCheck, Project
from peixun.core.errors import PermissionDenied
from peixun.core.roles import Role
from peixun.monitoring import selectors
from peixun.monitoring.models import MisconductReport, Rating, SpotCheck
from peixun.orgs.models import Institution
from tests.factories import (
    EnrollmentFactory,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    TermFactory,
    UserFactory,
    make_actor,
)

pytestmark = pytest.mark.django_db
S = Project.Status


def spot_check(project_class, rating, user):
    return SpotCheck.objects.create(
        project_class=project_class,
        checked_on=project_class.starts_on,
        method=SpotCheck.Method.DOCUMENTS,
        findings="抽查情况",
        rating=rating,
        status=SpotCheck.Status.NO_FOLLOW_UP,
        recorded_by=user,
    )


def misconduct(project_class, teacher, user, kind=MisconductReport.Kind.ABSENCE):
    return MisconductReport.objects.create(
        project_class=project_class,
        teacher=teacher,
        school=teacher.school,
        kind=kind,
        description="缺勤",
        starts_on=project_class.starts_on,
        ends_on=project_class.starts_on,
        reported_by=user,
    )


_lecturers = iter(range(1, 100000))


def lecturer_check(project, result, user):
    lecturer = Lecturer.objects.create(
        name=f"专家{next(_lecturers)}", organisation="某大学", title="教授", expertise="数学", phone="13800000000"
    )
    return LecturerCheck.objects.create(project=project, lecturer=lecturer, drawn_by=user, result=result)


def change(project, status, user):
    return ChangeRequest.objects.create(
        project=project, kind="place", reason="场地调整", status=status, requested_by=user
    )


@pytest.fixture
def dataset(term, institution, other_institution, school, today):
    """A hand-made term with known answers (see the assertions)."""
    user = UserFactory()
    now = timezone.now()
    a, b = institution, other_institution
    projects = {
        "draft": ProjectFactory(term=term, institution=a, status=S.DRAFT),
        "submitted": ProjectFactory(term=term, institution=a, status=S.SUBMITTED, submitted_at=now),
        "returned": ProjectFactory(term=term, institution=a, status=S.RETURNED, submitted_at=now),
        "approved": ProjectFactory(term=term, institution=a, status=S.APPROVED),
        "published": ProjectFactory(term=term, institution=a, status=S.PUBLISHED, published_at=now),
        "running": ProjectFactory(term=term, institution=a, status=S.RUNNING),
        "withdrawn": ProjectFactory(term=term, institution=a, status=S.WITHDRAWN, submitted_at=now),
        "deleted": ProjectFactory(term=term, institution=a, status=S.DELETED, submitted_at=now, published_at=now),
    }
    day = timedelta(days=1)
    on_time = ProjectClassFactory(
        project=projects["published"], starts_on=today + 10 * day, ends_on=today + 12 * day, schedule_published_at=now
    )
    late = ProjectClassFactory(
        project=projects["published"], starts_on=today + 3 * day, ends_on=today + 5 * day, schedule_published_at=now
    )
    missing_started = ProjectClassFactory(project=projects["running"], starts_on=today - day, ends_on=today + day)
    ProjectClassFactory(project=projects["running"], starts_on=today + 20 * day, ends_on=today + 21 * day)
    # Not counted: classes of projects that are not (or no longer) published.
    not_published = ProjectClassFactory(project=projects["approved"], starts_on=today - day, ends_on=today + day)
    ProjectClassFactory(project=projects["deleted"], starts_on=today - day, ends_on=today + day)

    change(projects["published"], ChangeRequest.Status.APPROVED, user)
    change(projects["published"], ChangeRequest.Status.APPROVED, user)
    change(projects["running"], ChangeRequest.Status.REJECTED, user)
    change(projects["running"], ChangeRequest.Status.PENDING, user)

    spot_check(on_time, Rating.GOOD, user)
    spot_check(missing_started, Rating.FAIL, user)
    spot_check(late, Rating.EXCELLENT, user)
    spot_check(not_published, Rating.PASS, user)  # a check still counts once made (the project was published then)

    teacher = TeacherFactory(school=school)
    misconduct(missing_started, teacher, user)
    misconduct(missing_started, teacher, user, kind=MisconductReport.Kind.EARLY_LEAVE)

    for result in ("confirmed", "confirmed", "not_confirmed", "unreachable", "pending"):
        lecturer_check(projects["published"], result, user)

    b_project = ProjectFactory(term=term, institution=b, status=S.PUBLISHED)
    b_class = ProjectClassFactory(
        project=b_project, starts_on=today + 30 * day, ends_on=today + 31 * day, schedule_published_at=now
    )
    spot_check(b_class, Rating.PASS, user)
    lecturer_check(b_project, "pending", user)

    # Another term's data never counts.
    other_term = TermFactory()
    old = ProjectFactory(term=other_term, institution=a, status=S.PUBLISHED)
    old_class = ProjectClassFactory(project=old, starts_on=today - 9 * day, ends_on=today - 8 * day)
    change(old, ChangeRequest.Status.APPROVED, user)
    spot_check(old_class, Rating.FAIL, user)
    misconduct(old_class, teacher, user)
    lecturer_check(old, "not_confirmed", user)
    return projects


def test_scorecard_numbers_for_a_known_term(dataset, term, institution, other_institution, province, today):
    quiet = InstitutionFactory()  # active, no projects: shown with zeros
    InstitutionFactory(is_active=False)  # inactive and idle: not shown
    rows = {
        r.institution.pk: r for r in selectors.scorecard(actor=make_actor(Role.PROVINCE, region=province), term=term)
    }
    assert set(rows) == {institution.pk, other_institution.pk, quiet.pk}
    a = rows[institution.pk]
    assert (a.applied, a.approved, a.published) == (7, 4, 3)
    assert a.changes == 2
    assert (a.classes, a.late_schedules) == (4, 2)
    assert a.spot_checks == 4 and a.average_rating == pytest.approx((3 + 1 + 4 + 2) / 4) and a.failed_checks == 1
    assert a.misconduct_reports == 2
    assert (a.lecturer_checks, a.lecturers_confirmed, a.lecturers_not_confirmed) == (5, 2, 2)
    assert a.enrolment_rate == 0.0 and a.pass_rate is None  # nobody enrolled, so no approved results
    b = rows[other_institution.pk]
    assert (b.applied, b.approved, b.published, b.classes, b.late_schedules) == (1, 1, 1, 1, 0)
    assert (b.spot_checks, b.average_rating, b.lecturer_checks) == (1, 2.0, 1)
    q = rows[quiet.pk]
    assert (q.applied, q.spot_checks, q.average_rating, q.misconduct_reports) == (0, 0, None, 0)


def test_an_inactive_institution_with_projects_in_the_term_is_shown(term, province):
    retired = InstitutionFactory(is_active=False)
    ProjectFactory(term=term, institution=retired)
    rows = selectors.scorecard(actor=make_actor(Role.MONITOR, region=province), term=term)
    assert [r.institution for r in rows] == [retired]


def independent_aggregates(term, today):
    """The scorecard computed naively, object by object, without the selector's grouped queries."""
    lead = timedelta(days=term.schedule_lead_days)
    result = defaultdict(lambda: defaultdict(float))
    for project in Project.objects.filter(term=term):
        row = result[project.institution_id]
        published = project.status in ("published", "running", "finished") or project.published_at is not None
        row["applied"] += project.status not in ("draft", "withdrawn", "deleted") or project.submitted_at is not None
        row["approved"] += published or project.status == "approved"
        row["published"] += published
        row["changes"] += sum(1 for c in project.change_requests.all() if c.status == "approved")
        for check in project.lecturer_checks.all():
            row["lecturer_checks"] += 1
            row["lecturers_confirmed"] += check.result == "confirmed"
            row["lecturers_not_confirmed"] += check.result in ("not_confirmed", "unreachable")
        for klass in project.classes.all():
            if project.status in ("published", "running", "finished"):
                row["classes"] += 1
                if klass.schedule_published_at is None:
                    row["late_schedules"] += klass.starts_on <= today
                else:
                    row["late_schedules"] += timezone.localdate(klass.schedule_published_at) > klass.starts_on - lead
            for check in klass.spot_checks.all():
                row["spot_checks"] += 1
                row["rating_sum"] += check.rating
                row["failed_checks"] += check.rating == Rating.FAIL
            row["misconduct_reports"] += klass.misconduct_reports.count()
    return result


def test_scorecard_equals_independent_aggregates_on_random_data(term, province, school, today):
    rng = random.Random(8)
    user = UserFactory()
    teachers = TeacherFactory.create_batch(5, school=school)
    institutions = InstitutionFactory.create_batch(4)
    statuses = list(S.values)
    for _ in range(30):
        project = ProjectFactory(
            term=term,
            institution=rng.choice(institutions),
            status=rng.choice(statuses),
            submitted_at=timezone.now() if rng.random() < 0.5 else None,
            published_at=timezone.now() if rng.random() < 0.3 else None,
        )
        for _ in range(rng.randint(0, 3)):
            start = today + timedelta(days=rng.randint(-10, 15))
            published_at = timezone.now() - timedelta(days=rng.randint(0, 5)) if rng.random() < 0.6 else None
            klass = ProjectClassFactory(
                project=project, starts_on=start, ends_on=start + timedelta(days=2), schedule_published_at=published_at
            )
            for _ in range(rng.randint(0, 2)):
                spot_check(klass, rng.choice(Rating.values), user)
            for teacher in rng.sample(teachers, rng.randint(0, 2)):
                misconduct(klass, teacher, user)
        for _ in range(rng.randint(0, 2)):
            change(project, rng.choice(ChangeRequest.Status.values), user)
        for _ in range(rng.randint(0, 3)):
            lecturer_check(project, rng.choice(LecturerCheck.Result.values), user)

    expected = independent_aggregates(term, today)
    rows = selectors.scorecard(actor=make_actor(Role.MONITOR, region=province), term=term)
    assert {r.institution.pk for r in rows} == {i.pk for i in institutions}
    fields = (
        "applied",
        "approved",
        "published",
        "changes",
        "classes",
        "late_schedules",
        "spot_checks",
        "failed_checks",
        "misconduct_reports",
        "lecturer_checks",
        "lecturers_confirmed",
        "lecturers_not_confirmed",
    )
    for row in rows:
        want = expected[row.institution.pk]
        assert {f: getattr(row, f) for f in fields} == {f: int(want[f]) for f in fields}, row.institution
        if want["spot_checks"]:
            assert row.average_rating == pytest.approx(want["rating_sum"] / want["spot_checks"])
        else:
            assert row.average_rating is None
    totals = selectors.scorecard_totals(rows)
    assert totals["spot_checks"] == sum(int(w["spot_checks"]) for w in expected.values())


def test_seat_fill_rate_is_seats_taken_over_capacity(term, institution, other_institution):
    project = ProjectFactory(term=term, institution=institution)
    ProjectClassFactory(project=project, capacity=20, seats_taken=15)
    ProjectClassFactory(project=project, capacity=30, seats_taken=5)
    ProjectClassFactory(project=ProjectFactory(term=term, institution=institution, status=S.DRAFT), capacity=50)
    rates = selectors.enrolment_rates(term=term, institution_ids=[institution.pk, other_institution.pk])
    assert rates == {institution.pk: pytest.approx(20 / 50), other_institution.pk: None}


def test_pass_rate_is_passed_over_registered_results_of_approved_sheets(term, institution, other_institution, province):
    """成绩登记: only approved sheets count; submitted or draft results do not."""
    from datetime import date

    from peixun.results import services as results

    clerk = make_actor(Role.INSTITUTION, institution=institution)
    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
    project = ProjectFactory(term=term, institution=institution)

    def sheet(passes):
        project_class = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
        for _ in passes:
            EnrollmentFactory(project_class=project_class)
        record = results.sheet_open(actor=clerk, project_class=project_class)
        rows = [
            {"id": r.pk, "hours_offline": "40", "passed": ok} for r, ok in zip(record.results.order_by("pk"), passes)
        ]
        results.results_save(actor=clerk, sheet=record, rows=rows)
        return results.sheet_submit(actor=clerk, sheet=record)

    results.sheet_approve(actor=reviewer, sheet=sheet([True, True, False]))
    results.sheet_approve(actor=reviewer, sheet=sheet([True]))
    sheet([False, False])  # submitted, not approved: not counted
    rates = selectors.pass_rates(term=term, institution_ids=[institution.pk, other_institution.pk])
    assert rates == {institution.pk: pytest.approx(3 / 4), other_institution.pk: None}
    rows = {
        r.institution.pk: r for r in selectors.scorecard(actor=make_actor(Role.PROVINCE, region=province), term=term)
    }
    assert rows[institution.pk].pass_rate == pytest.approx(3 / 4)


def test_sorting_puts_empty_values_last(dataset, term, institution, other_institution, province):
    quiet = InstitutionFactory()
    actor = make_actor(Role.PROVINCE, region=province)
    by_checks = selectors.scorecard(actor=actor, term=term, sort="-spot_checks")
    assert [r.institution for r in by_checks] == [institution, other_institution, quiet]
    by_rating = selectors.scorecard(actor=actor, term=term, sort="average_rating")
    assert [r.institution for r in by_rating] == [other_institution, institution, quiet]
    by_rating_desc = selectors.scorecard(actor=actor, term=term, sort="-average_rating")
    assert [r.institution for r in by_rating_desc] == [institution, other_institution, quiet]
    assert [r.institution for r in selectors.scorecard(actor=actor, term=term, sort="bogus")] == sorted(
        [institution, other_institution, quiet], key=lambda i: i.code
    )


def test_filters(dataset, term, institution, other_institution, province):
    Institution.objects.filter(pk=other_institution.pk).update(type=Institution.Type.REMOTE)
    actor = make_actor(Role.PROVINCE, region=province)
    rows = selectors.scorecard(actor=actor, term=term, institution_type=Institution.Type.REMOTE)
    assert [r.institution.pk for r in rows] == [other_institution.pk]
    rows = selectors.scorecard(actor=actor, term=term, query=institution.name)
    assert [r.institution.pk for r in rows] == [institution.pk]


@pytest.mark.parametrize("role", [Role.CITY, Role.COUNTY, Role.INSTITUTION, Role.SCHOOL, Role.TEACHER])
def test_scorecard_is_for_the_province_and_the_monitor(role, term, county, school, institution):
    scope = {
        Role.CITY: {"region": county.parent},
        Role.COUNTY: {"region": county},
        Role.INSTITUTION: {"institution": institution},
        Role.SCHOOL: {"school": school},
        Role.TEACHER: {"school": school},
    }[role]
    with pytest.raises(PermissionDenied):
        selectors.scorecard(actor=make_actor(role, **scope), term=term)


def test_scorecard_queries_do_not_grow_with_institutions(client, term, province):
    actor = make_actor(Role.PROVINCE, region=province)
    client.force_login(actor.user)
    url = reverse("monitoring:scorecard") + f"?term={term.pk}"

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_institution():
        klass = ProjectClassFactory(project=ProjectFactory(term=term))
        spot_check(klass, Rating.GOOD, actor.user)

    add_institution()
    few = queries()
    for _ in range(5):
        add_institution()
    assert queries() == few


def test_scorecard_page_and_export(client, dataset, term, institution, province):
    actor = make_actor(Role.MONITOR, region=province)
    client.force_login(actor.user)
    response = client.get(reverse("monitoring:scorecard"), {"term": term.pk, "sort": "-spot_checks"})
    html = response.content.decode()
    assert response.status_code == 200 and "培训机构质量评分表" in html and institution.name in html
    assert "—" in html  # enrolment and pass rates are not available yet
    assert 'id="scorecard-data"' in html  # the chart's data beside the table
    export = client.get(reverse("monitoring:scorecard"), {"term": term.pk, "export": "1"})
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("机构代码", "培训机构", "机构类型", "申报项目数")
    mine = next(r for r in rows[1:] if r[1] == institution.name)
    assert mine[3:10] == (7, 4, 3, 2, 4, 2, 4) and mine[-2:] == ("0.0%", "—")
    # Institutions do not see the scorecard page.
    client.force_login(make_actor(Role.INSTITUTION, institution=institution).user)
    assert client.get(reverse("monitoring:scorecard")).status_code == 403
