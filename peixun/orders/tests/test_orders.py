"""County order demands, the province's order list and who sees which order."""

import pytest
from django.urls import reverse

from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog, Notification
from peixun.core.roles import Role
from peixun.orders import rules, selectors, services
from peixun.orders.models import Order, OrderRecipient
from peixun.terms.models import WindowKind as W
from tests.factories import CountyFactory, InstitutionFactory, OrderFactory, make_actor, term_windows_open

from .conftest import close_window, future_window, institution_actor, order_data

pytestmark = pytest.mark.django_db


def post_order(actor, term, intended=(), **overrides):
    return services.order_create(
        actor=actor, term=term, intended_institutions=list(intended), post=True, **order_data(**overrides)
    )


# --- posting ------------------------------------------------------------------------------


def test_county_posts_an_order_with_every_field_of_attachment_3(term, county_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND)
    order = post_order(county_actor, term, intended=takers[:2])
    order.refresh_from_db()
    assert order.status == Order.Status.POSTED and order.posted_at is not None
    assert order.county == county_actor.region and order.term == term
    assert order.stage_list == ["primary"] and order.subject_list == ["math"]
    assert (order.trainee_count, order.days, order.level, order.format) == (45, 5, "county", "face")
    assert order.contact_person == "李老师" and order.contact_phone == "13900001111"
    assert set(order.intended_institutions.all()) == set(takers[:2])
    assert order.code.startswith(f"{term.code}-{county_actor.region.code}-")
    assert list(AuditLog.objects.filter(object_id=str(order.pk)).values_list("action", flat=True).order_by("id")) == [
        "orders.order.create",
        "orders.order.post",
    ]


def test_drafts_before_the_window_posting_only_inside_it(term, county_actor):
    future_window(term, W.ORDER_DEMAND)
    order = services.order_create(actor=county_actor, term=term, **order_data())
    assert order.status == Order.Status.DRAFT
    with pytest.raises(WindowClosed) as excinfo:
        services.order_post(actor=county_actor, order=order)
    assert excinfo.value.details["window"] == W.ORDER_DEMAND and excinfo.value.status == 409
    term_windows_open(term, W.ORDER_DEMAND)
    assert services.order_post(actor=county_actor, order=order).status == Order.Status.POSTED


