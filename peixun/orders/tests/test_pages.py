"""Order pages and API for each role; the board export; query counts of the list pages."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.accounts.services import token_create
from peixun.core.roles import Role
from peixun.orders import services
from peixun.orders.models import Order
from peixun.terms.models import WindowKind as W
from tests.factories import CountyFactory, InstitutionFactory, OrderFactory, make_actor, term_windows_open

from .conftest import institution_actor, order_data

pytestmark = pytest.mark.django_db


def bearer(actor):
    _token, raw = token_create(actor=actor, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_county_fills_in_and_posts_the_order_form(client, term, county_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND)
    client.force_login(county_actor.user)
    page = client.get(reverse("orders:order_create") + f"?term={term.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("项目名称", "培训主题", "参训对象", "学段", "学科", "培训领域", "参训人数", "培训天数", "培训层次"):
        assert label in html
    assert "培训目标（200字内）" in html and "意向培训机构" in html and takers[0].name in html
    data = order_data(intended_institutions=[takers[0].pk, takers[1].pk], term=term.pk, post="1")
    response = client.post(reverse("orders:order_create"), data)
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == reverse("orders:order_detail", args=[order.pk])
    assert order.status == Order.Status.POSTED and order.intended_institutions.count() == 2
    detail = client.get(response.url).content.decode()
    assert "已报送，待公布" in detail and takers[1].name in detail


def test_the_form_shows_the_services_chinese_error(client, term, county_actor):
    term_windows_open(term, W.ORDER_DEMAND)
    client.force_login(county_actor.user)
    response = client.post(reverse("orders:order_create"), order_data(term=term.pk, contact_phone="电话"))
    assert response.status_code == 200
    assert "请填写有效的手机号码" in response.content.decode()
    assert not Order.objects.exists()


def test_county_buttons_post_take_back_and_cancel(client, term, county_actor):
    term_windows_open(term, W.ORDER_DEMAND)
    order = services.order_create(actor=county_actor, term=term, **order_data())
    client.force_login(county_actor.user)
    client.post(reverse("orders:order_action", args=[order.pk, "post"]))
    order.refresh_from_db()
    assert order.status == Order.Status.POSTED
    client.post(reverse("orders:order_action", args=[order.pk, "unpost"]))
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT
    response = client.post(reverse("orders:order_action", args=[order.pk, "cancel"]), {"cancel-reason": "重复填报"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancel_reason == "重复填报"
    assert response.status_code == 302


def test_other_county_cannot_open_or_act_on_an_order(client, term, county, other_county_actor):
    order = OrderFactory(term=term, county=county, status=Order.Status.DRAFT)
    client.force_login(other_county_actor.user)
    assert client.get(reverse("orders:order_detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:order_action", args=[order.pk, "post"])).status_code == 404


def test_province_publishes_the_list_from_the_coverage_page(client, term, county, province_actor, takers):
    OrderFactory.create_batch(2, term=term, county=county)
    client.force_login(province_actor.user)
    page = client.get(reverse("orders:coverage") + f"?term={term.pk}").content.decode()
    assert "订单数不足的区县" in page and county.name in page
    response = client.post(reverse("orders:coverage_action", args=["publish"]), {"term": term.pk}, follow=True)
    assert "“公布订单清单”已结束" in response.content.decode()
    assert Order.objects.filter(status=Order.Status.PUBLISHED).count() == 0  # window closed: nothing changed
    term_windows_open(term, W.ORDER_PUBLISH)
    client.post(reverse("orders:coverage_action", args=["publish"]), {"term": term.pk})
    assert Order.objects.filter(status=Order.Status.PUBLISHED).count() == 2


def test_board_export_has_chinese_headers_and_is_scoped(client, term, county):
    OrderFactory(term=term, county=county, name="本市订单")
    OrderFactory(term=term, county=CountyFactory(), name="外市订单")
    city = make_actor(Role.CITY, region=county.parent)
    client.force_login(city.user)
    response = client.get(reverse("orders:order_list") + f"?term={term.pk}&export=1")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("订单编号", "市", "区县", "项目名称")
    assert [r[3] for r in rows[1:]] == ["本市订单"]
    assert rows[1][18] == "已报送，待公布"


@pytest.mark.parametrize("role", [Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSTITUTION, Role.MONITOR])
def test_order_pages_render_for_each_role(client, role, term, province, county):
    scope = {
        Role.PROVINCE: {"region": province},
        Role.CITY: {"region": county.parent},
        Role.COUNTY: {"region": county},
        Role.INSTITUTION: {"institution": InstitutionFactory()},
        Role.MONITOR: {"region": province},
    }[role]
    client.force_login(make_actor(role, **scope).user)
    assert client.get(reverse("orders:order_list")).status_code == 200
    coverage = client.get(reverse("orders:coverage"))
    assert coverage.status_code == (200 if role in (Role.PROVINCE, Role.CITY, Role.MONITOR) else 403)
    assert client.get(reverse("home")).status_code == 200


def test_teachers_and_schools_cannot_open_orders(client, school):
    client.force_login(make_actor(Role.TEACHER, school=school).user)
    assert client.get(reverse("orders:order_list")).status_code == 403


def _populate(term, counties, institutions, per_county=4):
    for county in counties:
        for i in range(per_county):
            order = OrderFactory(term=term, county=county, status=Order.Status.PUBLISHED)
            order.intended_institutions.set(institutions[: i % 3])
            for institution in institutions:
                order.recipients.create(institution=institution)


def test_list_pages_have_a_bounded_number_of_queries(client, term, province, county, django_assert_max_num_queries):
    institutions = InstitutionFactory.create_batch(3)
    counties = [county, *CountyFactory.create_batch(3, parent=county.parent)]
    _populate(term, counties[:2], institutions)
    actors = {
        "province": make_actor(Role.PROVINCE, region=province),
        "county": make_actor(Role.COUNTY, region=county),
        "institution": institution_actor(institutions[0]),
    }
    pages = [
        ("province", reverse("orders:order_list")),
        ("province", reverse("orders:coverage")),
        ("county", reverse("orders:order_list")),
        ("institution", reverse("orders:order_list")),
    ]
    counts = {}
    for who, url in pages:
        client.force_login(actors[who].user)
        with django_assert_max_num_queries(30) as ctx:
            assert client.get(url).status_code == 200
        counts[(who, url)] = len(ctx.captured_queries)
    _populate(term, counties[2:], institutions, per_county=6)  # more rows must not mean more queries
    for who, url in pages:
        client.force_login(actors[who].user)
        with django_assert_max_num_queries(counts[(who, url)]):
            client.get(url)


def test_api_covers_posting_publishing_and_visibility(client, term, county_actor, province_actor, takers):
    term_windows_open(term, W.ORDER_DEMAND, W.ORDER_PUBLISH)
    payload = order_data(intended_institution_ids=[takers[0].pk], term_id=term.pk)
    created = client.post("/api/orders/orders", payload, content_type="application/json", **bearer(county_actor))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["intended_institution_ids"] == [takers[0].pk]
    order_id = body["id"]
    bad = client.post(
        "/api/orders/orders", {**payload, "goals": "长" * 201}, content_type="application/json", **bearer(county_actor)
    )
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "goals"
    posted = client.post(f"/api/orders/orders/{order_id}/post", **bearer(county_actor))
    assert posted.json()["stage"] == "posted"
    coverage = client.get(f"/api/orders/coverage?term_id={term.pk}", **bearer(province_actor)).json()["items"]
    assert {r["county_id"]: r["posted"] for r in coverage}[county_actor.region.pk] == 1
    forbidden = client.post(f"/api/orders/terms/{term.pk}/publish", **bearer(county_actor))
    assert forbidden.status_code == 403
    published = client.post(f"/api/orders/terms/{term.pk}/publish", **bearer(province_actor))
    assert published.json() == {"published": 1, "order_ids": [order_id]}
    named = client.get(f"/api/orders/orders?term_id={term.pk}", **bearer(institution_actor(takers[0]))).json()
    assert named["count"] == 1 and [o["id"] for o in named["items"]] == [order_id]
    other = institution_actor(takers[1])
    assert client.get(f"/api/orders/orders?term_id={term.pk}", **bearer(other)).json() == {"items": [], "count": 0}
    assert client.get(f"/api/orders/orders/{order_id}", **bearer(other)).status_code == 404
