from django.conf import settings
from django.db import DataError, OperationalError
from django.shortcuts import render
from django.utils.translation import gettext as _

from .context import current_ip
from .errors import DomainError, busy, is_busy_error


def client_ip(request) -> str | None:
    # Behind nginx the real client is the first X-Forwarded-For entry; the app is only
    # reachable through the proxy in production, so the header can be trusted there.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
        if getattr(settings, "CONTENT_SECURITY_POLICY", "") and not request.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class DomainErrorMiddleware:
    """A domain error that escapes a page view becomes a friendly error page, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, DomainError):
            return render(request, "error.html", {"error": exception}, status=exception.status)
        if isinstance(exception, OperationalError) and is_busy_error(exception):
            error = busy()  # a busy database changed nothing: ask to retry instead of a 500
            return render(request, "error.html", {"error": error}, status=error.status)
        if isinstance(exception, (OverflowError, DataError)):
            # A filter value beyond the database's range (e.g. ?county=99999999999999999999).
            return render(request, "error.html", {"error": _("A value in the request is out of range.")}, status=400)
        return None
