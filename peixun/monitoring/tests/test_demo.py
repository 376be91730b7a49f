"""The demo step: nothing without classes; otherwise checks and reports made through the services."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from peixun.core.demo_accounts import demo_user
from peixun.core.demodata import DemoContext
from peixun.core.models import Notification
from peixun.core.roles import Role
from peixun.monitoring import demo
from peixun.monitoring.models import MisconductReport, SpotCheck
from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def context(**data):
    return DemoContext(rng=random.Random(1), today=timezone.localdate(), data=data)


def test_nothing_without_classes(province):
    demo_user("demo_monitor", "质量监测中心", role=Role.MONITOR, region=province)
    demo.seed(context())
    assert not SpotCheck.objects.exists() and not MisconductReport.objects.exists()


def test_checks_and_reports_on_existing_classes(province, school, institution, term):
    today = timezone.localdate()
    demo_user("demo_monitor", "质量监测中心", role=Role.MONITOR, region=province)
    demo_user("demo_institution", "机构", role=Role.INSTITUTION, institution=institution)
    demo_user("demo_school", "学校", role=Role.SCHOOL, school=school)
    demo_user("demo_county", "区县", role=Role.COUNTY, region=school.county)
    teachers = TeacherFactory.create_batch(12, school=school)
    for offset in (-6, -3, 0, 8):
        project = ProjectFactory(term=term, institution=institution)
        project_class = ProjectClassFactory(
            project=project, starts_on=today + timedelta(days=offset), ends_on=today + timedelta(days=offset + 4)
        )
        for teacher in teachers[:4]:  # reports name trainees on the class roster
            EnrollmentFactory(teacher=teacher, project_class=project_class)
    ProjectClassFactory(project=ProjectFactory(term=term, institution=institution, status="draft"))

    demo.seed(context(schools=[school]))

    checks = SpotCheck.objects.all()
    assert checks.count() == 4 and not checks.filter(project_class__project__status="draft").exists()
    assert checks.filter(status=SpotCheck.Status.OPEN).exists()  # the demo institution has findings to answer
    reports = MisconductReport.objects.all()
    assert reports.count() == 3 and all(r.project_class.starts_on <= today for r in reports)
    assert Notification.objects.filter(user__username="demo_school", kind="monitoring.misconduct").count() == 3
    assert Notification.objects.filter(user__username="demo_institution", kind="monitoring.spotcheck").count() == 4
