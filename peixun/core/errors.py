"""The one domain-error base.

Services raise these; pages render them as form errors and the API turns them into a
4xx JSON body ``{code, message, details}``. A domain error is never a 500.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None, status: int | None = None):
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also used for objects outside the actor's scope, so their existence is not leaked."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is well-formed but the object's state does not allow it."""

    status = 409
    code = "conflict"


class WindowClosed(Conflict):
    code = "window_closed"


class Busy(DomainError):
    """The database was busy; the request changed nothing and may be retried."""

    status = 503
    code = "busy"


def is_busy_error(exc: BaseException) -> bool:
    """Is this database error a busy database (SQLite's lock timeout, a PostgreSQL deadlock or
    serialization failure)? Such a request changed nothing and may simply be retried."""
    cause = exc.__cause__
    pgcode = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if pgcode in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock not available
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def busy() -> Busy:
    from django.utils.translation import gettext as _

    return Busy(_("The system is busy right now and nothing was changed. Please try again in a moment."))
