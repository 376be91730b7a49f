"""Certificate batches as background jobs (``manage.py db_worker``); retryable from the jobs page."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile

from django.core.files import File
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import task

from peixun.core.models import Job
from peixun.core.services import job_finish, job_progress, register_job_task
from peixun.roster.models import Teacher

PROGRESS_EVERY = 10


def verify_url_for(base_url: str, issued) -> str:
    from . import services_certificates as services

    token = services.make_token(issued.serial, issued.digest)
    return base_url.rstrip("/") + reverse("reports:certificate_verify", args=[token])


@task()
def run_certificate_batch(job_id: int) -> None:
    """Issue (or re-issue unchanged) each in-post teacher's statement and zip the PDFs with a list."""
    from peixun.core.tasks import actor_for_job

    from . import services_certificates as services
    from .certificates import pdf_filename, render_pdf

    job = Job.objects.get(pk=job_id)
    params = job.params
    try:
        actor = actor_for_job(job)
        teachers = list(
            Teacher.objects.filter(school_id=params["school_id"], status=Teacher.Status.ACTIVE)
            .select_related("school", "school__county")
            .order_by("name", "pk")
        )
        job_progress(job, progress=0, total=len(teachers))
        with tempfile.TemporaryFile() as spool, override(services.LANGUAGE):
            listing = io.StringIO()
            writer = csv.writer(listing)
            writer.writerow([_("Name"), _("ID number"), _("Serial number"), _("Standing"), _("Verification link")])
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
                for n, teacher in enumerate(teachers, start=1):
                    issued = services.credit_statement_issue(actor=actor, teacher=teacher, cycle=params.get("cycle"))
                    url = verify_url_for(params["base_url"], issued)
                    archive.writestr(pdf_filename(issued), render_pdf(issued, url))
                    snap = issued.snapshot
                    writer.writerow(
                        [
                            snap["teacher"]["name"],
                            snap["teacher"]["national_id"],
                            issued.serial,
                            snap["status_label"],
                            url,
                        ]
                    )
                    if n % PROGRESS_EVERY == 0:
                        job_progress(job, progress=n)
                archive.writestr(_("list.csv"), "\ufeff" + listing.getvalue())
            spool.seek(0)
            school = teachers[0].school.name if teachers else str(params["school_id"])
            name = f"{_('Credit statements')}-{school}-{timezone.localtime():%Y%m%d-%H%M}.zip"
            job.refresh_from_db()
            job.result_file.save(name, File(spool), save=False)
            job.result = {"filename": name, "count": len(teachers)}
            job.save(update_fields=["result_file", "result"])
        job_finish(job, ok=True, message=_("%(count)s credit statements issued.") % {"count": len(teachers)})
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


register_job_task("certificates", run_certificate_batch)
