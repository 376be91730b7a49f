"""The home-page panel every role sees: which windows of the current term are open now and what comes next."""

from __future__ import annotations

from django.utils import timezone

from .windows import current_term, open_in_other_terms, window_page, windows_for_role


def windows_panel(actor) -> dict | None:
    if actor.role == "auditor":  # separation of duties: the auditor reads the audit log only
        return None
    term = current_term()
    if term is None:
        return None
    now = timezone.now()
    mine = windows_for_role(term, actor.role, now)
    open_now = [{"state": s, "link": window_page(term, s.window.kind, actor.role)} for s in mine["open"]]
    elsewhere = [
        {"term": other, "state": s, "link": window_page(other, s.window.kind, actor.role)}
        for other, s in open_in_other_terms(term, actor.role, now)
    ]
    return {
        "template": "terms/_home_windows.html",
        "order": 10,
        "width": "col-12 col-xl-6",
        "term": term,
        "now": now,
        "open_now": open_now,
        "elsewhere": elsewhere,
        **mine,
    }
