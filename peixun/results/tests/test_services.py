"""Results registration, submission, 审核 / 取消审核 and the ledger."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from peixun.catalog.services import project_correct_credits
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.credits import selectors as credit_selectors
from peixun.credits.models import LedgerEntry
from peixun.results import selectors, services
from peixun.results.models import ResultSheet, TraineeResult
from tests.factories import (
    EnrollmentFactory,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    TeacherFactory,
    make_actor,
)

pytestmark = pytest.mark.django_db
S = ResultSheet.Status


def rows_of(sheet):
    return list(sheet.results.order_by("pk"))


def enter(clerk, sheet, values):
    """values: list of (offline, online, passed, remarks) in row order."""
    rows = [
        {"id": r.pk, "hours_offline": off, "hours_online": on, "passed": p, "remarks": rem}
        for r, (off, on, p, rem) in zip(rows_of(sheet), values)
    ]
    return services.results_save(actor=clerk, sheet=sheet, rows=rows)


def submitted_sheet(clerk, project_class, values):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    enter(clerk, sheet, values)
    return services.sheet_submit(actor=clerk, sheet=sheet)


def live_entries(teacher=None):
    qs = LedgerEntry.objects.filter(source_type="result", reverses__isnull=True, reversed_by__isnull=True)
    return qs.filter(teacher=teacher) if teacher else qs


# --- opening and entering -----------------------------------------------------------------------


def test_open_creates_a_row_per_rostered_trainee_only(clerk, project_class, trainees, school):
    EnrollmentFactory(project_class=project_class, state="selected")  # not confirmed: not on the roster
    EnrollmentFactory(project_class=project_class, state="withdrawn")
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    assert sheet.status == S.DRAFT
    assert {r.teacher_id for r in sheet.results.all()} == {e.teacher_id for e in trainees}
    again = services.sheet_open(actor=clerk, project_class=project_class)
    assert again.pk == sheet.pk and again.results.count() == 3
    # The roster changes while the sheet is a draft: the sheet follows it.
    late = EnrollmentFactory(project_class=project_class, teacher=TeacherFactory(school=school))
    trainees[0].state = "cancelled"
    trainees[0].save()
    services.sheet_open(actor=clerk, project_class=project_class)
    assert {r.teacher_id for r in sheet.results.all()} == {
        trainees[1].teacher_id,
        trainees[2].teacher_id,
        late.teacher_id,
    }


def test_only_the_projects_institution_opens_and_only_started_classes(project, project_class, trainees):
    stranger = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    with pytest.raises(NotFound):
        services.sheet_open(actor=stranger, project_class=project_class)
    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=project.institution)
    with pytest.raises(PermissionDenied):
        services.sheet_open(actor=reviewer, project_class=project_class)
    clerk = make_actor(Role.INSTITUTION, institution=project.institution)
    soon = timezone.localdate() + timedelta(days=3)
    future = ProjectClassFactory(project=project, starts_on=soon, ends_on=soon)
    with pytest.raises(Conflict, match="开班后"):
        services.sheet_open(actor=clerk, project_class=future)
    assert not ResultSheet.objects.exists()


def test_save_checks_every_row_and_saves_nothing_on_any_error(clerk, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    a, b, c = rows_of(sheet)
    with pytest.raises(InvalidInput) as err:
        services.results_save(
            actor=clerk,
            sheet=sheet,
            rows=[
                {"id": a.pk, "hours_offline": "40", "passed": True},
                {"id": b.pk, "hours_offline": "41", "passed": True},  # over the planned 40
                {"id": c.pk, "hours_offline": "0", "passed": True},  # passed with nothing attended
            ],
        )
    problems = err.value.details["rows"]
    assert {p["id"] for p in problems} == {b.pk, c.pk}
    assert "40" in problems[0]["message"]
    assert not TraineeResult.objects.filter(passed__isnull=False).exists()  # a's valid row was not saved either
    cases = [
        ({"hours_offline": "abc"}, "不是有效数字"),
        ({"hours_offline": "-1"}, "不能为负数"),
        ({"hours_offline": "8.25"}, "一位小数"),
        ({"hours_offline": "8", "hours_online": "2"}, "没有线上学时"),  # a face-to-face project has no online hours
        ({"hours_offline": "8", "passed": "maybe"}, "合格"),
        ({"hours_offline": "8", "remarks": "x" * 201}, "200"),
        ({"hours_offline": "8", "id": 999999}, "不在本班期名单"),
    ]
    for values, message in cases:
        with pytest.raises(InvalidInput, match=message):
            services.results_save(actor=clerk, sheet=sheet, rows=[{"id": a.pk, **values}])
    with pytest.raises(InvalidInput, match="出现了两次"):
        services.results_save(actor=clerk, sheet=sheet, rows=[{"id": a.pk}, {"id": a.pk}])
    assert (
        services.results_save(
            actor=clerk,
            sheet=sheet,
            rows=[{"id": a.pk, "hours_offline": "32.5", "passed": "合格", "remarks": "请假一天"}],
        )
        == 1
    )
    a.refresh_from_db()
    assert (a.hours_offline, a.hours_online, a.passed, a.remarks) == (Decimal("32.5"), Decimal("0"), True, "请假一天")
    # Saving the same values again changes nothing.
    assert (
        services.results_save(
            actor=clerk,
            sheet=sheet,
            rows=[{"id": a.pk, "hours_offline": "32.5", "passed": "合格", "remarks": "请假一天"}],
        )
        == 0
    )


def test_fill_full_completes_unfinished_rows_only(clerk, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    first = rows_of(sheet)[0]
    services.results_save(actor=clerk, sheet=sheet, rows=[{"id": first.pk, "hours_offline": "12", "passed": False}])
    assert services.results_fill_full(actor=clerk, sheet=sheet) == 2
    values = [(r.hours_offline, r.passed) for r in rows_of(sheet)]
    assert values == [(Decimal("12"), False), (Decimal("40"), True), (Decimal("40"), True)]


def test_submit_needs_every_row_and_the_class_over(clerk, reviewer, project, project_class, trainees):
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    enter(clerk, sheet, [("40", "", True, ""), ("", "", None, "")])
    with pytest.raises(InvalidInput, match="未完成"):
        services.sheet_submit(actor=clerk, sheet=sheet)
    enter(clerk, sheet, [("40", "", True, ""), ("20", "", False, "缺勤过半"), ("40", "", True, "")])
    running = ProjectClassFactory(
        project=project,
        starts_on=timezone.localdate() - timedelta(days=1),
        ends_on=timezone.localdate() + timedelta(days=1),
    )
    EnrollmentFactory(project_class=running)
    early = services.sheet_open(actor=clerk, project_class=running)
    services.results_fill_full(actor=clerk, sheet=early)
    with pytest.raises(Conflict, match="培训结束后"):
        services.sheet_submit(actor=clerk, sheet=early)
    sheet = services.sheet_submit(actor=clerk, sheet=sheet)
    assert sheet.status == S.SUBMITTED and sheet.submitted_by == clerk.user
    assert Notification.objects.filter(user=reviewer.user, kind="results").exists()
    with pytest.raises(Conflict):
        enter(clerk, sheet, [("39", "", True, "")])


# --- 审核 and 取消审核 ----------------------------------------------------------------------------


def test_approval_posts_credits_for_passed_trainees_from_attended_hours(
    policy, clerk, reviewer, project, project_class, trainees, province
):
    teacher_actor = make_actor(Role.TEACHER, teacher=trainees[0].teacher)
    sheet = submitted_sheet(
        clerk, project_class, [("40", "", True, ""), ("25", "", True, "部分缺勤"), ("40", "", False, "未完成作业")]
    )
    sheet = services.sheet_approve(actor=reviewer, sheet=sheet)
    assert sheet.status == S.APPROVED and sheet.approvals == 1
    full, partial, failed = (e.teacher for e in trainees)
    entries = {e.teacher_id: e for e in live_entries()}
    assert set(entries) == {full.pk, partial.pk}  # the failed trainee gets nothing
    assert entries[full.pk].amount == Decimal("4.00")  # the project's credits
    assert entries[partial.pk].amount == Decimal("2.50")  # 25 of 40 学时 attended
    e = entries[full.pk]
    assert (e.category, e.level, e.project_id, e.earned_on) == ("tongchou", "provincial", project.pk, date(2024, 5, 10))
    assert e.actor == reviewer.user and e.policy_id == policy.pk
    assert [r.credits for r in rows_of(sheet)] == [Decimal("4"), Decimal("2.5"), Decimal("0")]
    standing, _rows = credit_selectors.teacher_standing(actor=teacher_actor, teacher=full)
    assert standing.category("tongchou").earned == Decimal("4")
    note = Notification.objects.get(user=teacher_actor.user, kind="credits")
    assert "4" in note.body and project.name in note.title
    assert AuditLog.objects.filter(action="results.sheet.approve", object_id=str(sheet.pk)).exists()
    assert selectors.pass_rates(term=project.term, institution_ids=[project.institution_id]) == {
        project.institution_id: pytest.approx(2 / 3)
    }


def test_attended_hours_beyond_the_plan_never_earn_more_than_the_project(
    policy, clerk, reviewer, project, project_class, trainees
):
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, ""), ("40", "", True, ""), ("40", "", True, "")])
    project.hours_offline = Decimal("30")  # the plan shrank after entry (a change request)
    project.save()
    services.sheet_approve(actor=reviewer, sheet=sheet)
    assert {e.amount for e in live_entries()} == {Decimal("3.00")}


def test_double_approval_never_posts_twice(policy, clerk, reviewer, project_class, trainees):
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, "")] * 3)
    services.sheet_approve(actor=reviewer, sheet=sheet)
    with pytest.raises(Conflict, match="已经审核过"):
        services.sheet_approve(actor=reviewer, sheet=sheet)  # a stale page / double click
    assert LedgerEntry.objects.count() == 3


def test_cancel_reverses_exactly_those_entries_and_approving_again_posts_anew(
    policy, clerk, reviewer, project_class, trainees, school
):
    other = TeacherFactory(school=school)
    from tests.factories import post_credit

    unrelated = post_credit(trainees[0].teacher, 2)  # another source: never touched
    post_credit(other, 3)
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, ""), ("20", "", True, ""), ("40", "", False, "")])
    services.sheet_approve(actor=reviewer, sheet=sheet)
    ids = [r.pk for r in rows_of(sheet)]
    originals = list(live_entries().filter(source_id__in=ids).order_by("pk"))
    assert len(originals) == 2
    with pytest.raises(InvalidInput):
        services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason=" ")
    sheet = services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason="学分类型选错")
    assert sheet.status == S.SUBMITTED
    reversals = list(LedgerEntry.objects.filter(reverses__isnull=False).order_by("pk"))
    assert [r.reverses_id for r in reversals] == [o.pk for o in originals]
    assert all(r.amount == -r.reverses.amount and "学分类型选错" in r.note for r in reversals)
    assert not LedgerEntry.objects.filter(reverses=unrelated).exists()
    assert all(r.credits == 0 for r in rows_of(sheet))
    with pytest.raises(Conflict):
        services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason="again")
    services.sheet_approve(actor=reviewer, sheet=sheet)
    fresh = list(live_entries().filter(source_id__in=ids).order_by("pk"))
    assert [(e.teacher_id, e.amount, e.generation) for e in fresh] == [(o.teacher_id, o.amount, 1) for o in originals]
    assert ResultSheet.objects.get(pk=sheet.pk).approvals == 2


def test_reviewer_returns_submitted_results_for_correction(policy, clerk, reviewer, project_class, trainees):
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, "")] * 3)
    with pytest.raises(InvalidInput):
        services.sheet_return(actor=reviewer, sheet=sheet, reason="")
    sheet = services.sheet_return(actor=reviewer, sheet=sheet, reason="第二位学员学时有误")
    assert sheet.status == S.DRAFT and sheet.return_reason == "第二位学员学时有误"
    assert Notification.objects.filter(user=clerk.user, body="第二位学员学时有误").exists()
    enter(clerk, sheet, [("40", "", True, ""), ("36", "", True, "")])
    services.sheet_submit(actor=clerk, sheet=sheet)


def test_roles_and_scopes(policy, clerk, reviewer, project_class, trainees):
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, "")] * 3)
    with pytest.raises(PermissionDenied):
        services.sheet_approve(actor=clerk, sheet=sheet)  # the clerk does not approve their own entry
    other_reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=InstitutionFactory())
    with pytest.raises(NotFound):
        services.sheet_approve(actor=other_reviewer, sheet=sheet)
    with pytest.raises(PermissionDenied):
        services.results_save(actor=reviewer, sheet=sheet, rows=[])
    assert not LedgerEntry.objects.exists()


def test_faq_q1_repair_path_wrong_credit_type(policy, clerk, reviewer, institution, province, school):
    """Published as 自主 by mistake → the province corrects it to 统筹 → 取消审核 → 审核: credits match."""
    project = ProjectFactory(
        institution=institution, region=province, credit_category="zizhu", hours_offline=Decimal("30")
    )
    project_class = ProjectClassFactory(project=project, starts_on=date(2024, 4, 8), ends_on=date(2024, 4, 10))
    teacher = TeacherFactory(school=school)
    teacher_actor = make_actor(Role.TEACHER, teacher=teacher)
    EnrollmentFactory(project_class=project_class, teacher=teacher)
    sheet = submitted_sheet(clerk, project_class, [("30", "", True, "")])
    sheet = services.sheet_approve(actor=reviewer, sheet=sheet)
    wrong = live_entries(teacher).get()
    assert (wrong.category, wrong.amount) == ("zizhu", Decimal("3.00"))

    officer = make_actor(Role.PROVINCE, region=province)
    project_correct_credits(actor=officer, project=project, credit_category="tongchou", reason="申报时学分类型选错")
    sheet.refresh_from_db()
    assert selectors.needs_reapproval(sheet)
    assert live_entries(teacher).get().category == "zizhu"  # nothing changes on the ledger by itself

    sheet = services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason="项目学分类型已更正")
    sheet = services.sheet_approve(actor=reviewer, sheet=sheet)
    assert not selectors.needs_reapproval(sheet)
    history = list(LedgerEntry.objects.filter(teacher=teacher).order_by("pk"))
    assert [(e.category, e.amount, e.reverses_id) for e in history] == [
        ("zizhu", Decimal("3.00"), None),
        ("zizhu", Decimal("-3.00"), wrong.pk),
        ("tongchou", Decimal("3.00"), None),
    ]
    standing, _rows = credit_selectors.teacher_standing(actor=teacher_actor, teacher=teacher)
    assert standing.category("tongchou").earned == Decimal("3")
    assert standing.category("zizhu").earned == Decimal("0")


def test_blended_project_converts_offline_and_online_hours_apart(policy, clerk, reviewer, institution, province):
    institution.may_blended = True
    institution.save()
    project = ProjectFactory(
        institution=institution,
        region=province,
        format="blended",
        hours_offline=Decimal("24"),
        hours_online=Decimal("16"),
    )
    project_class = ProjectClassFactory(project=project, starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 7))
    EnrollmentFactory(project_class=project_class)
    EnrollmentFactory(project_class=project_class)
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    with pytest.raises(InvalidInput, match="16"):
        enter(clerk, sheet, [("24", "17", True, "")])
    enter(clerk, sheet, [("24", "16", True, ""), ("24", "6", True, "")])
    services.sheet_submit(actor=clerk, sheet=sheet)
    services.sheet_approve(actor=reviewer, sheet=sheet)
    full, part = rows_of(sheet)
    assert (full.credits, full.credits_online) == (Decimal("4.00"), Decimal("1.60"))
    assert (part.credits, part.credits_online) == (Decimal("3.00"), Decimal("0.60"))


def test_pass_rates_count_approved_sheets_only(policy, clerk, reviewer, project, project_class, trainees):
    term, inst = project.term, project.institution_id
    assert selectors.pass_rates(term=term, institution_ids=[inst]) == {inst: None}
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, ""), ("40", "", False, ""), ("40", "", False, "")])
    assert selectors.pass_rates(term=term, institution_ids=[inst]) == {inst: None}  # not approved yet
    services.sheet_approve(actor=reviewer, sheet=sheet)
    assert selectors.pass_rates(term=term, institution_ids=[inst]) == {inst: pytest.approx(1 / 3)}


def test_deleting_the_project_reverses_its_credits_and_withdraws_the_approval(
    policy, clerk, reviewer, project, project_class, trainees, province
):
    from peixun.catalog.services import project_delete
    from peixun.enrollment import seats

    seats.take_seats(project_class.pk, 3)  # the factory's enrollments hold no seats; the deletion releases them
    sheet = submitted_sheet(clerk, project_class, [("40", "", True, "")] * 3)
    services.sheet_approve(actor=reviewer, sheet=sheet)
    officer = make_actor(Role.PROVINCE, region=province)
    project_delete(actor=officer, project=project, reason="重复申报", confirm=project.code)
    sheet.refresh_from_db()
    assert sheet.status == S.SUBMITTED and "重复申报" in sheet.cancel_reason
    assert all(r.credits == 0 for r in rows_of(sheet))
    assert not live_entries().exists()
    with pytest.raises(Conflict):
        services.sheet_approve(actor=reviewer, sheet=sheet)
