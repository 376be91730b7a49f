"""Staggered opening of a selection round (SPEC §6): the province sets batches of cities, counties or schools
with later opening times; a teacher of a batch is refused (with the batch's time) and counts down until it
opens; the most specific batch wins; audited; through the services, the term page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from peixun.core.errors import Conflict, InvalidInput, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog
from peixun.enrollment import services
from peixun.enrollment.models import Enrollment
from peixun.terms import services as term_services
from peixun.terms.models import OpeningBatch, Window

from .conftest import K, new_teacher_actor
from .test_api import bearer, post

pytestmark = pytest.mark.django_db
S = Enrollment.State


def later(minutes=30):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_county_batch_opens_later_for_its_teachers_only(
    term, klass, county, other_school, teacher_actor, province_actor
):
    batch = term_services.batch_create(
        actor=province_actor, term=term, kind=K.SELECT_R1, name="第二批：本县", opens_at=later(), regions=[county]
    )
    assert Window.objects.get(term=term, kind=K.SELECT_R1).staggered
    with pytest.raises(WindowClosed) as refused:
        services.enrollment_select(actor=teacher_actor, project_class=klass)
    assert "第二批：本县" in refused.value.message and refused.value.details["batch"] == batch.name
    assert not Enrollment.objects.filter(teacher_id=teacher_actor.teacher_id).exists()
    # Teachers of other counties are in no batch: the round is open for them.
    assert services.enrollment_select(actor=new_teacher_actor(other_school), project_class=klass).state == S.SELECTED
    # At the batch's time the county's teachers may select.
    assert services.enrollment_select(actor=teacher_actor, project_class=klass, now=later(31)).state == S.SELECTED
    assert AuditLog.objects.filter(action="terms.batch.create").count() == 1


def test_the_schools_own_batch_wins_over_its_countys(term, klass, county, school, teacher_actor, province_actor):
    term_services.batch_create(
        actor=province_actor, term=term, kind=K.SELECT_R1, name="县", opens_at=later(60), regions=[county]
    )
    term_services.batch_create(
        actor=province_actor, term=term, kind=K.SELECT_R1, name="先行校", opens_at=later(10), schools=[school]
    )
    assert services.enrollment_select(actor=teacher_actor, project_class=klass, now=later(11)).state == S.SELECTED


def test_batch_rules(term, county, school, province_actor, principal):
    kw = {"actor": province_actor, "term": term, "kind": K.SELECT_R1, "name": "一批"}
    with pytest.raises(InvalidInput):  # nothing chosen
        term_services.batch_create(opens_at=later(), **kw)
    with pytest.raises(InvalidInput):  # the province is not a batch
        term_services.batch_create(opens_at=later(), regions=[county.parent.parent], **kw)
    with pytest.raises(InvalidInput):  # in the past
        term_services.batch_create(opens_at=later(-5), regions=[county], **kw)
    with pytest.raises(InvalidInput):  # after the round closes
        term_services.batch_create(opens_at=later(60 * 24 * 3), regions=[county], **kw)
    with pytest.raises(InvalidInput):  # not a selection round
        term_services.batch_create(**{**kw, "kind": K.CONFIRM_R1}, opens_at=later(), regions=[county])
    with pytest.raises(PermissionDenied):
        term_services.batch_create(**{**kw, "actor": principal}, opens_at=later(), regions=[county])
    batch = term_services.batch_create(opens_at=later(), regions=[county], **kw)
    with pytest.raises(Conflict):  # one batch per county and round
        term_services.batch_create(opens_at=later(40), regions=[county], **kw)
    term_services.batch_delete(actor=province_actor, batch=batch)
    assert not OpeningBatch.objects.exists() and not Window.objects.get(term=term, kind=K.SELECT_R1).staggered


def test_teacher_sees_the_countdown_to_their_batch(client, term, klass, county, teacher_actor, province_actor):
    term_services.batch_create(
        actor=province_actor, term=term, kind=K.SELECT_R1, name="第二批：本县", opens_at=later(), regions=[county]
    )
    client.force_login(teacher_actor.user)
    page = client.get(reverse("enrollment:select")).content.decode()
    assert 'data-testid="round-upcoming"' in page and 'data-testid="round-batch"' in page and "第二批：本县" in page
    assert "data-select-button disabled" in page
    state = client.get("/api/enrollment/round", **bearer(teacher_actor)).json()
    assert state["open_round"] is None and state["next_round"] == 1 and state["batch"] == "第二批：本县"
    assert state["opens_at"] > state["server_now"]
    refused = client.post(reverse("enrollment:select"), {"class": klass.pk}, follow=True).content.decode()
    assert "第二批：本县" in refused and not Enrollment.objects.exists()


def test_term_page_and_api_manage_batches(client, term, county, school, province_actor, teacher_actor):
    client.force_login(province_actor.user)
    url = reverse("terms:term_detail", args=[term.pk])
    opens = timezone.localtime(later()).strftime("%Y-%m-%dT%H:%M")
    client.post(
        url,
        {"form": "batch", "kind": K.SELECT_R1, "name": "第二批", "opens_at": opens, "regions": [county.pk]},
    )
    batch = OpeningBatch.objects.get()
    assert list(batch.regions.all()) == [county]
    bad = client.post(
        url, {"form": "batch", "kind": K.SELECT_R1, "name": "x", "opens_at": opens, "school_codes": "NOPE"}
    )
    assert "NOPE" in bad.content.decode() and OpeningBatch.objects.count() == 1
    assert 'data-testid="batch-row"' in client.get(url).content.decode()

    r = post(
        client,
        f"/api/terms/terms/{term.pk}/batches",
        province_actor,
        {"kind": K.SELECT_R1, "name": "先行校", "opens_at": later(5).isoformat(), "school_codes": [school.code]},
    )
    assert r.status_code == 201 and r.json()["school_codes"] == [school.code]
    listing = client.get(f"/api/terms/terms/{term.pk}/batches", **bearer(teacher_actor)).json()
    assert {b["name"] for b in listing["items"]} == {"第二批", "先行校"}
    denied = post(
        client,
        f"/api/terms/terms/{term.pk}/batches",
        teacher_actor,
        {"kind": K.SELECT_R1, "name": "x", "opens_at": later().isoformat(), "region_codes": [county.code]},
    )
    assert denied.status_code == 403
    gone = client.delete(f"/api/terms/batches/{r.json()['id']}", **bearer(province_actor))
    assert gone.status_code == 204 and OpeningBatch.objects.count() == 1
