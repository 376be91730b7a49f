import pytest

from peixun.core.errors import NotFound, PermissionDenied
from peixun.core.roles import Role
from peixun.core.scopes import can, require, visible
from peixun.orgs.models import Region, School
from peixun.roster.models import Teacher
from tests.factories import TeacherFactory, make_actor

pytestmark = pytest.mark.django_db


def test_county_sees_only_its_schools_and_teachers(county, school, other_school):
    mine = TeacherFactory(school=school)
    theirs = TeacherFactory(school=other_school)
    actor = make_actor(Role.COUNTY, region=county)
    assert list(visible(actor, School.objects.all())) == [school]
    assert set(visible(actor, Teacher.objects.all())) == {mine}
    assert theirs not in visible(actor, Teacher.objects.all())


def test_city_sees_its_counties(county, other_county, school, other_school):
    actor = make_actor(Role.CITY, region=county.parent)
    assert school in visible(actor, School.objects.all())
    assert (other_school in visible(actor, School.objects.all())) == (other_county.parent_id == county.parent_id)


def test_province_and_monitor_see_everything(province, school, other_school):
    for role in (Role.PROVINCE, Role.MONITOR):
        actor = make_actor(role, region=province)
        assert visible(actor, School.objects.all()).count() == 2


def test_school_admin_and_teacher(school, other_school):
    admin = make_actor(Role.SCHOOL, school=school)
    t1 = TeacherFactory(school=school)
    TeacherFactory(school=other_school)
    assert set(visible(admin, Teacher.objects.all())) == {t1}
    teacher_actor = make_actor(Role.TEACHER, school=school)
    assert list(visible(teacher_actor, Teacher.objects.all())) == [Teacher.objects.get(pk=teacher_actor.teacher_id)]


def test_institution_and_auditor_see_no_teachers(institution, school, province):
    TeacherFactory(school=school)
    assert not visible(make_actor(Role.INSTITUTION, institution=institution), Teacher.objects.all()).exists()
    assert not visible(make_actor(Role.AUDITOR, region=province), Teacher.objects.all()).exists()


def test_require_checks_role_then_scope(county, school, other_school):
    actor = make_actor(Role.COUNTY, region=county)
    require(actor, "orgs.school.edit", school)
    with pytest.raises(NotFound):
        require(actor, "orgs.school.edit", other_school)
    with pytest.raises(PermissionDenied):
        require(actor, "orgs.institution.create")
    assert can(actor, "orgs.school.edit", school)
    assert not can(actor, "orgs.school.edit", other_school)


def test_region_subtree(province, county, other_county):
    actor = make_actor(Role.COUNTY, region=county)
    assert list(visible(actor, Region.objects.all())) == [county]
