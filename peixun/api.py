"""The JSON API: one NinjaAPI, a router per app, domain errors as 4xx ``{code, message, details}``."""

from django.db import DataError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from peixun.api_auth import SessionActorAuth, TokenActorAuth
from peixun.core.errors import DomainError, busy, is_busy_error

api = NinjaAPI(
    title="Peixun 教师培训平台 API",
    version="1.0",
    auth=[TokenActorAuth(), SessionActorAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    return _error(request, 422, "invalid", _("The request data is invalid."), exc.errors)


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    return _error(request, 401, "unauthenticated", _("Please sign in or send a valid API token."))


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request, exc):
    # e.g. an id beyond the database's integer range: bad input, not a server fault
    return _error(request, 400, "invalid", _("A value in the request is out of range."))


@api.exception_handler(OperationalError)
def database_busy(request, exc: OperationalError):
    # A busy database (SQLite lock timeout, PostgreSQL deadlock) changed nothing: 503, retry.
    if is_busy_error(exc):
        error = busy()
        return _error(request, error.status, error.code, error.message)
    raise exc


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", _("The object does not exist or is outside your scope."))


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "error", str(exc))


APPS_WITH_API = (
    "core",
    "accounts",
    "orgs",
    "roster",
    "terms",
    "catalog",
    "orders",
    "enrollment",
    "results",
    "credits",
    "schoolbased",
    "monitoring",
    "reports",
)


def _register_routers() -> None:
    from importlib import import_module

    for app in APPS_WITH_API:
        api.add_router(f"/{app}", import_module(f"peixun.{app}.api").router)


_register_routers()
