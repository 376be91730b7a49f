"""Term writes: creating a term from the preset, editing and extending windows."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.scopes import Actor, require

from .models import Term, Window, WindowExtension, WindowKind
from .windows import preset_windows


@transaction.atomic
def term_create_from_preset(*, actor: Actor | None, code: str, name: str, year: int, **settings) -> Term:
    """A new term whose windows copy the 2024 H1 dates onto ``year`` (the province edits them after)."""
    if actor is not None:
        require(actor, "terms.term.manage")
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise InvalidInput(_("Enter the term's code and name."), details={"field": "name"})
    try:
        with transaction.atomic():
            term = Term.objects.create(code=code, name=name, **settings)
    except IntegrityError:
        raise Conflict(_("A term with this code or name already exists."), details={"field": "code"}) from None
    Window.objects.bulk_create(
        Window(term=term, kind=kind, starts_at=start, ends_at=end)
        for kind, (start, end) in preset_windows(year).items()
    )
    audit_record(actor, "terms.term.create", term, summary=name, after={"code": code, "year": year})
    return term


@transaction.atomic
def window_set(*, actor: Actor, term: Term, kind: str, starts_at: datetime, ends_at: datetime) -> Window:
    require(actor, "terms.term.manage")
    if kind not in WindowKind.values:
        raise InvalidInput(_("Unknown window."), details={"field": "kind"})
    if ends_at <= starts_at:
        raise InvalidInput(_("A window must close after it opens."), details={"field": "ends_at"})
    window = Window.objects.select_for_update().filter(term=term, kind=kind).first()
    before = {"starts_at": window.starts_at, "ends_at": window.ends_at} if window else None
    if window is None:
        window = Window(term=term, kind=kind)
    window.starts_at, window.ends_at = starts_at, ends_at
    window.save()
    audit_record(actor, "terms.window.set", window, before=before, after={"starts_at": starts_at, "ends_at": ends_at})
    return window


@transaction.atomic
def window_extend(*, actor: Actor, window: Window, new_ends_at: datetime, reason: str) -> Window:
    """Authorised officers push a window's close later, with a reason (audited)."""
    require(actor, "terms.window.extend")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the extension."), details={"field": "reason"})
    window = Window.objects.select_for_update().get(pk=window.pk)
    if new_ends_at <= window.ends_at:
        raise InvalidInput(
            _("The new closing time must be later than the current one."), details={"field": "new_ends_at"}
        )
    WindowExtension.objects.create(
        window=window, old_ends_at=window.ends_at, new_ends_at=new_ends_at, reason=reason, created_by=actor.user
    )
    old = window.ends_at
    window.ends_at = new_ends_at
    window.save(update_fields=["ends_at"])
    audit_record(
        actor, "terms.window.extend", window, summary=reason, before={"ends_at": old}, after={"ends_at": new_ends_at}
    )
    return window
