from datetime import date

import pytest

from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.roles import Role
from peixun.roster import selectors, services
from tests.factories import TeacherFactory, make_actor

pytestmark = pytest.mark.django_db


def test_school_edits_local_fields(school):
    teacher = TeacherFactory(school=school)
    admin = make_actor(Role.SCHOOL, school=school)
    services.teacher_update_local(
        actor=admin,
        teacher=teacher,
        phone="13800001111",
        post="head_teacher",
        probation_end=date(2020, 9, 1),
        hire_date=date(2019, 9, 1),
    )
    teacher.refresh_from_db()
    assert teacher.phone == "13800001111" and teacher.post == "head_teacher"
    with pytest.raises(InvalidInput):
        services.teacher_update_local(
            actor=admin, teacher=teacher, hire_date=date(2021, 1, 1), probation_end=date(2020, 1, 1)
        )


def test_other_school_cannot_edit(school, other_school):
    teacher = TeacherFactory(school=other_school)
    with pytest.raises(NotFound):
        services.teacher_update_local(actor=make_actor(Role.SCHOOL, school=school), teacher=teacher, phone="1")
    with pytest.raises(PermissionDenied):
        services.teacher_update_local(actor=make_actor(Role.TEACHER, school=other_school), teacher=teacher, phone="1")


def test_exemption_rules_and_filter(school):
    teacher = TeacherFactory(school=school)
    admin = make_actor(Role.SCHOOL, school=school)
    with pytest.raises(InvalidInput):
        services.exemption_create(actor=admin, teacher=teacher, kind="seconded", reason="", starts_on=date(2024, 1, 1))
    services.exemption_create(actor=admin, teacher=teacher, kind="seconded", reason="借调", starts_on=date(2024, 1, 1))
    with pytest.raises(Conflict):
        services.exemption_create(actor=admin, teacher=teacher, kind="other", reason="重复", starts_on=date(2024, 6, 1))
    assert list(selectors.teacher_list(actor=admin, exempt="1")) == [teacher]


def test_teacher_login_once(school):
    teacher = TeacherFactory(school=school)
    admin = make_actor(Role.SCHOOL, school=school)
    services.teacher_login_create(actor=admin, teacher=teacher)
    teacher.refresh_from_db()
    assert teacher.user.grants.get().role == Role.TEACHER
    with pytest.raises(Conflict):
        services.teacher_login_create(actor=admin, teacher=teacher)


def _stored_probation(teacher):
    from peixun.credits.models import TeacherStanding

    return [(row.probation, row.data["probation"]) for row in TeacherStanding.objects.filter(teacher=teacher)]


def test_a_new_end_of_probation_re_stores_the_credit_standing_at_once(client, province, school):
    """The stored standing (what the teacher's page reads) follows the end of probation in the same
    transaction, whether the school edits it on the page, through the API or the service."""
    from django.urls import reverse
    from django.utils import timezone

    from peixun.accounts.services import token_create
    from peixun.credits import selectors as credit_selectors
    from tests.factories import credit_policy, post_credit

    credit_policy("B", province=province)  # preset B requires probation credits of teachers in probation
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "90", category="centralised")
    assert _stored_probation(teacher) == [(False, False)]
    admin = make_actor(Role.SCHOOL, school=school)
    today = timezone.localdate()

    services.teacher_update_local(actor=admin, teacher=teacher, probation_end=today)
    assert _stored_probation(teacher) == [(True, True)]
    standing, _rows = credit_selectors.teacher_standing(actor=admin, teacher=teacher)
    assert standing.category("probation").required > 0

    client.force_login(admin.user)
    page = client.post(reverse("roster:teacher_detail", args=[teacher.pk]), {"form": "local", "local-post": "teacher"})
    assert page.status_code == 302
    assert _stored_probation(teacher) == [(False, False)]  # cleared on the page: no longer in probation

    _token, raw = token_create(actor=admin, name="test")
    response = client.put(
        f"/api/roster/teachers/{teacher.pk}/local",
        data={"probation_end": today.isoformat()},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    assert _stored_probation(teacher) == [(True, True)]


def test_editing_other_local_fields_leaves_the_stored_standing_alone(province, school):
    from peixun.credits.models import TeacherStanding
    from tests.factories import credit_policy, post_credit

    credit_policy("B", province=province)
    teacher = TeacherFactory(school=school, probation_end=date(2020, 8, 31))
    post_credit(teacher, "90", category="centralised")
    row = TeacherStanding.objects.get(teacher=teacher)
    TeacherStanding.objects.filter(pk=row.pk).update(data={**row.data, "marker": 1})
    admin = make_actor(Role.SCHOOL, school=school)
    services.teacher_update_local(actor=admin, teacher=teacher, phone="13800001111", probation_end=date(2020, 8, 31))
    assert TeacherStanding.objects.get(teacher=teacher).data.get("marker") == 1  # not recomputed
