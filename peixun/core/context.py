"""Per-request values that services need but should not take as arguments (the client IP)."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)
