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
