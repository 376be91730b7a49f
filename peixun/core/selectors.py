from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .errors import NotFound
from .models import AuditLog, Job, Notification
from .scopes import Actor, require, visible


def audit_list(*, actor: Actor) -> QuerySet[AuditLog]:
    require(actor, "core.audit.view")
    return visible(actor, AuditLog.objects.all())


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user)


def job_get(*, user, job_id: int) -> Job:
    try:
        return Job.objects.get(pk=job_id, owner=user)
    except Job.DoesNotExist:
        raise NotFound(_("The job does not exist or is not yours.")) from None
