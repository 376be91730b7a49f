"""The what-if comparison and the recomputation after activation run as background jobs (the real worker)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.credits import selectors, services
from peixun.credits.models import LedgerEntry, TeacherStanding
from tests.factories import TeacherFactory, credit_policy, make_actor, post_credit


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def _draft_asking_30(officer):
    draft = services.policy_create_draft(actor=officer, name="提高要求", based_on=selectors.active_policy())
    data = draft.data
    data["categories"][0]["minimum"] = "30"
    return services.policy_update_draft(actor=officer, policy=draft, data=data)


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections like in production
def test_whatif_runs_in_the_background_and_the_page_shows_the_result(client, province, county, school):
    credit_policy("A", province=province)
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "26")
    post_credit(teacher, "10", category="zizhu", source_type="schoolbased")
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_asking_30(officer)
    client.force_login(officer.user)
    url = reverse("credits:policy_whatif", args=[draft.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="whatif"' not in page and "运行对比" in page

    assert client.post(url).status_code == 302
    job = Job.objects.get(owner=officer.user, kind="credits.whatif")
    assert job.status == Job.Status.QUEUED
    assert AuditLog.objects.filter(action="credits.policy.whatif", user=officer.user).exists()
    assert 'id="job-' in client.get(url).content.decode()  # the progress card while it runs

    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    totals = job.result["comparison"]["totals"]
    assert (totals["before_compliant"], totals["after_compliant"], totals["before_teachers"]) == (1, 0, 1)
    page = client.get(url).content.decode()
    assert 'data-testid="whatif"' in page and "whatif-outdated" not in page
    api = client.get(f"/api/credits/policies/{draft.pk}/whatif").json()
    assert api["status"] == "succeeded" and api["totals"]["after_compliant"] == 0 and not api["outdated"]

    # Editing the draft afterwards marks the result as outdated; the API starts a new run.
    services.policy_update_draft(actor=officer, policy=draft, data=draft.data, note="再改")
    assert "whatif-outdated" in client.get(url).content.decode()
    started = client.post(f"/api/credits/policies/{draft.pk}/whatif")
    assert started.status_code == 202 and started.json()["job_id"] != job.pk
    assert client.get(f"/api/credits/policies/{draft.pk}/whatif").json()["status"] == "queued"


@pytest.mark.django_db(transaction=True)
def test_activation_recomputes_stored_standings_in_a_job(client, province, county, school):
    credit_policy("A", province=province)
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "26")
    post_credit(teacher, "10", category="zizhu", source_type="schoolbased")
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_asking_30(officer)
    entries = LedgerEntry.objects.count()
    client.force_login(officer.user)
    assert client.post(reverse("credits:policy_activate", args=[draft.pk])).status_code == 302
    job = Job.objects.get(owner=officer.user, kind="credits.standings")
    # Until the job has run the row is of the old policy: the page computes from the ledger.
    assert TeacherStanding.objects.get(teacher=teacher).policy_id != draft.pk
    standing, _rows = selectors.teacher_standing(actor=officer, teacher=teacher)
    assert standing.category("tongchou").missing == Decimal("4.00")

    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == job.total == 1, job.message
    row = TeacherStanding.objects.get(teacher=teacher)
    assert (row.policy_id, row.policy_version) == (draft.pk, draft.version)
    assert selectors.teacher_standing(actor=officer, teacher=teacher)[0].category("tongchou").missing == Decimal("4.00")
    assert LedgerEntry.objects.count() == entries  # the ledger is never rewritten
