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
