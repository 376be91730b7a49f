"""Background jobs of the credits app (``manage.py db_worker``); retryable from the jobs page.

* ``credits.standings``: after a policy is activated, rebuild the per-cycle summary if the cycles
  are cut differently (reports read the per-school-year totals until it is complete), then
  recompute every teacher's stored standing (until a teacher's row is redone, the page computes
  that teacher's standing from the ledger);
* ``credits.whatif``: compare a draft policy with the active one on the real data.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from peixun.core.models import Job
from peixun.core.services import job_finish, job_progress, register_job_task

STANDINGS_JOB = "credits.standings"
WHATIF_JOB = "credits.whatif"


@task()
def run_standings_rebuild(job_id: int) -> None:
    from . import services

    job = Job.objects.get(pk=job_id)
    try:
        count, rebuilt = services.policy_derived_rebuild(
            progress=lambda done, total: job_progress(job, progress=done, total=total)
        )
        if rebuilt:
            message = _(
                "The per-cycle summary was rebuilt for the new cycles and %(count)s stored standings "
                "recomputed under the active policy."
            ) % {"count": count}
        else:
            message = _("%(count)s stored standings recomputed under the active policy.") % {"count": count}
        job_finish(job, ok=True, message=message, result=_policy_link(job))
    except services.PolicySuperseded:
        job_finish(
            job,
            ok=True,
            message=_("Another policy was activated meanwhile; its own job recomputes everything under it."),
            result=_policy_link(job),
        )
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


def _policy_link(job: Job) -> dict:
    policy_id = job.params.get("policy_id")
    if not policy_id:
        return {}
    return {"link": reverse("credits:policy_detail", args=[policy_id]), "link_label": _("Show the policy")}


@task()
def run_whatif(job_id: int) -> None:
    from peixun.core.tasks import actor_for_job

    from . import reports, selectors
    from .models import Policy

    job = Job.objects.get(pk=job_id)
    try:
        actor = actor_for_job(job)
        policy = Policy.objects.get(pk=job.params["policy_id"])
        job_progress(job, progress=0, total=2)
        comparison = reports.whatif(
            actor=actor,
            draft=selectors.rules_for(policy),
            active=selectors.active_rules(),
            progress=lambda done: job_progress(job, progress=done),
        )
        job_finish(
            job,
            ok=True,
            message=_("Compared on %(count)s teachers in post.")
            % {"count": comparison["totals"].get("before_teachers", 0)},
            result={
                "comparison": reports.whatif_json(comparison),
                "link": reverse("credits:policy_whatif", args=[policy.pk]),
                "link_label": _("Show the comparison"),
            },
        )
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


register_job_task(STANDINGS_JOB, run_standings_rebuild)
register_job_task(WHATIF_JOB, run_whatif)
