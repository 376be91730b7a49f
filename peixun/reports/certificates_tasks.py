"""Certificate batches as background jobs (``manage.py db_worker``); retryable from the jobs page.

* ``certificates``: every in-post teacher's credit statement of a school;
* ``class_certificates``: every passed trainee's completion certificate of a class.

Each job issues (or re-issues unchanged) the documents one by one, so a retry is harmless, and
writes one zip of the PDFs with a CSV list of their verification links.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Sequence

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
LANGUAGE = "zh-hans"


def verify_url_for(base_url: str, issued) -> str:
    from . import services_certificates as services

    token = services.make_token(issued.serial, issued.digest)
    return base_url.rstrip("/") + reverse("reports:certificate_verify", args=[token])


def _zip_job(job: Job, teachers: Sequence[Teacher], issue: Callable, label: str, done_message: str) -> None:
    from .certificates import pdf_filename, render_pdf

    params = job.params
    job_progress(job, progress=0, total=len(teachers))
    with tempfile.TemporaryFile() as spool, override(LANGUAGE):
        listing = io.StringIO()
        writer = csv.writer(listing)
        writer.writerow([_("Name"), _("ID number"), _("School"), _("Serial number"), _("Verification link")])
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            for n, teacher in enumerate(teachers, start=1):
                issued = issue(teacher)
                url = verify_url_for(params["base_url"], issued)
                archive.writestr(pdf_filename(issued), render_pdf(issued, url))
                t = issued.snapshot["teacher"]
                writer.writerow([t["name"], t["national_id"], t["school"], issued.serial, url])
                if n % PROGRESS_EVERY == 0:
                    job_progress(job, progress=n)
            archive.writestr(_("list.csv"), "\ufeff" + listing.getvalue())
        spool.seek(0)
        name = f"{label}-{timezone.localtime():%Y%m%d-%H%M}.zip"
        job.refresh_from_db()
        job.result_file.save(name, File(spool), save=False)
        job.result = {"filename": name, "count": len(teachers)}
        job.save(update_fields=["result_file", "result"])
        job_finish(job, ok=True, message=done_message % {"count": len(teachers)})


@task()
def run_certificate_batch(job_id: int) -> None:
    """Every in-post teacher's credit statement of a school."""
    from peixun.core.tasks import actor_for_job

    from . import services_certificates as services

    job = Job.objects.get(pk=job_id)
    params = job.params
    try:
        actor = actor_for_job(job)
        teachers = list(
            Teacher.objects.filter(school_id=params["school_id"], status=Teacher.Status.ACTIVE)
            .select_related("school", "school__county")
            .order_by("name", "pk")
        )
        with override(LANGUAGE):
            school = teachers[0].school.name if teachers else str(params["school_id"])
            _zip_job(
                job,
                teachers,
                lambda t: services.credit_statement_issue(actor=actor, teacher=t, cycle=params.get("cycle")),
                f"{_('Credit statements')}-{school}",
                _("%(count)s credit statements issued."),
            )
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


@task()
def run_class_certificate_batch(job_id: int) -> None:
    """Every passed trainee's completion certificate of a class."""
    from peixun.catalog.models import ProjectClass
    from peixun.core.tasks import actor_for_job

    from . import services_class_certificates as services

    job = Job.objects.get(pk=job_id)
    try:
        actor = actor_for_job(job)
        project_class = ProjectClass.objects.select_related("project").get(pk=job.params["class_id"])
        services.require_class_owner(actor, project_class)
        teachers = [r.teacher for r in services.class_passed_results(project_class)]
        with override(LANGUAGE):
            _zip_job(
                job,
                teachers,
                lambda t: services.class_issue_for_batch(actor=actor, teacher=t, project_class=project_class),
                f"{_('Completion certificates')}-{project_class.project.name}-{project_class.number}",
                _("%(count)s completion certificates issued."),
            )
    except Exception as exc:  # noqa: BLE001 - the job page shows the failure; the worker keeps going
        job_finish(job, ok=False, message=str(exc)[:300])
        raise


register_job_task("certificates", run_certificate_batch)
register_job_task("class_certificates", run_class_certificate_batch)
