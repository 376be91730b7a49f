"""The allocation run as a background job (``manage.py db_worker``); retryable from the jobs page."""

from django.utils.translation import gettext as _
from django_tasks import task

from peixun.core.models import Job
from peixun.core.services import job_finish, register_job_task

from .models import AllocationRun
from .services import allocation as services


@task()
def run_allocation(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    done = AllocationRun.objects.filter(pk=job.params.get("run_id"), status=AllocationRun.Status.DONE).first()
    if done is not None:  # already run (e.g. by the demo seed, or a duplicate delivery): nothing to redo
        job_finish(job, ok=True, message=_("%(allocated)s seats to %(placed)s of %(teachers)s teachers.") % done.counts)
        return
    run = services.run_for_job(job)
    if run is None:
        job_finish(job, ok=False, message=_("This allocation run was superseded or has already been handled."))
        return
    try:
        run = services.allocation_execute(run.pk)
    except Exception as exc:  # noqa: BLE001 - the job and the run show the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise
    job_finish(
        job,
        ok=True,
        message=_("%(allocated)s seats to %(placed)s of %(teachers)s teachers.") % run.counts,
        result={"run_id": run.pk, **run.counts},
    )


register_job_task(services.JOB_KIND, run_allocation)
