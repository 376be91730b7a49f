"""The response flow through the pages: institution, county and province, in Chinese."""

import pytest
from django.urls import reverse

from peixun.catalog import services as catalog
from peixun.catalog.models import Project
from peixun.orders import services
from peixun.orders.models import Order, OrderResponse
from peixun.terms.models import WindowKind as W
from tests.factories import StaffMemberFactory, term_windows_open

from .conftest import future_window, institution_actor
from .test_responses import publish_order, respond

pytestmark = pytest.mark.django_db


def test_the_whole_flow_through_the_pages(client, term, county_actor, province_actor, takers):
    order = publish_order(term, county_actor, province_actor)
    future_window(term, W.ORDER_APPLY)
    term_windows_open(term, W.ORDER_RESPONSE)
    inst = institution_actor(takers[0])
    leader = StaffMemberFactory(institution=takers[0])
    client.force_login(inst.user)
    detail = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "响应该订单" in detail
    form = client.get(reverse("orders:response_create", args=[order.pk])).content.decode()
    assert "取自订单" in form and order.name in form
    bad = client.post(
        reverse("orders:response_create", args=[order.pk]),
        {
            "subject_category": "math",
            "credit_category": "tongchou",
            "hours_offline": "40",
            "hours_online": "0",
            "content": "",
            "fee_training": "800",
            "fee_accommodation": "0",
            "fee_meals": "0",
        },
    )
    assert bad.status_code == 200 and not OrderResponse.objects.exists()
    created = client.post(
        reverse("orders:response_create", args=[order.pk]),
        {
            "subject_category": "math",
            "credit_category": "tongchou",
            "hours_offline": "40",
            "hours_online": "0",
            "content": "专题讲座与课例研讨",
            "fee_training": "800",
            "fee_accommodation": "0",
            "fee_meals": "200",
            "leader": leader.pk,
            "class_starts_on": "2024-05-06",
            "class_place": "县教师发展中心",
            "note": "我院有十年小学数学培训经验",
        },
    )
    response = OrderResponse.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("orders:response_detail", args=[response.pk])
    page = client.get(created["Location"]).content.decode()
    assert "提交给区县" in page and "项目草稿" in page
    project_page = client.get(reverse("catalog:project_detail", args=[response.project_id])).content.decode()
    assert 'data-testid="order-context"' in project_page
    assert reverse("orders:response_detail", args=[response.pk]) in project_page
    catalog.lecturer_add(
        actor=inst,
        project=response.project,
        name="张教授",
        organisation="示范师范大学",
        title="教授",
        expertise="数学教育",
        phone="13900009999",
    )
    client.post(reverse("orders:response_action", args=[response.pk, "submit"]))
    response.refresh_from_db()
    assert response.status == OrderResponse.Status.SUBMITTED

    # The county compares and chooses.
    client.force_login(county_actor.user)
    compare = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="responses-compare"' in compare and takers[0].name in compare and "符合全部申报规则" in compare
    assert "我院有十年小学数学培训经验" in compare
    term_windows_open(term, W.ORDER_SELECT)
    client.post(reverse("orders:response_action", args=[response.pk, "select"]), {"remark": ""})
    assert Order.objects.get().status == Order.Status.PUBLISHED  # a remark is required
    client.post(reverse("orders:response_action", args=[response.pk, "select"]), {"remark": "方案贴合需求"})
    assert Order.objects.get().status == Order.Status.SELECTED

    # The chosen institution applies.
    client.force_login(inst.user)
    term_windows_open(term, W.ORDER_APPLY)
    page = client.get(reverse("orders:response_detail", args=[response.pk])).content.decode()
    assert "方案贴合需求" in page and "正式申报" in page
    client.post(reverse("orders:response_action", args=[response.pk, "apply"]))
    assert Project.objects.get().status == Project.Status.SUBMITTED
    assert client.get(reverse("orders:my_responses") + f"?term={term.pk}").status_code == 200

    # The county approves and publishes.
    client.force_login(county_actor.user)
    term_windows_open(term, W.PROJECT_REVIEW, W.PUBLICATION)
    client.post(reverse("orders:order_project_action", args=[order.pk, "approve"]))
    assert "发布订单项目" in client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    client.post(reverse("orders:order_project_action", args=[order.pk, "publish"]))
    assert Project.objects.get().status == Project.Status.PUBLISHED

    # The province's board shows the stage; the county's draft-free comparison is visible to it too.
    client.force_login(province_actor.user)
    board = client.get(reverse("orders:order_list") + f"?term={term.pk}").content.decode()
    assert "项目已发布" in board
    assert takers[0].name in client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()


def test_other_institutions_and_drafts_stay_private(client, term, county_actor, province_actor, takers):
    order = publish_order(term, county_actor, province_actor)
    future_window(term, W.ORDER_APPLY)
    draft = respond(institution_actor(takers[0]), order, submit=False)
    client.force_login(institution_actor(takers[1]).user)
    assert client.get(reverse("orders:response_detail", args=[draft.pk])).status_code == 404
    client.force_login(county_actor.user)  # a draft is the institution's until it is submitted
    assert client.get(reverse("orders:response_detail", args=[draft.pk])).status_code == 404
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "暂无机构响应" in page and 'data-testid="responses-compare"' not in page


def test_response_lists_and_panels_have_a_bounded_number_of_queries(
    client, term, county_actor, province_actor, takers, django_assert_max_num_queries
):
    order = publish_order(term, county_actor, province_actor)
    future_window(term, W.ORDER_APPLY)
    inst = institution_actor(takers[0])
    respond(inst, order)
    more = [publish_order(term, county_actor, province_actor, name=f"订单{i}") for i in range(3)]
    pages = [
        (inst, reverse("orders:my_responses") + f"?term={term.pk}"),
        (inst, reverse("home")),
        (county_actor, reverse("home")),
        (province_actor, reverse("orders:order_list") + f"?term={term.pk}"),
    ]
    counts = {}
    for actor, url in pages:
        client.force_login(actor.user)
        with django_assert_max_num_queries(40) as ctx:
            assert client.get(url).status_code == 200
        counts[(actor.user.pk, url)] = len(ctx.captured_queries)
    for extra in more:  # more responses must not mean more queries
        respond(inst, extra)
    for actor, url in pages:
        client.force_login(actor.user)
        with django_assert_max_num_queries(counts[(actor.user.pk, url)]):
            client.get(url)


def test_home_panels_point_at_the_next_step(client, term, county_actor, province_actor, takers):
    order = publish_order(term, county_actor, province_actor)
    future_window(term, W.ORDER_APPLY)
    inst = institution_actor(takers[0])
    respond(inst, order)
    client.force_login(county_actor.user)
    home = client.get(reverse("home")).content.decode()
    assert "待遴选的响应" in home
    assert order.name in home  # listed among the orders with responses to compare
    term_windows_open(term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=OrderResponse.objects.get(), remark="选定")
    client.force_login(inst.user)
    home = client.get(reverse("home")).content.decode()
    assert "已选定，待正式申报" in home
