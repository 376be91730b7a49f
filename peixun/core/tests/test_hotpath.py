"""The hot path's shortcuts give the same rows and objects as the ORM's own way."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db.models import Value
from django.db.models.functions import Lower

from peixun.core.hotpath import Prepared, insert_together, run_together
from peixun.core.models import AuditLog, Job, Notification
from peixun.roster.models import Teacher
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_insert_together_stores_what_bulk_create_would():
    user = UserFactory()
    first = AuditLog(user=user, role="teacher", action="x.first", summary="一", before={"state": "a"}, after=None)
    second = Notification(user=user, title="通知", body="正文", link="/x/", kind="enrollment")
    third = AuditLog(user=None, role="", action="x.third", summary="三", before=None, after={"n": [1, 2]})
    insert_together(first, second, third)
    insert_together(AuditLog(user=user, action="x.again", summary="again", after={"k": "值"}))  # the cached form
    assert first.pk and second.pk and third.pk and first.pk != third.pk
    stored = {a.action: a for a in AuditLog.objects.all()}
    assert stored["x.first"].before == {"state": "a"} and stored["x.first"].after is None
    assert stored["x.third"].after == {"n": [1, 2]} and stored["x.third"].user_id is None
    assert stored["x.again"].after == {"k": "值"}
    assert isinstance(stored["x.first"].at, datetime)  # auto_now_add filled in
    note = Notification.objects.get(pk=second.pk)
    assert (note.title, note.body, note.link, note.user_id) == ("通知", "正文", "/x/", user.pk)
    assert note.created_at is not None
    assert not first._state.adding


def test_insert_together_takes_an_expression_value():
    user = UserFactory()
    plain = Job(owner=user, kind="demo", title="plain", params={"a": 1})
    computed = Job(owner=user, kind="demo", title=Lower(Value("MIXED Case")), params={})
    insert_together(plain, computed)  # the second row's title is compiled by Django, not bound
    assert Job.objects.get(pk=plain.pk).params == {"a": 1}
    assert Job.objects.get(pk=computed.pk).title == "mixed case"


_teacher_with_school = Prepared(lambda p: Teacher.objects.select_related("school__county").filter(pk=p.pk)[:1], pk=int)


def test_prepared_rows_become_the_same_objects_as_the_queryset():
    teacher = TeacherFactory()
    (found,) = run_together(_teacher_with_school.bind(pk=teacher.pk))
    (again,) = run_together(_teacher_with_school.bind(pk=teacher.pk))  # compiled once, converters reused
    expected = Teacher.objects.select_related("school__county").get(pk=teacher.pk)
    for got in (found[0], again[0]):
        assert got.pk == expected.pk
        assert got.birth_date == expected.birth_date and type(got.birth_date) is type(expected.birth_date)
        assert got.on_establishment is expected.on_establishment
        assert got.school.county.name == expected.school.county.name
