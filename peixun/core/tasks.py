"""Background tasks of the core app (django-tasks; the worker is ``manage.py db_worker``)."""

from __future__ import annotations

import tempfile

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from .audit import audit_record
from .exports import EXPORTERS, export_format, write_export
from .models import Job
from .services import job_finish, job_progress, register_job_task

PROGRESS_EVERY = 5000


def actor_for_job(job: Job):
    from peixun.accounts.models import RoleGrant

    from .scopes import Actor

    grant = RoleGrant.objects.select_related("user", "region", "school", "institution").get(pk=job.params["grant_id"])
    return Actor.from_grant(grant)


@task()
def run_export(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    try:
        actor = actor_for_job(job)
        export = EXPORTERS[job.params["exporter"]](actor, job.params.get("params", {}))
        job_progress(job, progress=0, total=export.total, message="")

        def counted(rows):
            for n, row in enumerate(rows, start=1):
                if n % PROGRESS_EVERY == 0:
                    job_progress(job, progress=n)
                yield row

        fmt = export_format(job.params.get("format"))
        with tempfile.TemporaryFile() as spool:
            count = write_export(spool, export.headers, counted(export.rows), fmt=fmt, title=export.title)
            spool.seek(0)
            name = f"{export.filename}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
            job.refresh_from_db()
            job.result_file.save(name, File(spool), save=False)
            job.result = {"filename": name, "rows": count}
            job.save(update_fields=["result_file", "result"])
        audit_record(actor, "core.export", job, summary=f"{export.filename}: {count}", after=job.params)
        job_finish(job, ok=True, message=_("%(count)s rows exported.") % {"count": count})
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


register_job_task("export", run_export)
