from collections.abc import Iterable

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, PermissionDenied
from .models import Job, Notification, OutboxMessage


def notifications(users: Iterable, *, title: str, body: str = "", link: str = "", kind: str = "") -> list[Notification]:
    """The in-app notifications ``notify`` sends, unsaved (for a service that inserts them with other rows)."""
    return [Notification(user=user, title=title[:200], body=body, link=link, kind=kind) for user in users if user]


def notify(users: Iterable, *, title: str, body: str = "", link: str = "", kind: str = "", sms: bool = False) -> int:
    """Send an in-app notification to each user (call inside the service's transaction).

    With ``sms`` an outbox row is queued for each user that has a phone number, for a
    sender to deliver later.
    """
    created = Notification.objects.bulk_create(notifications(users, title=title, body=body, link=link, kind=kind))
    if sms:
        OutboxMessage.objects.bulk_create(
            OutboxMessage(notification=n, channel=OutboxMessage.Channel.SMS) for n in created if n.user.phone
        )
    return len(created)


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def job_create(
    *, owner, kind: str, title: str, params: dict | None = None, total: int = 0, subject: Model | None = None
) -> Job:
    """``subject``: the object the job works on, when others may watch it (``core.scopes.JOB_SUBJECTS``)."""
    return Job.objects.create(
        owner=owner,
        kind=kind,
        title=title,
        params=params or {},
        total=total,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
    )


def job_progress(job: Job, *, progress: int, total: int | None = None, message: str = "") -> None:
    """Record progress outside the job's own transaction so the page can show it."""
    fields = {"progress": progress, "status": Job.Status.RUNNING, "updated_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    if message:
        fields["message"] = message[:500]
    Job.objects.filter(pk=job.pk).update(**fields)


def job_finish(job: Job, *, ok: bool, message: str = "", result: dict | None = None) -> None:
    with transaction.atomic():
        job.refresh_from_db()
        job.status = Job.Status.SUCCEEDED if ok else Job.Status.FAILED
        job.message = message[:500]
        if result is not None:
            job.result = result
        if ok and job.total:
            job.progress = job.total
        job.save()


# kind -> the django-tasks Task that runs jobs of that kind with ``job_id=`` (for retries).
JOB_TASKS: dict = {}


def register_job_task(kind: str, task) -> None:
    JOB_TASKS[kind] = task


@transaction.atomic
def job_retry(*, user, job: Job) -> Job:
    """Run a failed job again from the start (its task must be idempotent)."""
    job = Job.objects.select_for_update().filter(pk=job.pk, owner=user).first()
    if job is None:
        raise PermissionDenied(_("Only the person who started a job can retry it."))
    if job.status != Job.Status.FAILED:
        raise Conflict(_("Only failed jobs can be retried."))
    if job.kind not in JOB_TASKS:
        raise Conflict(_("This kind of job cannot be retried."))
    job.status, job.progress, job.message = Job.Status.QUEUED, 0, ""
    job.save(update_fields=["status", "progress", "message", "updated_at"])
    task = JOB_TASKS[job.kind]
    transaction.on_commit(lambda: task.enqueue(job_id=job.pk))
    return job
