"""The response flow through the API: every step, scoped, with 4xx bodies for refusals."""

import pytest

from peixun.catalog import services as catalog
from peixun.catalog.models import Project
from peixun.orders.models import OrderResponse
from peixun.terms.models import WindowKind as W
from tests.factories import StaffMemberFactory, term_windows_open

from .conftest import future_window, institution_actor
from .test_pages import bearer
from .test_responses import publish_order

pytestmark = pytest.mark.django_db


def _post(client, url, actor, payload=None):
    return client.post(url, payload or {}, content_type="application/json", **bearer(actor))


def test_every_step_through_the_api(client, term, county_actor, other_county_actor, province_actor, takers, newcomer):
    order = publish_order(term, county_actor, province_actor, intended=takers[:2])
    future_window(term, W.ORDER_APPLY)
    term_windows_open(term, W.ORDER_RESPONSE)
    first, second, outsider = (institution_actor(i) for i in takers)
    leader = StaffMemberFactory(institution=takers[0])
    payload = {
        "note": "我院承办过多期同类培训",
        "fee_training": "800",
        "fee_meals": "200",
        "leader_id": leader.pk,
        "class_starts_on": "2024-05-06",
        "class_place": "县教师发展中心",
    }
    url = f"/api/orders/orders/{order.pk}/responses"
    # Not pushed / under one year: the order does not exist for them.
    assert _post(client, url, outsider, payload).status_code == 404
    assert _post(client, url, institution_actor(newcomer), payload).status_code == 404
    # Someone else's staff member as leader: not found.
    assert _post(client, url, second, payload).status_code == 404
    created = _post(client, url, first, payload)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["project_status"] == "draft" and body["classes"] == 1
    assert body["fee_total"] == "1000.00" and body["leader_name"] == leader.name
    assert any("授课专家" in p for p in body["problems"])
    rid = body["id"]
    assert _post(client, url, first, payload).status_code == 409  # once per institution
    bad = _post(client, url, second, {"fee_training": "-5"})
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "fee_training"
    second_body = _post(client, url, second, {"note": "也可承办"}).json()

    catalog.lecturer_add(
        actor=first,
        project=Project.objects.get(pk=body["project_id"]),
        name="张教授",
        organisation="示范师范大学",
        title="教授",
        expertise="数学教育",
        phone="13900009999",
    )
    # The county sees no drafts.
    assert client.get(url, **bearer(county_actor)).json()["count"] == 0
    assert client.get(f"/api/orders/responses/{rid}", **bearer(county_actor)).status_code == 404
    submitted = _post(client, f"/api/orders/responses/{rid}/submit", first)
    assert submitted.json()["status"] == "submitted"
    _post(client, f"/api/orders/responses/{second_body['id']}/submit", second)
    listed = client.get(url, **bearer(county_actor)).json()
    assert listed["count"] == 2
    assert client.get(url, **bearer(other_county_actor)).status_code == 404
    assert client.get(f"/api/orders/orders/{order.pk}", **bearer(county_actor)).json()["stage"] == "responded"

    # The county chooses in its window with a remark.
    select_url = f"/api/orders/responses/{rid}/select"
    close = _post(client, select_url, county_actor, {"remark": "方案最优"})
    assert close.status_code == 409 and close.json()["code"] == "window_closed"
    term_windows_open(term, W.ORDER_SELECT)
    assert _post(client, select_url, county_actor, {"remark": ""}).status_code == 400
    assert _post(client, select_url, first, {"remark": "自选"}).status_code == 403
    chosen = _post(client, select_url, county_actor, {"remark": "方案最优"})
    assert chosen.status_code == 200 and chosen.json()["status"] == "selected"
    other = client.get(f"/api/orders/responses/{second_body['id']}", **bearer(second)).json()
    assert other["status"] == "not_selected" and other["county_remark"] == "方案最优"
    assert other["project_status"] == "withdrawn"
    mine = client.get(f"/api/orders/responses?term_id={term.pk}", **bearer(first)).json()
    assert [r["id"] for r in mine["items"]] == [rid]

    # Formal application, review, publication.
    apply_url = f"/api/orders/responses/{rid}/apply"
    assert _post(client, apply_url, first).status_code == 409  # the apply window is not open yet
    term_windows_open(term, W.ORDER_APPLY)
    assert _post(client, f"/api/orders/responses/{second_body['id']}/apply", second).status_code == 409
    assert _post(client, apply_url, first).json()["project_status"] == "submitted"
    term_windows_open(term, W.PROJECT_REVIEW)
    review_url = f"/api/orders/orders/{order.pk}/review"
    assert _post(client, review_url, county_actor, {"action": "publish"}).status_code == 400
    assert _post(client, review_url, province_actor, {"action": "approve"}).status_code == 403
    approved = _post(client, review_url, county_actor, {"action": "approve"})
    assert approved.json()["stage"] == "approved"
    term_windows_open(term, W.PUBLICATION)
    published = _post(client, f"/api/orders/orders/{order.pk}/publish", county_actor)
    assert published.json()["stage"] == "project_published" and published.json()["project_status"] == "published"
    catalog_items = client.get(f"/api/catalog/projects?term_id={term.pk}", **bearer(outsider)).json()["items"]
    assert body["project_id"] in [p["id"] for p in catalog_items]
    assert OrderResponse.objects.get(pk=rid).status == OrderResponse.Status.SELECTED
    board = client.get(f"/api/orders/orders?term_id={term.pk}&stage=project_published", **bearer(province_actor))
    assert [o["id"] for o in board.json()["items"]] == [order.pk]


def test_reopen_through_the_api(client, term, county_actor, province_actor, takers):
    from peixun.orders import services

    from .test_responses import respond

    order = publish_order(term, county_actor, province_actor)
    future_window(term, W.ORDER_APPLY)
    inst = institution_actor(takers[0])
    response = respond(inst, order)
    term_windows_open(term, W.ORDER_SELECT)
    services.response_select(actor=county_actor, response=response, remark="选定")
    url = f"/api/orders/orders/{order.pk}/reopen"
    refused = _post(client, url, county_actor, {"reason": "重新征集"})
    assert refused.status_code == 409 and refused.json()["message"]
    catalog.project_withdraw(actor=inst, project=response.project, reason="无法承办")
    assert _post(client, url, inst, {"reason": "重新征集"}).status_code == 403
    reopened = _post(client, url, county_actor, {"reason": "重新征集"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "published"
