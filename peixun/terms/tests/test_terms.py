"""Terms and windows: the preset, boundaries, extensions, settings, and what each role sees as open."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from peixun.core.errors import InvalidInput, PermissionDenied, WindowClosed
from peixun.core.models import AuditLog
from peixun.core.roles import Role
from peixun.terms import services
from peixun.terms.models import Window, WindowExtension, WindowKind
from peixun.terms.windows import (
    current_term,
    is_open,
    require_any_open,
    require_open,
    windows_for_role,
)
from tests.factories import InstitutionFactory, TermFactory, make_actor, term_windows_open

pytestmark = pytest.mark.django_db
K = WindowKind


@pytest.fixture
def province_actor(province):
    return make_actor(Role.PROVINCE, region=province)


def local(*args):
    return timezone.make_aware(datetime(*args))


def test_preset_copy_has_the_notice_dates(province_actor):
    term = services.term_create_from_preset(actor=province_actor, code="2025H1", name="2025年上半年", year=2025)
    windows = {w.kind: w for w in term.windows.all()}
    assert len(windows) == len(K)
    assert windows[K.PROJECT_APPLY].starts_at == local(2025, 3, 7)
    assert windows[K.PROJECT_APPLY].ends_at == local(2025, 3, 12)  # through the whole of Mar 11
    assert windows[K.SELECT_R2].starts_at == local(2025, 3, 31) and windows[K.SELECT_R2].ends_at == local(2025, 4, 2)
    assert windows[K.TRAINING].ends_at == local(2025, 9, 1)
    assert AuditLog.objects.filter(action="terms.term.create", object_id=str(term.pk)).exists()
    with pytest.raises(InvalidInput):
        services.term_create_from_preset(actor=province_actor, code="X", name="Y", year=99999)
    with pytest.raises(PermissionDenied):
        services.term_create_from_preset(
            actor=make_actor(Role.COUNTY, region=province_actor.region), code="2025H2", name="2025年下半年", year=2025
        )


def test_first_and_last_minute_of_a_window():
    term = TermFactory()  # the 2024 H1 preset
    first_minute, last_minute = local(2024, 3, 7, 0, 0), local(2024, 3, 11, 23, 59)
    assert require_open(term, K.PROJECT_APPLY, now=first_minute)
    assert require_open(term, K.PROJECT_APPLY, now=last_minute)
    with pytest.raises(WindowClosed) as exc:
        require_open(term, K.PROJECT_APPLY, now=first_minute - timedelta(seconds=1))
    assert "尚未开始" in exc.value.message and "3月7日" in exc.value.message
    with pytest.raises(WindowClosed) as exc:
        require_open(term, K.PROJECT_APPLY, now=local(2024, 3, 12))
    assert "已结束" in exc.value.message


def test_require_any_open_explains_the_next_window():
    term = TermFactory()
    assert require_any_open(term, (K.PROJECT_APPLY, K.PROJECT_REVIEW), now=local(2024, 3, 14)).kind == K.PROJECT_REVIEW
    with pytest.raises(WindowClosed) as exc:
        require_any_open(term, (K.PROJECT_REVIEW, K.PUBLICATION), now=local(2024, 3, 1))
    assert "3月12日" in exc.value.message  # review opens first
    with pytest.raises(WindowClosed) as exc:
        require_any_open(term, (K.PROJECT_APPLY, K.PROJECT_REVIEW), now=local(2024, 5, 1))
    assert "3月18日" in exc.value.message  # review closed last


def test_extension_needs_a_reason_and_is_audited(province_actor):
    term = TermFactory()
    window = Window.objects.get(term=term, kind=K.PROJECT_APPLY)
    with pytest.raises(InvalidInput):
        services.window_extend(actor=province_actor, window=window, new_ends_at=local(2024, 3, 13), reason=" ")
    with pytest.raises(InvalidInput):
        services.window_extend(actor=province_actor, window=window, new_ends_at=local(2024, 3, 10), reason="早于原截止")
    services.window_extend(actor=province_actor, window=window, new_ends_at=local(2024, 3, 13), reason="系统故障")
    term.__dict__.pop("_window_cache", None)
    assert is_open(term, K.PROJECT_APPLY, now=local(2024, 3, 12, 12))
    extension = WindowExtension.objects.get()
    assert (extension.reason, extension.old_ends_at) == ("系统故障", local(2024, 3, 12))
    record = AuditLog.objects.get(action="terms.window.extend")
    assert record.summary == "系统故障"
    with pytest.raises(PermissionDenied):
        services.window_extend(
            actor=make_actor(Role.INSTITUTION, institution=InstitutionFactory()),
            window=window,
            new_ends_at=local(2024, 3, 14),
            reason="x",
        )


def test_settings_are_validated(province_actor):
    term = TermFactory()
    services.term_update(actor=province_actor, term=term, per_teacher_limit=4, school_share_cap=None)
    term.refresh_from_db()
    assert term.per_teacher_limit == 4
    for bad in ({"per_teacher_limit": 0}, {"schedule_lead_days": 99}, {"selection_mode": "x"}, {"colour": "red"}):
        with pytest.raises(InvalidInput):
            services.term_update(actor=province_actor, term=term, **bad)


def test_what_each_role_sees_open_and_next():
    term = TermFactory()
    now = timezone.now()
    term_windows_open(term, K.SELECT_R1, K.PROJECT_REVIEW, now=now)
    Window.objects.filter(term=term, kind=K.PRINCIPAL_R1).update(
        starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3)
    )
    term.refresh_from_db()
    teacher = windows_for_role(term, Role.TEACHER, now=now)
    assert [s.window.kind for s in teacher["open"]] == [K.SELECT_R1]
    school = windows_for_role(term, Role.SCHOOL, now=now)
    assert [s.window.kind for s in school["upcoming"]] == [K.PRINCIPAL_R1]
    county = windows_for_role(term, Role.COUNTY, now=now)
    assert K.PROJECT_REVIEW in [s.window.kind for s in county["open"]]
    monitor = windows_for_role(term, Role.MONITOR, now=now)  # acts in none: sees everything
    assert {s.window.kind for s in monitor["open"]} == {K.SELECT_R1, K.PROJECT_REVIEW}
    assert current_term(now=now) == term
