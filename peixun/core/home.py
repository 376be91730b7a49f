"""Home-page panels. Each app registers functions returning a panel for the actor (or None).

A panel is ``{"template": ..., "order": int, **context}``; the home page renders them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PanelFn = Callable[[Any], dict | None]
_PANELS: list[PanelFn] = []


def register_home_panel(fn: PanelFn) -> PanelFn:
    if fn not in _PANELS:
        _PANELS.append(fn)
    return fn


def panels_for(actor) -> list[dict]:
    panels = [panel for fn in _PANELS if (panel := fn(actor))]
    return sorted(panels, key=lambda p: p.get("order", 100))
