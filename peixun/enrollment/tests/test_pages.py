"""Pages of course selection for each role: teacher (select, mine, withdraw), school review,
institution classes / 复核 / 扩班 / roster, bureau 扩班; exports, panels, access and query counts."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from peixun.core.roles import Role
from peixun.enrollment import services
from peixun.enrollment.models import ClassExpansion, Enrollment
from tests.factories import credit_policy, make_actor

from .conftest import K, make_class, new_teacher_actor, open_only

pytestmark = pytest.mark.django_db
S = Enrollment.State


def login(client, actor):
    client.force_login(actor.user)
    return client


def fill(klass, school, n):
    return [services.enrollment_select(actor=new_teacher_actor(school), project_class=klass) for _ in range(n)]


def test_teacher_sees_matching_classes_with_credit_effect_and_selects(client, teacher_actor, klass, term, institution):
    credit_policy("A")
    from peixun.core.choices import Stage, join_codes

    other = make_class(term, institution, target_stages=join_codes([Stage.SENIOR]))
    login(client, teacher_actor)
    page = client.get(reverse("enrollment:select"))
    html = page.content.decode()
    assert page.status_code == 200 and klass.project.name in html and other.project.name not in html
    assert "您的学分进度" in html and "余 20 个名额" in html and "第1轮选课进行中" in html
    response = client.post(
        reverse("enrollment:select"), {"class": klass.pk, "request_key": "abc", "next": reverse("enrollment:select")}
    )
    assert response.status_code == 302 and response.url == reverse("enrollment:mine")
    again = client.post(reverse("enrollment:select"), {"class": klass.pk, "request_key": "abc"})
    assert again.status_code == 302 and Enrollment.objects.count() == 1
    mine = client.get(reverse("enrollment:mine"))
    assert "待学校审核" in mine.content.decode() and klass.project.name in mine.content.decode()


def test_select_errors_are_messages_not_500s(client, teacher_actor, term, klass):
    open_only(term)
    login(client, teacher_actor)
    page = client.get(reverse("enrollment:select"))
    assert page.status_code == 200 and 'data-testid="round-closed"' in page.content.decode()
    response = client.post(reverse("enrollment:select"), {"class": klass.pk}, follow=True)
    assert response.status_code == 200 and "已结束" in response.content.decode()
    bad = client.post(reverse("enrollment:select"), {"class": "99999999999999999999"}, follow=True)
    assert bad.status_code == 200 and not Enrollment.objects.exists()
    assert "不存在" in bad.content.decode()
    missing = client.post(reverse("enrollment:select"), {"class": klass.pk + 1000}, follow=True)
    assert missing.status_code == 200 and "不存在" in missing.content.decode() and not Enrollment.objects.exists()


def test_upcoming_round_shows_a_countdown(client, teacher_actor, term):
    open_only(term)
    from datetime import timedelta

    from django.utils import timezone

    from peixun.terms.models import Window

    Window.objects.filter(term=term, kind=K.SELECT_R2).update(
        starts_at=timezone.now() + timedelta(hours=2), ends_at=timezone.now() + timedelta(days=2)
    )
    login(client, teacher_actor)
    html = client.get(reverse("enrollment:select")).content.decode()
    assert "data-countdown" in html and "第2轮选课将于" in html


def test_teacher_withdraws_through_the_page(client, teacher_actor, klass):
    e = services.enrollment_select(actor=teacher_actor, project_class=klass)
    login(client, teacher_actor)
    response = client.post(reverse("enrollment:withdraw", args=[e.pk]), {"reason": "冲突"}, follow=True)
    e.refresh_from_db()
    assert e.state == S.WITHDRAWN and "已退选" in response.content.decode()


def test_teacher_cannot_open_the_review_or_class_pages(client, teacher_actor):
    login(client, teacher_actor)
    assert client.get(reverse("enrollment:review")).status_code == 403
    assert client.get(reverse("enrollment:class_list")).status_code == 403


def test_principal_bulk_approves_and_rejects_one(client, principal, school, klass):
    rows = fill(klass, school, 3)
    login(client, principal)
    page = client.get(reverse("enrollment:review"))
    assert page.status_code == 200 and page.content.decode().count('data-testid="review-row"') == 3
    client.post(reverse("enrollment:review"), {"act": "approve", "ids": [rows[0].pk, rows[1].pk]})
    response = client.post(
        reverse("enrollment:review"), {"act": f"reject:{rows[2].pk}", "reason": "与教学任务冲突"}, follow=True
    )
    assert "已审核不通过 1 条选课" in response.content.decode()
    assert sorted(Enrollment.objects.values_list("state", flat=True)) == [S.APPROVED, S.APPROVED, S.REJECTED]
    missing_reason = client.post(reverse("enrollment:review"), {"act": "reject", "ids": [rows[0].pk]}, follow=True)
    assert "请填写" in missing_reason.content.decode()
    export = client.get(reverse("enrollment:review"), {"state": "", "export": "1"})
    data = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert data.max_row == 4 and "*" in str(data.cell(row=2, column=2).value)


def test_review_list_query_count_does_not_grow(client, principal, school, klass, django_assert_max_num_queries):
    fill(klass, school, 3)
    login(client, principal)
    with django_assert_max_num_queries(30):
        client.get(reverse("enrollment:review"))
    fill(klass, school, 12)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("enrollment:review")).content.decode().count('data-testid="review-row"') == 15


def test_institution_confirms_requests_expansion_and_prints_the_roster(
    client, principal, inst_actor, province_actor, school, term, klass
):
    rows = fill(klass, school, 2)
    services.enrollments_review(actor=principal, enrollments=rows, decision="approve")
    open_only(term, K.CONFIRM_R1, K.EXPAND_REQUEST)
    login(client, inst_actor)
    listing = client.get(reverse("enrollment:class_list"))
    assert listing.status_code == 200 and klass.project.name in listing.content.decode()
    url = reverse("enrollment:class_detail", args=[klass.pk])
    assert 'data-testid="bulk-confirm"' in client.get(url).content.decode()
    client.post(url, {"form": "confirm", "act": "approve", "ids": [e.pk for e in rows]})
    assert set(Enrollment.objects.values_list("state", flat=True)) == {S.CONFIRMED}
    client.post(url, {"form": "expand", "seats": "5", "reason": "报名踊跃"})
    assert ClassExpansion.objects.get().seats_requested == 5
    roster = client.get(reverse("enrollment:roster", args=[klass.pk]))
    assert roster.status_code == 200 and rows[0].teacher.name in roster.content.decode()
    export = client.get(reverse("enrollment:roster", args=[klass.pk]), {"export": "1"})
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert sheet.max_row == 3 and sheet.cell(row=1, column=2).value == "姓名"

    open_only(term, K.EXPAND_ACCEPT)
    login(client, province_actor)
    page = client.get(reverse("enrollment:expansion_list"))
    assert 'data-testid="decide"' in page.content.decode()
    x = ClassExpansion.objects.get()
    client.post(reverse("enrollment:expansion_list"), {"expansion": x.pk, "seats_accepted": "3", "note": ""})
    x.refresh_from_db()
    klass.refresh_from_db()
    assert x.status == ClassExpansion.Status.PARTLY and klass.capacity == 23


def test_another_institution_gets_404_on_a_class(client, klass, school):
    from tests.factories import InstitutionFactory

    other = make_actor(Role.INSTITUTION, institution=InstitutionFactory())
    login(client, other)
    assert client.get(reverse("enrollment:class_detail", args=[klass.pk])).status_code == 404
    assert client.get(reverse("enrollment:roster", args=[klass.pk])).status_code == 404


def test_class_detail_query_count_does_not_grow(
    client, inst_actor, school, term, institution, django_assert_max_num_queries
):
    small = make_class(term, institution, capacity=2)
    fill(small, school, 4)
    login(client, inst_actor)
    url = reverse("enrollment:class_detail", args=[small.pk])
    with django_assert_max_num_queries(30):
        client.get(url)
    fill(small, school, 10)
    with django_assert_max_num_queries(30):
        assert client.get(url).content.decode().count('data-testid="enrollment-row"') == 14


def test_home_panels(client, teacher_actor, principal, school, klass):
    services.enrollment_select(actor=teacher_actor, project_class=klass)
    login(client, teacher_actor)
    assert 'data-testid="panel-selection"' in client.get(reverse("home")).content.decode()
    login(client, principal)
    assert "待审核的选课" in client.get(reverse("home")).content.decode()


def test_select_and_class_list_query_counts_do_not_grow(
    client, teacher_actor, inst_actor, term, institution, django_assert_max_num_queries
):
    credit_policy("A")
    make_class(term, institution)
    login(client, teacher_actor)
    with django_assert_max_num_queries(40):
        client.get(reverse("enrollment:select"))
    for days in range(40, 48):
        make_class(term, institution, days_ahead=days)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("enrollment:select")).content.decode().count('data-testid="class-card"') == 9
    login(client, inst_actor)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("enrollment:class_list")).content.decode().count('data-testid="class-row"') == 9
