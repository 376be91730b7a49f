"""The what-if comparison and the recomputation after activation run as background jobs (the real worker)."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from peixun.core import selectors as core_selectors
from peixun.core.errors import NotFound
from peixun.core.models import AuditLog, Job
from peixun.core.roles import Role
from peixun.credits import engine, selectors, services
from peixun.credits.models import LedgerEntry, TeacherStanding
from peixun.credits.policy import Rules
from tests.factories import TeacherFactory, credit_policy, make_actor, post_credit


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def _draft_asking_30(officer):
    draft = services.policy_create_draft(actor=officer, name="提高要求", based_on=selectors.active_policy())
    data = draft.data
    data["categories"][0]["minimum"] = "30"
    return services.policy_update_draft(actor=officer, policy=draft, data=data)


def _draft_with_three_year_cycles(officer, *, province=None):
    """A draft cutting the cycles anew (2020–2022, 2023–2025, …): the per-cycle summary must be rebuilt.
    Based on the active policy, or on preset A in ``province`` when there is none."""
    if province is None:
        draft = services.policy_create_draft(actor=officer, name="三年周期", based_on=selectors.active_policy())
    else:
        draft = services.policy_create_draft(actor=officer, name="三年周期", preset="A", province=province)
    data = draft.data
    data["cycle"] = {"start_year": 2020, "length": 3}
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


@pytest.mark.django_db(transaction=True)
def test_activating_new_cycles_rebuilds_the_summary_in_the_job_the_api_and_the_page_follow(
    client, province, county, school
):
    from peixun.credits.models import CycleTotal, Policy

    credit_policy("A", province=province)
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "26")
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_with_three_year_cycles(officer)
    client.force_login(officer.user)

    response = client.post(f"/api/credits/policies/{draft.pk}/activate")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active" and body["job_status"] == "queued"
    job = Job.objects.get(pk=body["job_id"], owner=officer.user, kind="credits.standings")
    assert job.total == 2  # one teacher, two steps: the per-cycle summary, then the standings
    assert client.get(body["status_url"]).json()["status"] == "queued"
    # Nothing was rebuilt in the request: the old cycles' rows are still there, unused.
    assert set(CycleTotal.objects.values_list("cycle_length", flat=True)) == {5}
    assert not Policy.objects.get(pk=draft.pk).cycle_totals_ready
    page = client.get(reverse("credits:policy_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="activation-job"' in page and f'id="job-{job.pk}"' in page and "hx-get" in page

    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == job.total == 2, job.message
    status = client.get(body["status_url"]).json()
    assert status["status"] == "succeeded" and status["percent"] == 100 and "汇总" in status["message"]
    assert status["result"]["link"] == reverse("credits:policy_detail", args=[draft.pk])
    assert set(CycleTotal.objects.values_list("cycle_length", flat=True)) == {3}
    assert Policy.objects.get(pk=draft.pk).cycle_totals_ready
    assert TeacherStanding.objects.get(teacher=teacher).policy_id == draft.pk
    page = client.get(reverse("credits:policy_detail", args=[draft.pk])).content.decode()
    assert 'data-testid="activation-job"' in page and f'id="job-{job.pk}"' not in page
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postings_during_the_activation_job_are_counted_once_without_deadlocks(province, school, monkeypatch):
    """The job's chunks and postings lock the teacher first, so they take turns (PostgreSQL)."""
    import random
    import threading
    from datetime import date

    from django.db import close_old_connections, connection

    from peixun.credits.models import CycleTotal

    assert connection.vendor == "postgresql"
    credit_policy("A", province=province)
    teachers = TeacherFactory.create_batch(40, school=school)
    for t in teachers:
        post_credit(t, "2", earned_on=date(2024, 3, 1))
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_with_three_year_cycles(officer)
    services.policy_activate(actor=officer, policy=draft)
    monkeypatch.setattr(services, "STANDINGS_CHUNK", 3)
    errors, start = [], threading.Barrier(3)

    def rebuild():
        try:
            start.wait(timeout=10)
            services.policy_derived_rebuild()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def post(seed):
        rng = random.Random(seed)
        try:
            start.wait(timeout=10)
            for _ in range(30):
                post_credit(rng.choice(teachers), "1", earned_on=date(2025, rng.randint(1, 6), 1))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=rebuild), threading.Thread(target=post, args=(1,))]
    threads.append(threading.Thread(target=post, args=(2,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert selectors.cycle_totals_definition() == (2020, 3)
    rows = sorted(CycleTotal.objects.values_list("teacher_id", "cycle_start", "cycle_length", "category", "amount"))
    services.cycle_totals_rebuild(selectors.active_rules())
    assert rows == sorted(
        CycleTotal.objects.values_list("teacher_id", "cycle_start", "cycle_length", "category", "amount")
    )
    assert sum(r[-1] for r in rows) == Decimal(2 * 40 + 60)
    rules = selectors.active_rules()
    for t in teachers:  # every stored standing is the new policy's and agrees with the ledger
        stored = list(TeacherStanding.objects.filter(teacher=t))
        assert stored and {row.policy_id for row in stored} == {draft.pk}
        for row in stored:
            entries = [engine.Entry(*values) for values in selectors._entry_rows(t.pk, rules, row.cycle_start)]
            fresh = engine.summarize(rules, entries, cycle=row.cycle_start, probation=row.probation).to_json()
            assert row.data == json.loads(json.dumps(fresh))


@pytest.mark.django_db
def test_the_policy_page_reads_level_minimums_as_words(client, province):
    policy = credit_policy("B", province=province)  # probation: practical at least 80
    assert any(c.level_minimums for c in Rules.from_data(policy.data).categories)
    officer = make_actor(Role.PROVINCE, region=province)
    client.force_login(officer.user)
    page = client.get(reverse("credits:policy_detail", args=[policy.pk])).content.decode()
    assert "实践 80" in page and "Decimal(" not in page and "{&#x27;" not in page


@pytest.mark.django_db
def test_a_posting_with_rules_read_before_an_activation_counts_under_the_new_policy(province, school):
    from datetime import date

    from peixun.credits.models import CycleTotal

    credit_policy("A", province=province)
    teacher = TeacherFactory(school=school)
    post_credit(teacher, "4", earned_on=date(2024, 3, 1))
    stale = selectors.active_rules()  # e.g. an approval that read the rules before the activation committed
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_with_three_year_cycles(officer)
    services.policy_activate(actor=officer, policy=draft)
    services.policy_derived_rebuild()  # the job has already done this teacher

    services.ledger_post(
        actor=None,
        teacher=teacher,
        category="tongchou",
        amount=Decimal("3"),
        source_type="result",
        source_id=987654,
        earned_on=date(2025, 3, 1),
        rules=stale,
    )
    rows = sorted(CycleTotal.objects.values_list("teacher_id", "cycle_start", "cycle_length", "category", "amount"))
    assert {r[2] for r in rows} == {3}  # nothing added to the old five-year cycles
    services.cycle_totals_rebuild(selectors.active_rules())
    assert rows == sorted(
        CycleTotal.objects.values_list("teacher_id", "cycle_start", "cycle_length", "category", "amount")
    )
    standing = TeacherStanding.objects.get(teacher=teacher, cycle_length=3, cycle_start=2023)
    assert standing.policy_id == draft.pk


@pytest.mark.django_db
def test_a_setup_activation_with_new_cycles_leaves_the_per_cycle_summary_ready(province, school):
    from datetime import date

    from peixun.credits.models import Policy

    teacher = TeacherFactory(school=school)
    post_credit(teacher, "5", earned_on=date(2024, 3, 1))
    officer = make_actor(Role.PROVINCE, region=province)
    draft = _draft_with_three_year_cycles(officer, province=province)
    services.policy_activate(actor=None, policy=draft)  # as a setup command does: rebuilt at once
    assert Policy.objects.get(pk=draft.pk).cycle_totals_ready
    assert selectors.cycle_totals_definition() == (2020, 3)


@pytest.mark.django_db
def test_activation_job_is_watched_by_every_province_officer_not_by_a_county(client, province, county, school):
    """Job visibility (``core.scopes.visible_jobs``): the owner, every other province officer (policy
    page, job page and ``/api/core/jobs/{id}``), not a county officer; retry and download stay the owner's."""
    credit_policy("A", province=province)
    TeacherFactory(school=school)
    starter = make_actor(Role.PROVINCE, region=province)
    colleague = make_actor(Role.PROVINCE, region=province)
    county_officer = make_actor(Role.COUNTY, region=county)
    draft = _draft_asking_30(starter)
    services.policy_activate(actor=starter, policy=draft)  # the worker does not run: the job stays queued
    job = Job.objects.get(kind="credits.standings")
    assert (job.owner_id, job.subject_type, job.subject_id) == (starter.user.pk, "credits.policy", draft.pk)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, progress=1, total=4)  # mid-run
    policy_page = reverse("credits:policy_detail", args=[draft.pk])
    job_page = reverse("core:job_detail", args=[job.pk])
    job_api = reverse("api:job", args=[job.pk])

    for officer in (starter, colleague):
        client.force_login(officer.user)
        page = client.get(policy_page).content.decode()
        assert 'data-testid="activation-job"' in page and f'id="job-{job.pk}"' in page and "25%" in page
        assert client.get(job_page, HTTP_HX_REQUEST="true").status_code == 200
        api = client.get(job_api)
        assert api.status_code == 200 and (api.json()["progress"], api.json()["total"]) == (1, 4)
    # The colleague watches, but neither retries nor downloads someone else's job.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    assert "重试" not in client.get(job_page).content.decode()
    assert client.post(f"{job_api}/retry").status_code == 404
    assert client.post(reverse("core:job_retry", args=[job.pk])).status_code == 404
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)

    client.force_login(county_officer.user)
    page = client.get(policy_page).content.decode()
    assert 'data-testid="activation-job"' not in page and f'id="job-{job.pk}"' not in page
    assert client.get(job_page).status_code == 404
    assert client.get(job_api).status_code == 404
    # The same person acting in a county grant sees nothing either (the rule follows the role acted in).
    county_grant = make_actor(Role.COUNTY, region=county, user=colleague.user)
    assert county_grant.user == colleague.user
    with pytest.raises(NotFound):
        core_selectors.job_get(actor=county_grant, job_id=job.pk)
    assert core_selectors.job_get(actor=colleague, job_id=job.pk) == job