def test_nothing_after_the_demand_window(term, county_actor):
    term_windows_open(term, W.ORDER_DEMAND)
    draft = services.order_create(actor=county_actor, term=term, **order_data())
    posted = post_order(county_actor, term)
    close_window(term, W.ORDER_DEMAND)
    for call in (
        lambda: services.order_create(actor=county_actor, term=term, **order_data()),
        lambda: services.order_post(actor=county_actor, order=draft),
        lambda: services.order_update(actor=county_actor, order=posted, **order_data(name="改")),
        lambda: services.order_unpost(actor=county_actor, order=posted),
    ):
        with pytest.raises(WindowClosed):
            call()
    posted.refresh_from_db()
    assert posted.name != "改"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"goals": "目" * 201}, "goals"),
        ({"course_requirements": "课" * 201}, "course_requirements"),
        ({"name": "  "}, "name"),
        ({"target_stages": []}, "target_stages"),
        ({"target_stages": ["university"]}, "target_stages"),
        ({"trainee_count": 0}, "trainee_count"),
        ({"days": "x"}, "days"),
        ({"level": "school"}, "level"),
        ({"format": "correspondence"}, "format"),
        ({"contact_phone": "abc"}, "contact_phone"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_changes_nothing(term, county_actor, overrides, field):
    term_windows_open(term, W.ORDER_DEMAND)
    with pytest.raises(InvalidInput) as excinfo:
        services.order_create(actor=county_actor, term=term, **order_data(**overrides))
    assert excinfo.value.details["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in excinfo.value.message)
    assert not Order.objects.exists()


def test_goals_of_exactly_200_characters_are_fine(term, county_actor):
    term_windows_open(term, W.ORDER_DEMAND)
    order = services.order_create(actor=county_actor, term=term, **order_data(goals="目" * 200))
    assert len(order.goals) == 200


def test_at_most_three_intended_institutions_all_able_to_take_orders(
    term, county_actor, takers, newcomer, local_school
):
    term_windows_open(term, W.ORDER_DEMAND)
    with pytest.raises(InvalidInput) as excinfo:
        post_order(county_actor, term, intended=[*takers, InstitutionFactory()])
    assert excinfo.value.details["field"] == "intended_institutions"
    for refused in (newcomer, local_school, InstitutionFactory(may_take_orders=False)):
        with pytest.raises(InvalidInput) as excinfo:
            post_order(county_actor, term, intended=[takers[0], refused])
        assert refused.name in excinfo.value.message
    assert not Order.objects.exists()


def test_only_a_county_bureau_posts_and_only_its_own(term, county_actor, other_county_actor, province_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND)
    for actor in (
        province_actor,
        institution_actor(takers[0]),
        make_actor(Role.CITY, region=county_actor.region.parent),
    ):
        with pytest.raises(PermissionDenied):
            services.order_create(actor=actor, term=term, **order_data())
    order = services.order_create(actor=county_actor, term=term, **order_data())
    with pytest.raises(NotFound):
        services.order_update(actor=other_county_actor, order=order, **order_data(name="别人的"))
    with pytest.raises(NotFound):
        services.order_post(actor=other_county_actor, order=order)


def test_edit_and_take_back_while_the_window_is_open(term, county_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND)
    order = post_order(county_actor, term)
    services.order_update(actor=county_actor, order=order, intended_institutions=[takers[0]], **order_data(days=2))
    order.refresh_from_db()
    assert order.days == 2 and list(order.intended_institutions.all()) == [takers[0]]
    assert services.order_unpost(actor=county_actor, order=order).status == Order.Status.DRAFT
    with pytest.raises(Conflict):
        services.order_unpost(actor=county_actor, order=order)


# --- the province publishes the order list -------------------------------------------------------


def test_province_publishes_the_list_in_its_window_and_pushes_to_the_right_institutions(
    term, county_actor, province_actor, takers, newcomer, local_school
):
    barred = InstitutionFactory(may_take_orders=False)
    term_windows_open(term, W.ORDER_DEMAND)
    targeted = post_order(county_actor, term, intended=takers[:1])
    open_to_all = post_order(county_actor, term)
    draft = services.order_create(actor=county_actor, term=term, **order_data())
    make_actor(Role.INSTITUTION, institution=takers[0])
    make_actor(Role.INSTITUTION, institution=takers[1])
    newcomer_user = make_actor(Role.INSTITUTION, institution=newcomer).user

    with pytest.raises(WindowClosed):
        services.order_list_publish(actor=province_actor, term=term)
    term_windows_open(term, W.ORDER_PUBLISH)
    with pytest.raises(PermissionDenied):
        services.order_list_publish(actor=county_actor, term=term)
    published = services.order_list_publish(actor=province_actor, term=term)

    assert {o.pk for o in published} == {targeted.pk, open_to_all.pk}
    for order in (targeted, open_to_all):
        order.refresh_from_db()
        assert order.status == Order.Status.PUBLISHED and order.published_at
    draft.refresh_from_db()
    assert draft.status == Order.Status.DRAFT
    assert set(OrderRecipient.objects.filter(order=targeted).values_list("institution", flat=True)) == {takers[0].pk}
    everyone = set(OrderRecipient.objects.filter(order=open_to_all).values_list("institution", flat=True))
    assert everyone == {t.pk for t in takers}
    assert not {newcomer.pk, local_school.pk, barred.pk} & everyone
    # Pushed: the named institution is told by name, every taker is told of the open orders.
    assert Notification.objects.filter(user__grants__institution=takers[0], title__contains=targeted.name).exists()
    assert Notification.objects.filter(user__grants__institution=takers[1], title__contains="1").exists()
    assert not Notification.objects.filter(user=newcomer_user).exists()
    assert AuditLog.objects.filter(action="orders.list.publish").count() == 1
    with pytest.raises(Conflict):  # nothing left to publish
        services.order_list_publish(actor=province_actor, term=term)
    with pytest.raises(Conflict):  # on the list: no more edits
        services.order_update(actor=county_actor, order=targeted, **order_data())


def test_coverage_shows_counties_below_the_minimum_and_reminds_them(term, county, other_county, province_actor):
    OrderFactory.create_batch(3, term=term, county=county)
    OrderFactory(term=term, county=other_county)
    OrderFactory(term=term, county=other_county, status=Order.Status.DRAFT)
    OrderFactory(term=term, county=other_county, status=Order.Status.CANCELLED)
    rows = {r["county"].pk: r for r in selectors.coverage(actor=province_actor, term=term)}
    assert rows[county.pk]["posted"] == 3 and not rows[county.pk]["below"]
    assert rows[other_county.pk]["posted"] == 1 and rows[other_county.pk]["missing"] == 2
    assert rows[other_county.pk]["drafts"] == 1 and rows[other_county.pk]["below"]
    officer = make_actor(Role.COUNTY, region=other_county).user
    happy = make_actor(Role.COUNTY, region=county).user
    assert services.counties_remind(actor=province_actor, term=term) == 1
    assert Notification.objects.filter(user=officer).count() == 1
    assert not Notification.objects.filter(user=happy).exists()


def test_cancelling_a_published_order_tells_its_recipients(term, county_actor, province_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND, W.ORDER_PUBLISH)
    order = post_order(county_actor, term, intended=takers[:2])
    services.order_list_publish(actor=province_actor, term=term)
    users = [make_actor(Role.INSTITUTION, institution=t).user for t in takers]
    with pytest.raises(InvalidInput):
        services.order_cancel(actor=county_actor, order=order, reason=" ")
    services.order_cancel(actor=county_actor, order=order, reason="经费调整，取消本订单")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.stage == rules.Stage.CANCELLED
    assert Notification.objects.filter(user=users[0], body="经费调整，取消本订单").exists()
    assert not Notification.objects.filter(user=users[2]).exists()
    with pytest.raises(Conflict):
        services.order_cancel(actor=county_actor, order=order, reason="again")


# --- visibility ---------------------------------------------------------------------------


@pytest.fixture
def published(term, county_actor, province_actor, takers):
    """A targeted order (takers[0] only) and an untargeted one, on the published list."""
    term_windows_open(term, W.ORDER_DEMAND, W.ORDER_PUBLISH)
    targeted = post_order(county_actor, term, intended=takers[:1], name="定向订单")
    open_to_all = post_order(county_actor, term, name="公开订单")
    services.order_list_publish(actor=province_actor, term=term)
    return targeted, open_to_all


def test_institutions_see_only_orders_pushed_to_them(published, term, takers, newcomer, other_county_actor):
    targeted, open_to_all = published
    named, other = institution_actor(takers[0]), institution_actor(takers[1])
    assert {o.pk for o in selectors.order_list(actor=named, term=term)} == {targeted.pk, open_to_all.pk}
    assert {o.pk for o in selectors.order_list(actor=other, term=term)} == {open_to_all.pk}
    with pytest.raises(NotFound):
        selectors.order_get(actor=other, order_id=targeted.pk)
    young = institution_actor(newcomer)
    assert not selectors.order_list(actor=young, term=term).exists()
    with pytest.raises(NotFound):
        selectors.order_get(actor=young, order_id=open_to_all.pk)
    assert not selectors.order_list(actor=other_county_actor, term=term).exists()


def test_an_institution_never_sees_orders_before_the_list_is_published(term, county_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND)
    order = post_order(county_actor, term, intended=takers[:1])
    actor = institution_actor(takers[0])
    assert not selectors.order_list(actor=actor, term=term).exists()
    with pytest.raises(NotFound):
        selectors.order_get(actor=actor, order_id=order.pk)


def test_a_non_intended_institution_gets_404_on_the_page_and_the_api(client, published, takers, newcomer):
    from peixun.accounts.services import token_create

    targeted, open_to_all = published
    for institution in (takers[1], newcomer):
        actor = institution_actor(institution)
        client.force_login(actor.user)
        assert client.get(reverse("orders:order_detail", args=[targeted.pk])).status_code == 404
        _token, raw = token_create(actor=actor, name="t")
        response = client.get(f"/api/orders/orders/{targeted.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    actor = institution_actor(takers[0])
    client.force_login(actor.user)
    response = client.get(reverse("orders:order_detail", args=[targeted.pk]))
    assert response.status_code == 200 and "定向订单" in response.content.decode()


def test_city_sees_its_counties_orders_only(term, county):
    mine = OrderFactory(term=term, county=county)
    neighbour = OrderFactory(term=term, county=CountyFactory(parent=county.parent))
    OrderFactory(term=term, county=CountyFactory())  # another city
    city = make_actor(Role.CITY, region=county.parent)
    assert set(selectors.order_list(actor=city, term=term).values_list("pk", flat=True)) == {mine.pk, neighbour.pk}
