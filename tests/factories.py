"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import factory
from django.contrib.auth.hashers import make_password

from peixun.accounts.models import RoleGrant, User
from peixun.core.choices import Stage, Subject, Title, join_codes
from peixun.core.ids import make_national_id
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.orgs.models import Institution, Region, School
from peixun.roster.models import Teacher

_seq = itertools.count(1)
PASSWORD = "Test-pass-123"
_HASH: dict[str, str] = {}


def password_hash() -> str:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = make_password(PASSWORD)
    return _HASH[PASSWORD]


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = "测试省"
    code = "990000"
    level = Region.Level.PROVINCE


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"测试{n}市")
    code = factory.Sequence(lambda n: f"99{n + 10:02d}00")
    level = Region.Level.CITY
    parent = factory.SubFactory(ProvinceFactory)


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"测试{n}县")
    code = factory.Sequence(lambda n: f"98{n:04d}")
    level = Region.Level.COUNTY
    parent = factory.SubFactory(CityFactory)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"S{n:06d}")
    name = factory.Sequence(lambda n: f"测试第{n}小学")
    county = factory.SubFactory(CountyFactory)
    stages = join_codes([Stage.PRIMARY, Stage.JUNIOR])
    is_rural = False


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    code = factory.Sequence(lambda n: f"I{n:05d}")
    name = factory.Sequence(lambda n: f"测试培训机构{n}")
    type = Institution.Type.UNIVERSITY
    qualified_on = date(2015, 1, 1)
    qualification_scope = join_codes(["language", "math", "science", "general"])
    province_wide = True
    may_blended = True
    may_online = True
    may_take_orders = True


def unique_national_id() -> str:
    """Valid, never repeating within a test run (birth date and sequence are a bijection of n)."""
    n = next(_seq)
    block, offset = divmod(n, 15000)
    return make_national_id("990101", date(1960, 1, 1) + timedelta(days=offset), 2 * block + offset % 2 + 1)


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    national_id = factory.LazyFunction(unique_national_id)
    name = factory.Sequence(lambda n: f"教师{n}")
    gender = "F"
    birth_date = factory.LazyAttribute(
        lambda o: date(int(o.national_id[6:10]), int(o.national_id[10:12]), int(o.national_id[12:14]))
    )
    title = Title.INTERMEDIATE
    stage = Stage.PRIMARY
    subject = Subject.MATH
    school = factory.SubFactory(SchoolFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.LazyFunction(password_hash)
    must_change_password = False


def make_actor(
    role: str, *, region=None, school=None, institution=None, teacher: Teacher | None = None, user=None
) -> Actor:
    """A user with one grant, returned as an Actor (and the user's teacher record linked for teachers)."""
    user = user or UserFactory()
    if role == Role.TEACHER:
        if teacher is None:
            teacher = TeacherFactory(school=school) if school else TeacherFactory()
        teacher.user = user
        teacher.save(update_fields=["user"])
        school = teacher.school
    grant = RoleGrant.objects.create(user=user, role=role, region=region, school=school, institution=institution)
    user.refresh_from_db()
    return Actor.from_grant(grant)
