from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema

from peixun.core.api_types import Id

from . import selectors, services

router = Router(tags=["core"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    scope: str
    must_change_password: bool


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    progress: int
    total: int
    percent: int
    message: str
    result: dict
    created_at: datetime
    download_url: str = ""

    @staticmethod
    def resolve_download_url(obj, context) -> str:
        if not obj.result_file or obj.owner_id != context["request"].user.pk:  # only the owner downloads
            return ""
        from django.urls import reverse

        return reverse("api:job_file", args=[obj.pk])


@router.get("/me", response=MeOut, summary="当前用户与角色")
def me(request):
    actor = request.actor
    return MeOut(
        username=actor.user.username,
        display_name=actor.user.display_name,
        role=actor.role,
        role_label=actor.role_label,
        scope=actor.scope_label,
        must_change_password=actor.user.must_change_password,
    )


@router.get("/notifications", response=list[NotificationOut], summary="通知（最近 100 条）")
def notifications(request, unread: bool = False):
    qs = selectors.notification_list(user=request.user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return list(qs[:100])


@router.post("/notifications/read", summary="全部标为已读")
def notifications_read(request):
    return {"updated": services.notification_mark_read(user=request.user)}


@router.get("/jobs", response=list[JobOut], summary="我的后台任务")
def jobs(request):
    return list(selectors.job_list(user=request.user)[:100])


@router.get("/jobs/{job_id}", response=JobOut, summary="后台任务详情")
def job(request, job_id: Id):
    return selectors.job_get(actor=request.actor, job_id=job_id)


@router.post("/jobs/{job_id}/retry", response=JobOut, summary="重试失败的后台任务")
def job_retry(request, job_id: Id):
    job = selectors.job_owned(actor=request.actor, job_id=job_id)
    return services.job_retry(user=request.user, job=job)


@router.get("/jobs/{job_id}/file", url_name="job_file", summary="下载后台任务生成的文件")
def job_file(request, job_id: Id):
    from django.http import FileResponse

    from .errors import NotFound

    job = selectors.job_owned(actor=request.actor, job_id=job_id)
    if not job.result_file:
        raise NotFound(_("The job has produced no file yet."))
    name = job.result.get("filename") or job.result_file.name.rsplit("/", 1)[-1]
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=name)
