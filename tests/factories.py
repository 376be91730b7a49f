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


# --- terms and catalog -------------------------------------------------------------------

from decimal import Decimal  # noqa: E402

from peixun.catalog.models import Project, ProjectClass, StaffMember  # noqa: E402
from peixun.core.choices import CreditCategory, SubjectCategory, TrainingField, TrainingFormat, TrainingLevel  # noqa: E402
from peixun.terms.models import Term, Window  # noqa: E402
from peixun.terms.windows import preset_windows  # noqa: E402


class TermFactory(factory.django.DjangoModelFactory):
    """A term with every window from the 2024 H1 preset (override with ``term_windows_open``)."""

    class Meta:
        model = Term
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"测试学期{n}")

    @factory.post_generation
    def windows(self, create, extracted, **kwargs):
        if not create:
            return
        year = extracted or 2024
        Window.objects.bulk_create(
            Window(term=self, kind=kind, starts_at=start, ends_at=end)
            for kind, (start, end) in preset_windows(year).items()
        )


def term_windows_open(term: Term, *kinds: str, now=None) -> None:
    """Move the given windows so they are open at ``now`` (default: the current time)."""
    from datetime import timedelta

    from django.utils import timezone

    now = now or timezone.now()
    Window.objects.filter(term=term, kind__in=kinds).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    term.__dict__.pop("_window_cache", None)  # windows.get_window caches per instance


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"负责人{n}")
    national_id = factory.LazyFunction(unique_national_id)
    title = Title.ASSOCIATE_SENIOR
    specialty = join_codes([SubjectCategory.MATH, SubjectCategory.GENERAL, SubjectCategory.LANGUAGE])
    is_formal_employee = True


class ProjectFactory(factory.django.DjangoModelFactory):
    """A published provincial project by default; pass status=... for other states."""

    class Meta:
        model = Project

    term = factory.SubFactory(TermFactory)
    institution = factory.SubFactory(InstitutionFactory)
    code = factory.Sequence(lambda n: f"P{n:06d}")
    name = factory.Sequence(lambda n: f"测试培训项目{n}")
    theme = "新课标下的课堂教学"
    field = TrainingField.SUBJECT_TEACHING
    subject_category = SubjectCategory.MATH
    level = TrainingLevel.PROVINCIAL
    region = factory.SubFactory(ProvinceFactory)
    credit_category = CreditCategory.TONGCHOU
    format = TrainingFormat.FACE_TO_FACE
    days = 5
    hours_offline = Decimal("40")
    credits = Decimal("4")
    goals = "提升教师课堂教学能力"
    content = "专题讲座、课堂观摩、研讨交流"
    fee_total = Decimal("1500")
    fee_training = Decimal("1000")
    fee_accommodation = Decimal("300")
    fee_meals = Decimal("200")
    leader = factory.SubFactory(StaffMemberFactory, institution=factory.SelfAttribute("..institution"))
    status = Project.Status.PUBLISHED


class ProjectClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectClass

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    starts_on = date(2024, 5, 6)
    ends_on = date(2024, 5, 10)
    place = "示范师范大学"
    capacity = 20


# --- credits ----------------------------------------------------------------------------


def credit_policy(preset: str = "A", *, activate: bool = True, province=None, name: str = ""):
    """A policy from a preset (active by default), as the province would create it."""
    from peixun.credits import services as credit_services

    policy = credit_services.policy_create_draft(
        actor=None, name=name or f"方案{preset}", preset=preset, province=province or ProvinceFactory()
    )
    if activate:
        policy = credit_services.policy_activate(actor=None, policy=policy)
    return policy


def post_credit(
    teacher,
    amount,
    *,
    category="tongchou",
    earned_on=None,
    source_type="result",
    source_id=None,
    level="",
    project=None,
    actor=None,
):
    """Post credits through the real ledger service (a unique source id per call by default)."""
    from peixun.credits.services import ledger_post

    return ledger_post(
        actor=actor,
        teacher=teacher,
        category=category,
        level=level,
        amount=Decimal(str(amount)),
        source_type=source_type,
        source_id=source_id if source_id is not None else next(_seq),
        earned_on=earned_on or date(2024, 6, 1),
        project=project,
    )


# --- orders ----------------------------------------------------------------------------------

from peixun.orders.models import Order  # noqa: E402


class OrderFactory(factory.django.DjangoModelFactory):
    """A county's order demand (posted by default); publish it with orders.services.order_list_publish."""

    class Meta:
        model = Order

    term = factory.SubFactory(TermFactory)
    county = factory.SubFactory(CountyFactory)
    code = factory.Sequence(lambda n: f"ORD{n:06d}")
    contact_person = "王老师"
    contact_phone = "13800001234"
    name = factory.Sequence(lambda n: f"订单项目{n}")
    theme = "大单元教学设计"
    target_trainees = "小学数学教师"
    target_stages = join_codes([Stage.PRIMARY])
    target_subjects = join_codes([Subject.MATH])
    field = TrainingField.SUBJECT_TEACHING
    trainee_count = 40
    days = 3
    level = TrainingLevel.COUNTY
    format = TrainingFormat.FACE_TO_FACE
    goals = "提升小学数学教师大单元教学设计能力"
    course_requirements = "专题讲座与课堂实践相结合"
    status = Order.Status.POSTED


# --- enrollment -------------------------------------------------------------------------


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """A row only: seat counters are the service's job (use ``enrollment.services`` in rule tests)."""

    class Meta:
        model = "enrollment.Enrollment"

    teacher = factory.SubFactory(TeacherFactory)
    project_class = factory.SubFactory(ProjectClassFactory)
    state = "confirmed"
