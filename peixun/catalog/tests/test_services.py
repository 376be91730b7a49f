"""Every rule and transition of the project lifecycle (SPEC §3–4)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from peixun.catalog import rules, selectors, services
from peixun.catalog.conversion import compute_credits, credits_for
from peixun.catalog.models import ChangeRequest, LecturerCheck, Project, ProjectEvent
from peixun.catalog.signals import project_change_approved, project_deleted
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.orgs.models import Institution
from peixun.terms.models import Window, WindowKind
from tests.factories import (
    CountyFactory,
    InstitutionFactory,
    ProjectClassFactory,
    ProjectFactory,
    StaffMemberFactory,
    make_actor,
)

from .conftest import active_policy_with, class_dates, make_draft, project_data

pytestmark = pytest.mark.django_db
S = Project.Status


# --- the happy path -----------------------------------------------------------------------


def test_apply_review_publish(draft, inst_actor, province_actor):
    assert draft.status == S.DRAFT and draft.code.endswith("-001")
    assert draft.credits == Decimal("4.0")  # 40 学时 at the default 10 学时 per credit
    assert draft.region.level == "province"
    project = services.project_submit(actor=inst_actor, project=draft)
    assert project.status == S.SUBMITTED and project.submitted_at
    project = services.project_approve(actor=province_actor, project=project, note="同意")
    assert project.status == S.APPROVED and project.reviewed_by == province_actor.user
    project = services.project_publish(actor=province_actor, project=project)
    assert project.status == S.PUBLISHED and project.published_at
    kinds = list(project.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["created", "submitted", "approved", "published"]
    actions = set(AuditLog.objects.filter(object_id=str(project.pk)).values_list("action", flat=True))
    assert {
        "catalog.project.create",
        "catalog.project.submit",
        "catalog.project.approve",
        "catalog.project.publish",
    } <= actions
    titles = list(Notification.objects.filter(user=inst_actor.user).values_list("title", flat=True))
    assert any("已审核通过" in t or "通过" in t for t in titles) and any("发布" in t for t in titles)
    # Published projects are read-only.
    with pytest.raises(Conflict) as exc:
        services.project_update(actor=inst_actor, project=project, name="改名")
    assert "变更申请" in exc.value.message


def test_return_with_reasons_and_resubmit(draft, inst_actor, province_actor, term):
    project = services.project_submit(actor=inst_actor, project=draft)
    with pytest.raises(InvalidInput):
        services.project_return(actor=province_actor, project=project, reason="  ")
    project = services.project_return(actor=province_actor, project=project, reason="课程内容过于笼统")
    assert project.status == S.RETURNED and project.return_reason == "课程内容过于笼统"
    assert Notification.objects.filter(user=inst_actor.user, body="课程内容过于笼统").exists()
    project = services.project_update(actor=inst_actor, project=project, content="专题讲座；同课异构；课例研讨")
    # The application window has closed, but a returned project is resubmitted during review.
    Window.objects.filter(term=term, kind=WindowKind.PROJECT_APPLY).update(
        starts_at=timezone.now() - timedelta(days=5), ends_at=timezone.now() - timedelta(days=2)
    )
    term.__dict__.pop("_window_cache", None)
    project.term = term
    project = services.project_submit(actor=inst_actor, project=project)
    assert project.status == S.SUBMITTED
    assert services.project_approve(actor=province_actor, project=project).status == S.APPROVED


def test_withdraw(draft, inst_actor):
    project = services.project_submit(actor=inst_actor, project=draft)
    project = services.project_withdraw(actor=inst_actor, project=project, reason="计划调整")
    assert project.status == S.WITHDRAWN
    with pytest.raises(Conflict):
        services.project_submit(actor=inst_actor, project=project)


# --- windows ------------------------------------------------------------------------------


def test_submission_window_boundaries_first_and_last_minute(draft, inst_actor, term):
    window = Window.objects.get(term=term, kind=WindowKind.PROJECT_APPLY)
    starts, ends = window.starts_at, window.ends_at
    with pytest.raises(WindowClosed) as exc:
        services.project_submit(actor=inst_actor, project=draft, now=starts - timedelta(seconds=1))
    assert "尚未开始" in exc.value.message and "月" in exc.value.message  # says when it opens
    with pytest.raises(WindowClosed) as exc:
        services.project_submit(actor=inst_actor, project=draft, now=ends)
    assert "已结束" in exc.value.message
    # The first minute and the last minute are inside.
    assert services.project_submit(actor=inst_actor, project=draft, now=starts).status == S.SUBMITTED
    services.project_withdraw(actor=inst_actor, project=draft)
    second = make_draft(inst_actor, term, draft.leader)
    assert (
        services.project_submit(actor=inst_actor, project=second, now=ends - timedelta(minutes=1)).status == S.SUBMITTED
    )


def test_review_and_publication_windows(draft, inst_actor, province_actor, term):
    project = services.project_submit(actor=inst_actor, project=draft)
    review = Window.objects.get(term=term, kind=WindowKind.PROJECT_REVIEW)
    with pytest.raises(WindowClosed):
        services.project_approve(actor=province_actor, project=project, now=review.ends_at)
    project = services.project_approve(actor=province_actor, project=project, now=review.ends_at - timedelta(minutes=1))
    publication = Window.objects.get(term=term, kind=WindowKind.PUBLICATION)
    with pytest.raises(WindowClosed):
        services.project_publish(
            actor=province_actor, project=project, now=publication.starts_at - timedelta(minutes=1)
        )
    assert (
        services.project_publish(actor=province_actor, project=project, now=publication.starts_at).status == S.PUBLISHED
    )


# --- quotas -------------------------------------------------------------------------------


def _applied(term, institution, n, **kwargs):
    for _ in range(n):
        ProjectFactory(term=term, institution=institution, status=S.SUBMITTED, **kwargs)


def test_41st_application_of_a_flagship_university_is_refused(draft, inst_actor, term, flagship):
    assert rules.default_quota(flagship, term) == 40
    _applied(term, flagship, 40)
    with pytest.raises(Conflict) as exc:
        services.project_submit(actor=inst_actor, project=draft)
    assert "40" in exc.value.message and exc.value.details["rule"] == "quota"
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_40th_application_passes_and_b_certificate_projects_do_not_count(draft, inst_actor, term, flagship):
    _applied(term, flagship, 38)
    _applied(term, flagship, 5, is_b_certificate=True)  # approved B证 projects are additional
    ProjectFactory(term=term, institution=flagship, status=S.DRAFT)  # drafts do not count
    ProjectFactory(term=term, institution=flagship, status=S.WITHDRAWN)
    ProjectFactory(term=term, institution=flagship, status=S.DELETED)
    ProjectFactory(term=term, institution=flagship, status=S.SUBMITTED, level="county", region=CountyFactory())
    assert rules.quota_used(term, flagship) == 38
    assert services.project_submit(actor=inst_actor, project=draft).status == S.SUBMITTED  # the 39th
    _applied(term, flagship, 1)
    # Full at 40: a B证 project is still accepted.
    b_cert = make_draft(inst_actor, term, draft.leader, is_b_certificate=True)
    assert services.project_submit(actor=inst_actor, project=b_cert).status == S.SUBMITTED
    assert rules.quota_used(term, flagship) == 40


def test_order_projects_count_only_when_the_term_says_so(draft, inst_actor, term, flagship):
    _applied(term, flagship, 39)
    _applied(term, flagship, 3, is_order_project=True)
    assert rules.quota_used(term, flagship) == 39
    term.order_projects_use_quota = True
    term.save()
    assert rules.quota_used(term, flagship) == 42
    with pytest.raises(Conflict):
        services.project_submit(actor=inst_actor, project=draft)


def test_default_quotas_by_type_and_province_override(term, province_actor):
    today = timezone.localdate()
    assert rules.default_quota(InstitutionFactory(type=Institution.Type.UNIVERSITY), term) == 25
    assert rules.default_quota(InstitutionFactory(type=Institution.Type.PROVINCIAL), term) == 25
    assert rules.default_quota(InstitutionFactory(type=Institution.Type.REMOTE), term) == 35
    young = InstitutionFactory(type=Institution.Type.FLAGSHIP, qualified_on=today - timedelta(days=100))
    assert rules.default_quota(young, term) == 5
    services.quota_set(actor=province_actor, term=term, institution=young, limit=8)
    assert rules.quota_limit(term, young) == 8
    usage = rules.quota_usage(term, [young])[0]
    assert (usage.limit, usage.used, usage.remaining, usage.is_default) == (8, 0, 8, False)
    with pytest.raises(PermissionDenied):
        services.quota_set(
            actor=make_actor(Role.INSTITUTION, institution=young), term=term, institution=young, limit=99
        )


def test_region_cap_for_local_projects(inst_actor, term, leader, county):
    officer = make_actor(Role.COUNTY, region=county)
    services.region_cap_set(actor=officer, term=term, region=county, limit=1)
    first = make_draft(inst_actor, term, leader, level="county", region=county)
    assert first.region == county
    services.project_submit(actor=inst_actor, project=first)
    second = make_draft(inst_actor, term, leader, level="county", region=county)
    with pytest.raises(Conflict) as exc:
        services.project_submit(actor=inst_actor, project=second)
    assert exc.value.details["rule"] == "region_cap"
    # A county officer cannot set another county's cap.
    with pytest.raises((NotFound, InvalidInput)):
        services.region_cap_set(actor=officer, term=term, region=CountyFactory(), limit=3)


# --- leader rules ---------------------------------------------------------------------------


def test_fifth_class_of_a_leader_is_refused(inst_actor, term, leader, flagship):
    earlier = ProjectFactory(term=term, institution=flagship, leader=leader, status=S.SUBMITTED)
    for number in (1, 2, 3):
        ProjectClassFactory(project=earlier, number=number)
    two_classes = make_draft(inst_actor, term, leader, classes=2)
    with pytest.raises(Conflict) as exc:
        services.project_submit(actor=inst_actor, project=two_classes)
    assert exc.value.details["rule"] == "leader_classes" and "4" in exc.value.message
    one_class = make_draft(inst_actor, term, leader, classes=1)
    assert services.project_submit(actor=inst_actor, project=one_class).status == S.SUBMITTED  # the 4th


def test_leader_title_formal_employment_and_specialty(inst_actor, term, flagship):
    low = StaffMemberFactory(institution=flagship, title="intermediate")
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, low))
    assert "副高" in exc.value.message
    contractor = StaffMemberFactory(institution=flagship, is_formal_employee=False)
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, contractor))
    assert exc.value.details["rule"] == "leader_formal"
    artist = StaffMemberFactory(institution=flagship, specialty=",arts_pe,")
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, artist))
    assert exc.value.details["rule"] == "leader_specialty"
    with pytest.raises(InvalidInput):
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, None))
    with pytest.raises(InvalidInput):  # another institution's staff cannot be chosen
        make_draft(inst_actor, term, StaffMemberFactory())


def test_a_leader_never_leads_at_two_institutions(inst_actor, term, leader):
    other = InstitutionFactory()
    twin = StaffMemberFactory(institution=other, national_id=leader.national_id, name=leader.name)
    ProjectFactory(term=term, institution=other, leader=twin, status=S.SUBMITTED)
    with pytest.raises(Conflict) as exc:
        services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, leader))
    assert exc.value.details["rule"] == "leader_two_institutions" and other.name in exc.value.message


# --- scope, format, credits, fees -------------------------------------------------------------


def test_subject_category_must_be_in_the_qualified_scope(inst_actor, term, flagship):
    arts_leader = StaffMemberFactory(institution=flagship, specialty=",arts_pe,")
    project = make_draft(inst_actor, term, arts_leader, subject_category="arts_pe")
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=project)
    assert exc.value.details["rule"] == "scope"


def test_blended_needs_qualification_and_online_share_at_most_30_percent(inst_actor, term, leader, flagship):
    too_online = make_draft(
        inst_actor, term, leader, format="blended", hours_offline=Decimal("24"), hours_online=Decimal("16")
    )
    assert (too_online.credits, too_online.credits_online) == (Decimal("4.0"), Decimal("1.6"))
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=too_online)
    assert exc.value.details["rule"] == "online_share" and "30%" in exc.value.message
    ok = make_draft(inst_actor, term, leader, format="blended", hours_offline=Decimal("28"), hours_online=Decimal("12"))
    assert services.project_submit(actor=inst_actor, project=ok).status == S.SUBMITTED
    flagship.may_blended = False
    flagship.save()
    unqualified = make_draft(
        inst_actor, term, leader, format="blended", hours_offline=Decimal("28"), hours_online=Decimal("12")
    )
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=unqualified)
    assert exc.value.details["rule"] == "format_qualification"


def test_fees_must_add_up_and_goals_at_most_200(inst_actor, term, leader):
    with pytest.raises(InvalidInput) as exc:
        services.project_create(actor=inst_actor, term=term, **project_data(fee_total=Decimal("2000")))
    assert exc.value.details["field"] == "fee_total"
    with pytest.raises(InvalidInput) as exc:
        services.project_create(actor=inst_actor, term=term, **project_data(goals="目" * 201))
    assert "200" in exc.value.message


def test_credits_come_from_the_active_credit_policy(inst_actor, term, leader, province):
    project = make_draft(inst_actor, term, leader)
    # No policy active: the engine applies preset A, 10 学时 = 1 credit.
    assert compute_credits(project) == (Decimal("4.0"), Decimal("0"))
    default = {"category": "", "level": "", "format": "", "hours_per_credit": "10"}
    active_policy_with(
        province, conversion=[default, {"category": "tongchou", "level": "provincial", "hours_per_credit": "8"}]
    )
    assert compute_credits(project) == (Decimal("5.0"), Decimal("0"))
    active_policy_with(
        province,
        conversion=[
            default,
            {"category": "tongchou", "level": "provincial", "hours_per_credit": "8"},
            {"category": "tongchou", "level": "provincial", "format": "face", "hours_per_credit": "16"},
        ],
    )
    assert compute_credits(project) == (Decimal("2.5"), Decimal("0"))
    assert credits_for(category="tongchou", level="provincial", fmt="online", hours_offline=0, hours_online=40) == (
        Decimal("5.0"),
        Decimal("5.0"),
    )
    # The project's credit level, when set, is the level the policy converts by.
    assert credits_for(
        category="tongchou", level="provincial", credit_level="county", fmt="face", hours_offline=40, hours_online=0
    ) == (Decimal("4.0"), Decimal("0"))
    # Saving the project stores what the active policy gives; rounded down to the policy's step.
    project = services.project_update(actor=inst_actor, project=project, hours_offline=Decimal("27"))
    project.refresh_from_db()
    assert project.credits == Decimal("1.6")


def test_blended_share_is_checked_before_the_policy_limits_online_credits(inst_actor, term, leader, province):
    # Preset B converts 1 学时 = 1 credit and itself counts online credits of a blended project up
    # to 30%; the application rule still refuses a project designed with more online hours.
    active_policy_with(province, preset="B")
    too_online = make_draft(
        inst_actor, term, leader, format="blended", hours_offline=Decimal("60"), hours_online=Decimal("40")
    )
    assert (too_online.credits, too_online.credits_online) == (Decimal("85.7"), Decimal("25.7"))
    with pytest.raises(InvalidInput) as exc:
        services.project_submit(actor=inst_actor, project=too_online)
    assert exc.value.details["rule"] == "online_share" and "40" in exc.value.message
    ok = make_draft(inst_actor, term, leader, format="blended", hours_offline=Decimal("70"), hours_online=Decimal("30"))
    assert (ok.credits, ok.credits_online) == (Decimal("100"), Decimal("30"))
    assert services.project_submit(actor=inst_actor, project=ok).status == S.SUBMITTED


def test_school_level_is_school_based_and_local_projects_need_their_region(inst_actor, term):
    with pytest.raises(InvalidInput):
        services.project_create(actor=inst_actor, term=term, **project_data(level="school"))
    with pytest.raises(InvalidInput) as exc:
        services.project_create(actor=inst_actor, term=term, **project_data(level="county"))
    assert exc.value.details["field"] == "region"


# --- responsibility and scope -------------------------------------------------------------------


def test_only_the_responsible_bureau_reviews(draft, inst_actor, county, term, leader):
    project = services.project_submit(actor=inst_actor, project=draft)
    county_officer = make_actor(Role.COUNTY, region=county)
    with pytest.raises((PermissionDenied, NotFound)):
        services.project_approve(actor=county_officer, project=project)
    local = make_draft(inst_actor, term, leader, level="county", region=county)
    local = services.project_submit(actor=inst_actor, project=local)
    other_county = make_actor(Role.COUNTY, region=CountyFactory(parent=county.parent))
    with pytest.raises(NotFound):
        services.project_approve(actor=other_county, project=local)
    city = make_actor(Role.CITY, region=county.parent)
    with pytest.raises(PermissionDenied):  # sees it (its subtree) but the county reviews it
        services.project_approve(actor=city, project=local)
    assert services.project_approve(actor=county_officer, project=local).status == S.APPROVED
    with pytest.raises(NotFound):  # another institution cannot touch it
        services.project_withdraw(actor=make_actor(Role.INSTITUTION, institution=InstitutionFactory()), project=local)


def test_bulk_review_reports_each_failure(inst_actor, term, leader, province_actor):
    ok = services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, leader))
    still_draft = make_draft(inst_actor, term, leader)
    result = services.projects_bulk_review(actor=province_actor, projects=[ok, still_draft], action="approve")
    assert [p.pk for p in result.done] == [ok.pk]
    assert result.failed[0][0].pk == still_draft.pk and "草稿" in result.failed[0][1]


# --- after publication ------------------------------------------------------------------------


@pytest.fixture
def published(draft, inst_actor, province_actor):
    project = services.project_submit(actor=inst_actor, project=draft)
    project = services.project_approve(actor=province_actor, project=project)
    return services.project_publish(actor=province_actor, project=project)


def test_change_request_notifies_and_sends_the_signal(published, inst_actor, province_actor, term):
    received = []

    def receiver(sender, project, change_request, actor, **kwargs):
        received.append((project.pk, change_request.kind, change_request.is_major, change_request.status))

    project_change_approved.connect(receiver)
    try:
        project_class = published.classes.get()
        new_start, new_end = class_dates(term, offset=20)
        with pytest.raises(InvalidInput):
            services.change_request_create(
                actor=inst_actor, project=published, kind="dates", reason="", proposed={}, project_class=project_class
            )
        change = services.change_request_create(
            actor=inst_actor,
            project=published,
            kind="dates",
            reason="场地检修，顺延两周",
            proposed={"starts_on": new_start.isoformat(), "ends_on": new_end.isoformat()},
            project_class=project_class,
        )
        assert Notification.objects.filter(user=province_actor.user, title__contains=published.name).exists()
        with pytest.raises(Conflict):  # one pending change of a kind at a time
            services.change_request_create(
                actor=inst_actor,
                project=published,
                kind="dates",
                reason="again",
                proposed={"starts_on": new_start.isoformat(), "ends_on": new_end.isoformat()},
                project_class=project_class,
            )
        with pytest.raises(PermissionDenied):
            services.change_request_approve(actor=inst_actor, change_request=change)
        assert received == []
        change = services.change_request_approve(actor=province_actor, change_request=change, note="同意")
    finally:
        project_change_approved.disconnect(receiver)
    assert received == [(published.pk, "dates", True, "approved")]
    project_class.refresh_from_db()
    assert (project_class.starts_on, project_class.ends_on) == (new_start, new_end)
    assert change.previous["starts_on"] != change.proposed["starts_on"]
    assert Notification.objects.filter(user=inst_actor.user, title__contains="变更").exists()
    assert ProjectEvent.objects.filter(project=published, kind="change_approved").exists()
    with pytest.raises(Conflict):
        services.change_request_approve(actor=province_actor, change_request=change)


def test_format_change_to_online_recomputes_credits(published, inst_actor, province_actor):
    change = services.change_request_create(
        actor=inst_actor, project=published, kind="format", reason="疫情防控改为线上", proposed={"format": "online"}
    )
    services.change_request_approve(actor=province_actor, change_request=change)
    published.refresh_from_db()
    assert published.format == "online" and published.hours_online == Decimal("40") and published.hours_offline == 0
    assert published.credits_online == published.credits == Decimal("4.0")


def test_lecturer_change_and_rejection(published, inst_actor, province_actor):
    old = published.lecturers.get()
    change = services.change_request_create(
        actor=inst_actor,
        project=published,
        kind="lecturers",
        reason="原讲师出国",
        proposed={
            "add": [
                {
                    "name": "新讲师",
                    "organisation": "省教研室",
                    "title": "正高级教师",
                    "expertise": "数学",
                    "phone": "13900000000",
                }
            ],
            "remove": [old.pk],
        },
    )
    services.change_request_approve(actor=province_actor, change_request=change)
    assert list(published.lecturers.values_list("name", flat=True)) == ["新讲师"]
    place = services.change_request_create(
        actor=inst_actor,
        project=published,
        kind="place",
        reason="换场地",
        proposed={"place": "东湖宾馆"},
        project_class=published.classes.get(),
    )
    with pytest.raises(InvalidInput):
        services.change_request_reject(actor=province_actor, change_request=place, note="")
    place = services.change_request_reject(actor=province_actor, change_request=place, note="场地不符合要求")
    assert place.status == ChangeRequest.Status.REJECTED
    assert published.classes.get().place == "示范师范大学"


def test_soft_delete_keeps_the_row_and_the_audit_trail(published, province_actor, inst_actor):
    received = []

    def receiver(sender, project, actor, reason, **kwargs):
        received.append((project.pk, project.status, reason))

    with pytest.raises(InvalidInput):
        services.project_delete(actor=province_actor, project=published, reason="重复申报", confirm="wrong")
    with pytest.raises(InvalidInput):
        services.project_delete(actor=province_actor, project=published, reason="", confirm=published.code)
    with pytest.raises(PermissionDenied):
        services.project_delete(actor=inst_actor, project=published, reason="x", confirm=published.code)
    project_deleted.connect(receiver)
    try:
        project = services.project_delete(
            actor=province_actor, project=published, reason="重复申报", confirm=published.code
        )
    finally:
        project_deleted.disconnect(receiver)
    assert received == [(published.pk, S.DELETED, "重复申报")]
    project = Project.objects.get(pk=published.pk)
    assert project.status == S.DELETED and project.deleted_at and project.delete_reason == "重复申报"
    actions = list(
        AuditLog.objects.filter(object_type="catalog.project", object_id=str(project.pk)).values_list(
            "action", flat=True
        )
    )
    assert (
        "catalog.project.delete" in actions
        and "catalog.project.publish" in actions
        and "catalog.project.create" in actions
    )
    assert project.events.filter(kind="deleted").exists()
    teacher = make_actor(Role.TEACHER)
    assert not selectors.catalog_list(actor=teacher).filter(pk=project.pk).exists()


def test_credit_attribute_correction_after_publication(published, province_actor, inst_actor, county):
    with pytest.raises(PermissionDenied):
        services.project_correct_credits(
            actor=make_actor(Role.COUNTY, region=county), project=published, credit_category="zizhu", reason="x"
        )
    active_policy_with(
        published.region,
        conversion=[
            {"category": "", "level": "", "format": "", "hours_per_credit": "10"},
            {"category": "zizhu", "hours_per_credit": "20"},
        ],
    )
    project = services.project_correct_credits(
        actor=province_actor, project=published, credit_category="zizhu", reason="类别填错"
    )
    assert (project.credit_category, project.credits) == ("zizhu", Decimal("2.0"))
    record = AuditLog.objects.get(action="catalog.project.correct_credits")
    assert record.before["credit_category"] == "tongchou" and Decimal(record.after["credits"]) == 2


def test_schedule_countdown_and_late_flag(published, inst_actor, province_actor, term):
    project_class = published.classes.get()
    assert project_class.schedule_deadline == project_class.starts_on - timedelta(days=5)
    due = selectors.schedule_due(actor=inst_actor, term=term, within_days=60)
    assert list(due) == [project_class]
    on_time = services.class_schedule_publish(actor=inst_actor, project_class=project_class, schedule="第1天：开班")
    assert not on_time.schedule_published_late
    soon = timezone.localdate() + timedelta(days=3)
    late_class = ProjectClassFactory(project=published, number=2, starts_on=soon, ends_on=soon)
    assert list(selectors.late_schedules(actor=province_actor, term=term)) == [late_class]
    services.class_schedule_publish(actor=inst_actor, project_class=late_class, schedule="补发课表")
    late_class.refresh_from_db()
    assert late_class.schedule_published_late
    assert list(selectors.late_schedules(actor=province_actor, term=term)) == [late_class]


def test_start_and_finish_follow_the_class_dates(published, inst_actor):
    project_class = published.classes.get()
    with pytest.raises(Conflict):
        services.project_start(actor=inst_actor, project=published)
    assert services.projects_advance(today=project_class.starts_on) == {"started": 1, "finished": 0}
    assert services.projects_advance(today=project_class.ends_on) == {"started": 0, "finished": 0}
    assert services.projects_advance(today=project_class.ends_on + timedelta(days=1)) == {"started": 0, "finished": 1}
    assert Project.objects.get(pk=published.pk).status == S.FINISHED


# --- experts ------------------------------------------------------------------------------


def test_expert_samples_lecturers_and_records_the_result(inst_actor, term, leader, province):
    project = services.project_submit(actor=inst_actor, project=make_draft(inst_actor, term, leader, lecturers=3))
    expert = make_actor(Role.EXPERT, region=province)
    import random

    checks = services.lecturer_sample(actor=expert, project=project, count=2, rng=random.Random(1))
    assert len(checks) == 2 and all(c.result == "pending" for c in checks)
    more = services.lecturer_sample(actor=expert, project=project, count=5)
    assert len(more) == 1  # only the one not drawn yet
    with pytest.raises(Conflict):
        services.lecturer_sample(actor=expert, project=project, count=1)
    with pytest.raises(InvalidInput):
        services.lecturer_check_record(actor=expert, check=checks[0], result="pending")
    check = services.lecturer_check_record(actor=expert, check=checks[0], result="confirmed", note="电话确认")
    assert check.checked_by == expert.user and check.checked_at
    with pytest.raises(PermissionDenied):
        services.lecturer_sample(actor=inst_actor, project=project, count=1)
    assert LecturerCheck.objects.filter(project=project).count() == 3


def test_staff_records(inst_actor, flagship):
    from tests.factories import unique_national_id

    staff = services.staff_create(
        actor=inst_actor, name="王教授", national_id=unique_national_id(), title="senior", specialty=["math"]
    )
    assert staff.institution == flagship
    with pytest.raises(Conflict):
        services.staff_create(
            actor=inst_actor, name="王教授", national_id=staff.national_id, title="senior", specialty=["math"]
        )
    with pytest.raises(InvalidInput):
        services.staff_create(actor=inst_actor, name="李", national_id="123", title="senior", specialty=["math"])
    services.staff_update(actor=inst_actor, staff=staff, title="assoc_senior", specialty=["math", "science"])
    staff.refresh_from_db()
    assert staff.specialty == ",math,science,"
