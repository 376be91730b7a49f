from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .errors import NotFound
from .models import AuditLog, Job, Notification
from .scopes import Actor, require, visible, visible_jobs


def audit_list(*, actor: Actor) -> QuerySet[AuditLog]:
    require(actor, "core.audit.view")
    return visible(actor, AuditLog.objects.all())


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def job_list(*, user) -> QuerySet[Job]:
    """The user's own jobs (the jobs page; others' jobs are watched from the page of their object)."""
    return Job.objects.filter(owner=user)


def job_get(*, actor: Actor, job_id: int) -> Job:
    """A job the actor may watch (``core.scopes.visible_jobs``): their own, or one attached to an
    object they may act on."""
    job = visible_jobs(actor, Job.objects.filter(pk=job_id)).first()
    if job is None:
        raise NotFound(_("The job does not exist or is not yours."))
    return job


def job_owned(*, actor: Actor, job_id: int) -> Job:
    """The actor's own job (retrying it, downloading its file)."""
    job = Job.objects.filter(pk=job_id, owner=actor.user).first()
    if job is None:
        raise NotFound(_("The job does not exist or is not yours."))
    return job
