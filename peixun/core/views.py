from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .decorators import actor_required
from .errors import DomainError
from .home import panels_for
from .lists import apply_search, paginate


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@login_required
def home(request):
    actor = request.actor
    if actor is None:
        return render(request, "core/no_role.html")
    return render(request, "core/home.html", {"panels": panels_for(actor)})


@actor_required
def notification_list(request):
    qs = selectors.notification_list(user=request.user)
    if request.GET.get("unread"):
        qs = qs.filter(read_at__isnull=True)
    state = paginate(request, qs)
    return render(request, "core/notification_list.html", {"state": state})


@require_POST
@actor_required
def notification_read(request, pk=None):
    services.notification_mark_read(user=request.user, notification_id=pk)
    return redirect(request.POST.get("next") or "core:notification_list")


@actor_required
def job_list(request):
    state = paginate(request, selectors.job_list(user=request.user))
    return render(request, "core/job_list.html", {"state": state})


@actor_required
def job_detail(request, pk):
    job = selectors.job_get(actor=request.actor, job_id=pk)
    template = "core/_job_progress.html" if request.headers.get("HX-Request") else "core/job_detail.html"
    return render(request, template, {"job": job})


@require_POST
@actor_required
def job_retry(request, pk):
    job = selectors.job_owned(actor=request.actor, job_id=pk)
    try:
        services.job_retry(user=request.user, job=job)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:job_detail", pk=pk)


@actor_required
def job_download(request, pk):
    job = selectors.job_owned(actor=request.actor, job_id=pk)
    if not job.result_file:
        raise Http404
    name = job.result.get("filename") or job.result_file.name.rsplit("/", 1)[-1]
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=name)


@actor_required
def audit_list(request):
    qs = selectors.audit_list(actor=request.actor)
    qs = apply_search(qs, request.GET.get("q", ""), ["username", "action", "summary", "object_id"])
    if request.GET.get("action"):
        qs = qs.filter(action__startswith=request.GET["action"])
    state = paginate(request, qs)
    return render(request, "core/audit_list.html", {"state": state})


def robots(request):
    return HttpResponse("User-agent: *\nDisallow: /\n", content_type="text/plain")


def csrf_failure(request, reason=""):
    return render(
        request,
        "error.html",
        {"error": _("The page has expired. Please reload it and try again.")},
        status=403,
    )
