"""Institutions respond, the county chooses, the chosen institution applies, the county reviews and publishes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from peixun.catalog import rules as catalog_rules
from peixun.catalog import selectors as catalog_selectors
from peixun.catalog import services as catalog
from peixun.catalog.models import Project, Quota, RegionCap
from peixun.core.choices import Title
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.orders import rules, selectors, services
from peixun.orders.models import Order, OrderRecipient, OrderResponse
from peixun.terms.models import WindowKind as W
from tests.factories import InstitutionFactory, StaffMemberFactory, TeacherFactory, make_actor, term_windows_open

from .conftest import close_window, future_window, institution_actor, order_data
from .test_pages import bearer

pytestmark = pytest.mark.django_db

RS = OrderResponse.Status
S = Project.Status
CLASS_START = date(2024, 5, 6)  # inside the preset training period


def publish_order(term, county_actor, province_actor, intended=(), **overrides) -> Order:
    """Post an order and publish the order list (pushing it) through the services."""
    term_windows_open(term, W.ORDER_DEMAND, W.ORDER_PUBLISH)
    order = services.order_create(
        actor=county_actor,
        term=term,
        intended_institutions=list(intended),
        post=True,
        **order_data(**overrides),
    )
    services.order_list_publish(actor=province_actor, term=term)
    order.refresh_from_db()
    return order


def respond(actor, order, *, submit=True, lecturer=True, **kw) -> OrderResponse:
    """Respond with a complete draft: leader, one class, fees, one lecturer (then submit)."""
    term_windows_open(order.term, W.ORDER_RESPONSE)
    leader = kw.pop("leader", None) or StaffMemberFactory(institution=actor.institution)
    response = services.response_create(
        actor=actor,
        order=order,
        note=kw.pop("note", "我院在该领域有丰富经验"),
        class_starts_on=CLASS_START,
        class_place="县教师发展中心",
        leader=leader,
        fee_training=Decimal("800"),
        fee_meals=Decimal("200"),
        **kw,
    )
    if lecturer:
        catalog.lecturer_add(
            actor=actor,
            project=response.project,
            name=f"讲师{response.pk}",
            organisation="示范师范大学",
            title="教授",
            expertise="数学教育",
            phone=f"1390000{response.pk:04d}",
        )
    if submit:
        response = services.response_submit(actor=actor, response=response)
    return response


@pytest.fixture
def actors(takers):
    return [institution_actor(i) for i in takers]


@pytest.fixture
def order(term, county_actor, province_actor, takers):
    """An order without intended institutions, pushed to every order taker."""
    return publish_order(term, county_actor, province_actor)


@pytest.fixture(autouse=True)
def _apply_window_ahead(term):
    """Drafts of order projects may be prepared until the order application window closes."""
    future_window(term, W.ORDER_APPLY)


# --- responding ---------------------------------------------------------------------------------


def test_a_response_is_a_draft_order_project_prefilled_from_the_order(order, actors, county):
    response = respond(actors[0], order, submit=False)
    project = response.project
    assert response.status == RS.DRAFT and response.institution == actors[0].institution
    assert project.status == S.DRAFT and project.is_order_project
    assert project.region == county  # reviewed and published by the ordering county
    assert (project.name, project.theme, project.goals, project.content) == (
        order.name,
        order.theme,
        order.goals,
        order.course_requirements,
    )
    assert (project.level, project.format, project.field, project.days) == ("county", "face", order.field, 5)
    assert project.stage_list == ["primary"] and project.subject_list == ["math"]
    assert project.subject_category == "math" and project.credit_category == "tongchou"
    assert project.hours_offline == Decimal("40") and project.credits > 0
    assert project.fee_total == Decimal("1000")
    assert list(project.target_regions.all()) == [county]
    (only_class,) = project.classes.all()
    assert only_class.capacity == order.trainee_count
    assert (only_class.starts_on, only_class.ends_on) == (CLASS_START, CLASS_START + timedelta(days=4))
    assert AuditLog.objects.filter(action="orders.response.create", object_id=str(response.pk)).exists()
    assert AuditLog.objects.filter(action="catalog.project.create", object_id=str(project.pk)).exists()


def test_several_institutions_respond_but_each_only_once(order, actors):
    first = respond(actors[0], order)
    second = respond(actors[1], order)
    assert {first.status, second.status} == {RS.SUBMITTED}
    with pytest.raises(Conflict):
        respond(actors[0], order)
    assert OrderResponse.objects.filter(order=order).count() == 2
    order = selectors.order_get(actor=actors[2], order_id=order.pk)
    assert order.stage == rules.Stage.RESPONDED and order.response_count == 2


def test_submitting_tells_the_county(order, actors, county_actor):
    respond(actors[0], order)
    note = Notification.objects.get(user=county_actor.user, title__contains=actors[0].institution.name)
    assert order.name in note.title and note.link.endswith(f"/orders/{order.pk}/")


def test_responses_only_in_the_response_window(order, actors):
    close_window(order.term, W.ORDER_RESPONSE)
    with pytest.raises(WindowClosed) as excinfo:
        services.response_create(actor=actors[0], order=order)
    assert excinfo.value.details["window"] == W.ORDER_RESPONSE
    draft = respond(actors[1], order, submit=False)
    for move in (close_window, future_window):
        move(order.term, W.ORDER_RESPONSE)
        with pytest.raises(WindowClosed):
            services.response_submit(actor=actors[1], response=draft)
    draft.refresh_from_db()
    assert draft.status == RS.DRAFT
    assert not OrderResponse.objects.filter(institution=actors[0].institution).exists()
    assert not Project.objects.filter(institution=actors[0].institution).exists()


def test_submitting_needs_a_complete_draft(order, actors):
    response = respond(actors[0], order, submit=False)
    catalog.project_update(actor=actors[0], project=response.project, content="")
    with pytest.raises(InvalidInput) as excinfo:
        services.response_submit(actor=actors[0], response=response)
    assert "课程内容" in excinfo.value.message or excinfo.value.details["field"] == "content"
    response.refresh_from_db()
    assert response.status == RS.DRAFT


def test_bad_response_input_changes_nothing(order, actors):
    term_windows_open(order.term, W.ORDER_RESPONSE)
    with pytest.raises(InvalidInput):
        services.response_create(actor=actors[0], order=order, fee_training="很多")
    with pytest.raises(InvalidInput):
        services.response_create(actor=actors[0], order=order, credits=Decimal("99"))
    with pytest.raises(InvalidInput):  # the class must be inside the training period
        services.response_create(
            actor=actors[0], order=order, class_starts_on=date(2030, 1, 1), class_place="县教师发展中心"
        )
    assert not OrderResponse.objects.exists() and not Project.objects.exists()


# --- who may respond ------------------------------------------------------------------------------


def test_only_intended_institutions_see_and_answer_a_named_order(term, county_actor, province_actor, takers, actors):
    named = publish_order(term, county_actor, province_actor, intended=takers[:1])
    with pytest.raises(NotFound):
        selectors.order_get(actor=actors[1], order_id=named.pk)
    term_windows_open(term, W.ORDER_RESPONSE)
    with pytest.raises(PermissionDenied):
        services.response_create(actor=actors[1], order=named)
    assert respond(actors[0], named).status == RS.SUBMITTED


def test_the_under_one_year_institution_never_sees_or_answers_orders(order, newcomer, client):
    actor = institution_actor(newcomer)
    assert not OrderRecipient.objects.filter(institution=newcomer).exists()
    with pytest.raises(NotFound):
        selectors.order_get(actor=actor, order_id=order.pk)
    assert not selectors.order_list(actor=actor, term=order.term).exists()
    term_windows_open(order.term, W.ORDER_RESPONSE)
    with pytest.raises(PermissionDenied):
        services.response_create(actor=actor, order=order)
    client.force_login(actor.user)
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    assert client.get(f"/api/orders/orders/{order.pk}", **bearer(actor)).status_code == 404
    # Even pushed by mistake, it is refused: the qualification is checked when it responds.
    OrderRecipient.objects.create(order=order, institution=newcomer)
    with pytest.raises(PermissionDenied):
        services.response_create(actor=actor, order=order)
    assert not OrderResponse.objects.exists()


def test_an_institution_requalified_recently_is_refused_after_the_push(order, takers, actors):
    InstitutionFactory._meta.model.objects.filter(pk=takers[0].pk).update(qualified_on=date.today())
    actors[0].institution.refresh_from_db()
    term_windows_open(order.term, W.ORDER_RESPONSE)
    with pytest.raises(PermissionDenied):
        services.response_create(actor=actors[0], order=order)


def test_other_roles_cannot_respond(order, county_actor, province_actor):
    term_windows_open(order.term, W.ORDER_RESPONSE)
    for actor in (county_actor, province_actor):
        with pytest.raises(PermissionDenied):
            services.response_create(actor=actor, order=order)


# --- withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_a_response_withdraws_its_project_and_allows_a_new_one(order, actors, county_actor):
    response = respond(actors[0], order)
    services.response_withdraw(actor=actors[0], response=response, reason="师资安排冲突")
    response.refresh_from_db()
    response.project.refresh_from_db()
    assert response.status == RS.WITHDRAWN and response.project.status == S.WITHDRAWN
    assert Notification.objects.filter(user=county_actor.user, title__contains="撤回").exists()
    again = respond(actors[0], order)
    assert again.status == RS.SUBMITTED and again.project != response.project
    with pytest.raises(Conflict):
        services.response_withdraw(actor=actors[0], response=response)


# --- the county's choice --------------------------------------------------------------------------


@pytest.fixture
def three_responses(order, actors):
    """Two submitted responses and one still a draft."""
    return [respond(actors[0], order), respond(actors[1], order), respond(actors[2], order, submit=False)]


def test_choosing_one_response_closes_the_others_with_the_remark(order, three_responses, county_actor, actors):
    chosen, other, draft = three_responses
    term_windows_open(order.term, W.ORDER_SELECT)
    remark = "方案更贴合我县小学数学教师的实际需求"
    services.response_select(actor=county_actor, response=chosen, remark=remark)
    for r in three_responses:
        r.refresh_from_db()
        r.project.refresh_from_db()
    order.refresh_from_db()
    assert order.status == Order.Status.SELECTED and order.selected_at is not None
    assert chosen.status == RS.SELECTED and chosen.county_remark == remark and chosen.project.status == S.DRAFT
    for closed in (other, draft):
        assert closed.status == RS.NOT_SELECTED and closed.county_remark == remark
        assert closed.project.status == S.WITHDRAWN  # closed by the county through the catalog
        assert closed.decided_by == county_actor.user
        told = Notification.objects.get(user=actors[three_responses.index(closed)].user, title__contains="未被选中")
        assert remark in told.body
    chosen_note = Notification.objects.get(user=actors[0].user, title__contains="选定")
    assert remark in chosen_note.body
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.CHOSEN
    # No second choice, no new responses; decided responses are neither withdrawn nor resubmitted.
    with pytest.raises(Conflict):
        services.response_select(actor=county_actor, response=other, remark="改选")
    with pytest.raises(Conflict):
        services.response_withdraw(actor=actors[0], response=chosen)
    with pytest.raises(Conflict):
        services.response_submit(actor=actors[2], response=draft)
    term_windows_open(order.term, W.ORDER_RESPONSE)
    with pytest.raises(Conflict):
        services.response_create(actor=actors[1], order=order)


def test_choosing_needs_the_window_a_remark_and_a_submitted_response(order, three_responses, county_actor):
    chosen, _other, draft = three_responses
    for move in (close_window, future_window):
        move(order.term, W.ORDER_SELECT)
        with pytest.raises(WindowClosed) as excinfo:
            services.response_select(actor=county_actor, response=chosen, remark="选定")
        assert excinfo.value.details["window"] == W.ORDER_SELECT
    term_windows_open(order.term, W.ORDER_SELECT)
    with pytest.raises(InvalidInput):
        services.response_select(actor=county_actor, response=chosen, remark="  ")
    with pytest.raises(InvalidInput):
        services.response_select(actor=county_actor, response=chosen, remark="长" * 301)
    with pytest.raises(Conflict):  # a draft was never handed to the county
        services.response_select(actor=county_actor, response=draft, remark="选定")
    order.refresh_from_db()
    assert order.status == Order.Status.PUBLISHED
    assert set(OrderResponse.objects.values_list("status", flat=True)) == {RS.SUBMITTED, RS.DRAFT}


def test_only_the_ordering_county_chooses(order, three_responses, other_county_actor, province_actor, actors):
    term_windows_open(order.term, W.ORDER_SELECT)
    for actor in (other_county_actor, province_actor, actors[0]):
        with pytest.raises((PermissionDenied, NotFound)):
            services.response_select(actor=actor, response=three_responses[0], remark="选定")
    assert not OrderResponse.objects.filter(status=RS.SELECTED).exists()


def test_cancelling_an_order_closes_its_responses(order, three_responses, county_actor, actors):
    services.order_cancel(actor=county_actor, order=order, reason="经费调整，本订单撤销")
    assert set(OrderResponse.objects.values_list("status", flat=True)) == {RS.NOT_SELECTED}
    assert set(Project.objects.values_list("status", flat=True)) == {S.WITHDRAWN}
    note = Notification.objects.filter(user=actors[0].user, title__contains="订单已撤销").get()
    assert "经费调整" in note.body


# --- formal application, review, publication --------------------------------------------------------


@pytest.fixture
def chosen(order, three_responses, county_actor):
    term_windows_open(order.term, W.ORDER_SELECT)
    return services.response_select(actor=county_actor, response=three_responses[0], remark="方案最优")


def test_not_chosen_projects_are_never_applied_whatever_the_page(order, three_responses, county_actor, actors):
    term_windows_open(order.term, W.ORDER_APPLY)
    # Before the choice nobody may apply, through the orders service or the catalog's submission.
    with pytest.raises(Conflict):
        services.response_apply(actor=actors[0], response=three_responses[0])
    with pytest.raises(Conflict) as excinfo:
        catalog.project_submit(actor=actors[0], project=three_responses[0].project)
    assert excinfo.value.details["rule"] == "order_selected"
    term_windows_open(order.term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=three_responses[0], remark="方案最优")
    with pytest.raises(Conflict):
        services.response_apply(actor=actors[1], response=three_responses[1])
    assert Project.objects.filter(status=S.SUBMITTED).count() == 0


def test_the_chosen_institution_applies_in_the_order_apply_window(order, chosen, county_actor, actors):
    for move in (close_window, future_window):
        move(order.term, W.ORDER_APPLY)
        with pytest.raises(WindowClosed):
            services.response_apply(actor=actors[0], response=chosen)
    term_windows_open(order.term, W.ORDER_APPLY)
    # Revising is editing the catalog project like any other.
    catalog.project_update(actor=actors[0], project=chosen.project, content="专题讲座、课例研讨、县内学校磨课与展示")
    services.response_apply(actor=actors[0], response=chosen)
    chosen.project.refresh_from_db()
    assert chosen.project.status == S.SUBMITTED and chosen.project.submitted_at is not None
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.APPLIED
    assert Notification.objects.filter(user=county_actor.user, title__contains="正式申报").exists()
    with pytest.raises(Conflict):  # already applied
        services.response_apply(actor=actors[0], response=chosen)


def test_order_projects_follow_the_province_wide_rules(order, chosen, actors):
    project = chosen.project
    weak = StaffMemberFactory(institution=actors[0].institution, title=Title.INTERMEDIATE)
    catalog.project_update(actor=actors[0], project=project, leader=weak)
    term_windows_open(order.term, W.ORDER_APPLY)
    with pytest.raises(InvalidInput) as excinfo:
        services.response_apply(actor=actors[0], response=chosen)
    assert excinfo.value.details["rule"] == "leader_title"
    with pytest.raises(InvalidInput):  # fees: nothing beyond the components
        catalog.project_update(actor=actors[0], project=project, fee_total=Decimal("1500"), fee_training=Decimal("900"))
    catalog.lecturer_remove(actor=actors[0], project=project, lecturer=project.lecturers.get())
    with pytest.raises(InvalidInput) as excinfo:
        services.response_apply(actor=actors[0], response=chosen)
    problems = excinfo.value.details["problems"]
    assert any("授课专家" in p for p in problems) and any("副高" in p for p in problems)
    project.refresh_from_db()
    assert project.status == S.DRAFT


def _applied(order, chosen, actors):
    term_windows_open(order.term, W.ORDER_APPLY)
    services.response_apply(actor=actors[0], response=chosen)
    chosen.project.refresh_from_db()
    return chosen.project


def test_the_county_returns_approves_and_publishes(order, chosen, county_actor, actors, county):
    project = _applied(order, chosen, actors)
    term_windows_open(order.term, W.PROJECT_REVIEW)
    with pytest.raises(InvalidInput):
        services.order_project_review(actor=county_actor, order=order, action="return", reason="")
    services.order_project_review(actor=county_actor, order=order, action="return", reason="请补充磨课安排")
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.RETURNED
    assert Notification.objects.filter(user=actors[0].user, body__contains="磨课").exists()
    catalog.project_update(actor=actors[0], project=project, content="专题讲座、课例研讨、三次磨课")
    services.response_apply(actor=actors[0], response=chosen)  # resubmitted while reviews are open
    services.order_project_review(actor=county_actor, order=order, action="approve")
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.APPROVED
    close_window(order.term, W.PUBLICATION)
    with pytest.raises(WindowClosed):
        services.order_project_publish(actor=county_actor, order=order)
    term_windows_open(order.term, W.PUBLICATION)
    services.order_project_publish(actor=county_actor, order=order)
    project.refresh_from_db()
    assert project.status == S.PUBLISHED and project.region == county
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.PROJECT_PUBLISHED
    # It is in the catalog like any other project, for the county's teachers to select.
    teacher = TeacherFactory(school__county=county)
    actor = make_actor(Role.TEACHER, teacher=teacher)
    assert project in catalog_selectors.catalog_list(actor=actor, term_id=order.term_id, teacher=teacher)
    assert list(
        AuditLog.objects.filter(object_id=str(project.pk), action__startswith="catalog.project.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "catalog.project.create",
        "catalog.project.lecturer_add",
        "catalog.project.submit",
        "catalog.project.return",
        "catalog.project.update",
        "catalog.project.submit",
        "catalog.project.approve",
        "catalog.project.publish",
    ]


def test_review_needs_its_window_and_the_ordering_county(
    order, chosen, county_actor, other_county_actor, province_actor, actors
):
    _applied(order, chosen, actors)
    close_window(order.term, W.PROJECT_REVIEW)
    close_window(order.term, W.PUBLICATION)
    with pytest.raises(WindowClosed):
        services.order_project_review(actor=county_actor, order=order, action="approve")
    term_windows_open(order.term, W.PROJECT_REVIEW)
    for actor in (other_county_actor, province_actor, actors[0]):
        with pytest.raises((PermissionDenied, NotFound)):
            services.order_project_review(actor=actor, order=order, action="approve")
    with pytest.raises(PermissionDenied):  # nor through the catalog: only the responsible county
        catalog.project_approve(actor=province_actor, project=chosen.project)
    with pytest.raises(InvalidInput):
        services.order_project_review(actor=county_actor, order=order, action="publish")
    with pytest.raises(Conflict):  # not approved yet
        term_windows_open(order.term, W.PUBLICATION)
        services.order_project_publish(actor=county_actor, order=order)
    chosen.project.refresh_from_db()
    assert chosen.project.status == S.SUBMITTED


def test_no_review_before_an_institution_is_chosen(order, three_responses, county_actor):
    term_windows_open(order.term, W.PROJECT_REVIEW, W.PUBLICATION)
    with pytest.raises(Conflict):
        services.order_project_review(actor=county_actor, order=order, action="approve")
    with pytest.raises(Conflict):
        services.order_project_publish(actor=county_actor, order=order)


# --- quota ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uses_quota", [False, True])
def test_order_projects_count_against_the_quota_only_when_the_province_says_so(
    term, county_actor, province_actor, actors, uses_quota
):
    term.order_projects_use_quota = uses_quota
    term.save(update_fields=["order_projects_use_quota"])
    order = publish_order(term, county_actor, province_actor, level="provincial")
    response = respond(actors[0], order)
    Quota.objects.create(term=term, institution=actors[0].institution, limit=0)
    term_windows_open(term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=response, remark="选定")
    term_windows_open(term, W.ORDER_APPLY)
    if uses_quota:
        with pytest.raises(Conflict) as excinfo:
            services.response_apply(actor=actors[0], response=response)
        assert excinfo.value.details["rule"] == "quota"
    else:
        services.response_apply(actor=actors[0], response=response)
        assert catalog_rules.quota_used(term, actors[0].institution) == 0


def test_a_county_level_order_under_the_switch_counts_against_the_county_cap(
    term, county_actor, province_actor, actors, county
):
    term.order_projects_use_quota = True
    term.save(update_fields=["order_projects_use_quota"])
    order = publish_order(term, county_actor, province_actor)
    response = respond(actors[0], order)
    RegionCap.objects.create(term=term, region=county, limit=0)
    term_windows_open(term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=response, remark="选定")
    term_windows_open(term, W.ORDER_APPLY)
    with pytest.raises(Conflict) as excinfo:
        services.response_apply(actor=actors[0], response=response)
    assert excinfo.value.details["rule"] == "region_cap"


# --- the catalog keeps an order project with its county ---------------------------------------------


def test_editing_an_order_project_keeps_the_ordering_county(order, actors, county, other_county):
    project = respond(actors[0], order, submit=False).project
    catalog.project_update(actor=actors[0], project=project, level="provincial", region=None)
    project.refresh_from_db()
    assert project.region == county and project.level == "provincial"
    with pytest.raises(InvalidInput):
        catalog.project_update(actor=actors[0], project=project, level="county", region=other_county)
    project.refresh_from_db()
    assert project.region == county


def test_the_county_reopens_an_order_whose_chosen_institution_withdrew(order, chosen, county_actor, actors, client):
    with pytest.raises(Conflict):  # the chosen project is still alive
        services.order_reopen(actor=county_actor, order=order, reason="重新征集")
    catalog.project_withdraw(actor=actors[0], project=chosen.project, reason="师资变动无法承办")
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.PROJECT_CLOSED
    with pytest.raises(InvalidInput):
        services.order_reopen(actor=county_actor, order=order, reason=" ")
    with pytest.raises(PermissionDenied):
        services.order_reopen(actor=actors[0], order=order, reason="重新征集")
    services.order_reopen(actor=county_actor, order=order, reason="原承训机构撤回，重新征集响应")
    order.refresh_from_db()
    chosen.refresh_from_db()
    assert order.status == Order.Status.PUBLISHED and order.selected_at is None
    assert chosen.status == RS.WITHDRAWN
    assert Notification.objects.filter(user=actors[1].user, body__contains="重新征集").exists()
    # Institutions may respond again (the one that withdrew too) and the county chooses anew.
    again = respond(actors[1], order)
    term_windows_open(order.term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=again, remark="改由该机构承训")
    assert selectors.order_get(actor=county_actor, order_id=order.pk).stage == rules.Stage.CHOSEN
