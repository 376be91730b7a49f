import pytest
from django.urls import reverse

from peixun.accounts import services
from peixun.accounts.models import User
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from tests.factories import PASSWORD, TeacherFactory, UserFactory, make_actor

pytestmark = pytest.mark.django_db


def test_province_creates_county_account(province, county):
    actor = make_actor(Role.PROVINCE, region=province)
    user, password = services.user_create(
        actor=actor, username="county_officer", display_name="区县管理员", role=Role.COUNTY, region=county
    )
    assert user.check_password(password) and user.must_change_password
    assert user.grants.get().region == county
    assert AuditLog.objects.filter(action="accounts.user.create", object_id=str(user.pk)).exists()


def test_county_cannot_create_bureau_accounts(county):
    actor = make_actor(Role.COUNTY, region=county)
    with pytest.raises(PermissionDenied):
        services.user_create(actor=actor, username="x", display_name="x", role=Role.COUNTY, region=county)
    assert not User.objects.filter(username="x").exists()


def test_county_creates_school_account_only_in_its_county(county, school, other_school):
    actor = make_actor(Role.COUNTY, region=county)
    services.user_create(actor=actor, username="principal1", display_name="校长", role=Role.SCHOOL, school=school)
    with pytest.raises(NotFound):
        services.user_create(
            actor=actor, username="principal2", display_name="校长", role=Role.SCHOOL, school=other_school
        )
    assert not User.objects.filter(username="principal2").exists()


def test_scope_must_match_role(province, county):
    actor = make_actor(Role.PROVINCE, region=province)
    with pytest.raises(InvalidInput):
        services.user_create(actor=actor, username="c1", display_name="c", role=Role.CITY, region=county)
    with pytest.raises(InvalidInput):
        services.user_create(actor=actor, username="c2", display_name="c", role=Role.SCHOOL, region=county)


def test_duplicate_username_refused(province, county):
    actor = make_actor(Role.PROVINCE, region=province)
    services.user_create(actor=actor, username="dup", display_name="a", role=Role.COUNTY, region=county)
    with pytest.raises(Conflict) as exc:
        services.user_create(actor=actor, username="dup", display_name="b", role=Role.COUNTY, region=county)
    assert "已被占用" in exc.value.message


def test_password_change_rules():
    user = UserFactory()
    with pytest.raises(InvalidInput):
        services.password_change(actor=None, user=user, old_password="wrong", new_password="Another-pass-9")
    with pytest.raises(InvalidInput):
        services.password_change(actor=None, user=user, old_password=PASSWORD, new_password="12345678")
    services.password_change(actor=None, user=user, old_password=PASSWORD, new_password="Another-pass-9")
    user.refresh_from_db()
    assert user.check_password("Another-pass-9") and not user.must_change_password


def test_login_with_national_id_and_forced_password_change(client, school):
    teacher = TeacherFactory(school=school)
    admin = make_actor(Role.SCHOOL, school=school)
    from peixun.roster.services import teacher_login_create

    password = teacher_login_create(actor=admin, teacher=teacher)
    response = client.post(reverse("accounts:login"), {"username": teacher.national_id, "password": password})
    assert response.status_code == 302
    # First page after sign-in is the forced password change.
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("accounts:password_change")
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": "Fresh-pass-42", "new_password2": "Fresh-pass-42"},
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_lockout_after_repeated_failures(client, settings, province):
    settings.AXES_FAILURE_LIMIT = 3
    actor = make_actor(Role.PROVINCE, region=province)
    username = actor.user.username
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": username, "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_password_reset_by_school_admin_for_teacher(school, other_school):
    admin = make_actor(Role.SCHOOL, school=school)
    teacher_actor = make_actor(Role.TEACHER, school=school)
    new_password = services.password_reset(actor=admin, user=teacher_actor.user)
    teacher_actor.user.refresh_from_db()
    assert teacher_actor.user.check_password(new_password) and teacher_actor.user.must_change_password
    stranger = make_actor(Role.TEACHER, school=other_school)
    with pytest.raises(NotFound):
        services.password_reset(actor=admin, user=stranger.user)


def test_session_expires_setting(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_a_signed_in_request_reads_the_roles_and_the_teacher_in_one_statement(school, django_assert_num_queries):
    from peixun.accounts.middleware import active_grant, active_grants
    from peixun.core.scopes import Actor

    teacher = make_actor(Role.TEACHER, school=school)
    principal = make_actor(Role.SCHOOL, school=school, user=teacher.user)  # a second role, granted later
    active_grants(teacher.user)  # compiles it (and, on PostgreSQL, prepares it for the session)
    with django_assert_num_queries(1):
        grants = active_grants(teacher.user)
        actor = Actor.from_grant(active_grant(teacher.user, None, grants))
    assert [g.pk for g in grants] == [teacher.grant.pk, principal.grant.pk]
    assert actor.role == Role.TEACHER and actor.teacher_id == teacher.teacher_id
    assert active_grant(teacher.user, principal.grant.pk, grants).role == Role.SCHOOL
