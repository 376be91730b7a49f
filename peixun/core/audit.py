"""Audit records. Call ``audit_record`` inside the service's transaction."""

from __future__ import annotations

import datetime
import decimal
from typing import TYPE_CHECKING, Any

from django.db import models

from .context import current_ip
from .models import AuditLog

if TYPE_CHECKING:
    from .scopes import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-able dict of the object's concrete fields (foreign keys by id)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"password"}:
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


def audit_record(
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    *,
    summary: str = "",
    before: Any = None,
    after: Any = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditLog:
    entry = audit_entry(
        actor, action, obj, summary=summary, before=before, after=after, object_type=object_type, object_id=object_id
    )
    entry.save(force_insert=True)
    return entry


def audit_entry(
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    *,
    summary: str = "",
    before: Any = None,
    after: Any = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditLog:
    """The audit record ``audit_record`` writes, unsaved: for a service that inserts it together with
    other rows (``core.hotpath.insert_together``), still in its own transaction."""
    user = actor.user if actor else None
    return AuditLog(
        user=user if (user is not None and user.pk) else None,
        username=user.get_username() if user is not None else "system",
        role=actor.role if actor else "",
        scope=actor.scope_label if actor else "",
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        summary=summary[:500],
        before=_jsonable(before),
        after=_jsonable(after),
        ip=current_ip.get(),
    )
