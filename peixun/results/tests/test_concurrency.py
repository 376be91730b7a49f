"""Two reviewers approve the same sheet at the same moment: credits are posted once (PostgreSQL)."""

import threading
from datetime import date

import pytest
from django.db import close_old_connections, connection

from peixun.core.errors import Conflict
from peixun.core.roles import Role
from peixun.credits.models import LedgerEntry
from peixun.results import services
from peixun.results.models import ResultSheet
from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory, credit_policy, make_actor


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_post_once(institution, province):
    assert connection.vendor == "postgresql"
    credit_policy("A", province=province)
    project = ProjectFactory(institution=institution, region=province)
    project_class = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
    for _ in range(5):
        EnrollmentFactory(project_class=project_class)
    clerk = make_actor(Role.INSTITUTION, institution=institution)
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    reviewers = [make_actor(Role.INSTITUTION_REVIEWER, institution=institution) for _ in range(4)]
    barrier = threading.Barrier(len(reviewers))
    outcomes = []

    def approve(actor):
        try:
            barrier.wait(timeout=10)
            services.sheet_approve(actor=actor, sheet=ResultSheet.objects.get(pk=sheet.pk))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert LedgerEntry.objects.filter(source_type="result").count() == 5
    assert ResultSheet.objects.get(pk=sheet.pk).approvals == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_beside_the_policy_activation_job_does_not_deadlock(institution, province, school, monkeypatch):
    """An approval posts for its trainees in teacher order, the order in which the activation job's
    chunks lock teachers, so the two wait for each other instead of deadlocking (PostgreSQL)."""
    from peixun.credits import selectors as credit_selectors
    from peixun.credits import services as credit_services
    from tests.factories import TeacherFactory

    credit_policy("A", province=province)
    project = ProjectFactory(institution=institution, region=province)
    project_class = ProjectClassFactory(project=project, starts_on=date(2024, 5, 6), ends_on=date(2024, 5, 10))
    # Listed by name, the trainees come in the reverse order of their ids.
    for n in range(40):
        EnrollmentFactory(project_class=project_class, teacher=TeacherFactory(school=school, name=f"教师{99 - n:02d}"))
    clerk = make_actor(Role.INSTITUTION, institution=institution)
    sheet = services.sheet_open(actor=clerk, project_class=project_class)
    services.results_fill_full(actor=clerk, sheet=sheet)
    services.sheet_submit(actor=clerk, sheet=sheet)
    reviewer = make_actor(Role.INSTITUTION_REVIEWER, institution=institution)
    officer = make_actor(Role.PROVINCE, region=province)
    draft = credit_services.policy_create_draft(actor=officer, name="新版", based_on=credit_selectors.active_policy())
    credit_services.policy_activate(actor=officer, policy=draft)  # its job is run below, beside the approval
    monkeypatch.setattr(credit_services, "STANDINGS_CHUNK", 8)
    barrier, errors = threading.Barrier(2), []

    def run(work):
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    jobs = [
        lambda: services.sheet_approve(actor=reviewer, sheet=ResultSheet.objects.get(pk=sheet.pk)),
        lambda: credit_services.policy_derived_rebuild(),
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert LedgerEntry.objects.filter(source_type="result").count() == 40
