"""The home-page panel every role sees: which windows of the current term are open now and what comes next."""

from __future__ import annotations

from django.utils import timezone

from .windows import current_term, windows_for_role


def windows_panel(actor) -> dict | None:
    if actor.role == "auditor":  # separation of duties: the auditor reads the audit log only
        return None
    term = current_term()
    if term is None:
        return None
    return {
        "template": "terms/_home_windows.html",
        "order": 10,
        "width": "col-12 col-xl-6",
        "term": term,
        "now": timezone.now(),
        **windows_for_role(term, actor.role),
    }
