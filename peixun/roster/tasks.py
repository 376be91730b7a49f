"""Background tasks of the roster import (run by ``manage.py db_worker``).

Each takes the ``core.Job`` id, so a failed job can be retried from the jobs page.
"""

from django.utils.translation import gettext as _
from django_tasks import task

from peixun.core.models import Job
from peixun.core.services import job_finish, register_job_task

from . import imports
from .models import RosterImport

S = RosterImport.Status


def _import_for(job: Job, *, retry_from: str, status: str) -> RosterImport | None:
    """The job's import, moved back to ``status`` when a failed run is retried; None if nothing to do."""
    imp = RosterImport.objects.filter(pk=job.params.get("import_id")).first()
    if imp is not None and imp.status == retry_from:
        RosterImport.objects.filter(pk=imp.pk, status=retry_from).update(status=status, message="")
        imp.status = status
    if imp is None or imp.status != status:
        job_finish(job, ok=False, message=_("This import was cancelled or has already been handled."))
        return None
    return imp


@task()
def validate_roster_import(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    imp = _import_for(job, retry_from=S.FAILED, status=S.VALIDATING)
    if imp is not None:
        imports.run_validation(imp.pk)


@task()
def apply_roster_import(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    imp = _import_for(job, retry_from=S.PREVIEW, status=S.APPLYING)
    if imp is not None:
        imports.run_apply(imp.pk)


register_job_task("roster.import.validate", validate_roster_import)
register_job_task("roster.import.apply", apply_roster_import)
