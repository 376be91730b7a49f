"""Is a window open? The one place every service asks before acting.

Windows are stored as aware datetimes; a preset day range "Mar 7–11" means
Mar 7 00:00 to Mar 11 24:00 Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.errors import WindowClosed

from .models import OpeningBatch, RoundPause, Term, Window, WindowKind

# 2024 H1, from the provincial notice (浙教办函〔2024〕37号, attachments 1 and 2).
PRESET_2024H1: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    WindowKind.ORDER_DEMAND: ((3, 7), (3, 9)),
    WindowKind.ORDER_PUBLISH: ((3, 10), (3, 10)),
    WindowKind.ORDER_RESPONSE: ((3, 11), (3, 14)),
    WindowKind.ORDER_SELECT: ((3, 12), (3, 15)),
    WindowKind.ORDER_APPLY: ((3, 16), (3, 17)),
    WindowKind.PROJECT_APPLY: ((3, 7), (3, 11)),
    WindowKind.PROJECT_REVIEW: ((3, 12), (3, 17)),
    WindowKind.PUBLICATION: ((3, 18), (3, 18)),
    WindowKind.SELECT_R1: ((3, 19), (3, 26)),
    WindowKind.PRINCIPAL_R1: ((3, 26), (3, 27)),
    WindowKind.EXPAND_REQUEST: ((3, 28), (3, 28)),
    WindowKind.EXPAND_ACCEPT: ((3, 29), (3, 29)),
    WindowKind.CONFIRM_R1: ((3, 30), (3, 30)),
    WindowKind.SELECT_R2: ((3, 31), (4, 1)),
    WindowKind.PRINCIPAL_R2: ((4, 1), (4, 2)),
    WindowKind.CONFIRM_R2: ((4, 3), (4, 3)),
    WindowKind.TRAINING: ((4, 7), (8, 31)),
}


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime:
    """The first instant after ``day`` (windows are half-open: [start, end))."""
    return day_start(day + timedelta(days=1))


def preset_windows(year: int, preset=PRESET_2024H1) -> dict[str, tuple[datetime, datetime]]:
    return {kind: (day_start(date(year, *start)), day_end(date(year, *end))) for kind, (start, end) in preset.items()}


@dataclass(frozen=True)
class WindowState:
    window: Window
    is_open: bool
    is_upcoming: bool

    @property
    def label(self) -> str:
        return self.window.get_kind_display()


def _fmt(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def describe(window: Window) -> str:
    """'3月7日 00:00 至 3月12日 00:00' for messages."""
    return _("%(start)s to %(end)s") % {"start": _fmt(window.starts_at), "end": _fmt(window.ends_at)}


def get_window(term: Term, kind: str) -> Window | None:
    read = getattr(term, "_windows_read", None)  # windows fetched along with another row (``remember_windows``)
    if read is not None and kind in read:
        return read[kind]
    cache = getattr(term, "_window_cache", None)
    if cache is None:
        cache = {w.kind: w for w in term.windows.all()}
        term._window_cache = cache
    return cache.get(kind)


def _window_relation(kind: str) -> str:
    return f"window_{kind}"


def window_relations(term_path: str, kinds: Iterable[str]) -> dict[str, FilteredRelation]:
    """Joins of the ``kinds`` windows of the term at ``term_path`` for ``annotate()``, to be
    ``select_related`` too (their names are the keys): a hot path reads its windows with the row it
    fetches anyway, then ``remember_windows``."""
    windows = f"{term_path}__windows"
    return {
        _window_relation(kind): FilteredRelation(windows, condition=Q(**{f"{windows}__kind": kind})) for kind in kinds
    }


def remember_windows(term: Term, row: Any, kinds: Iterable[str]) -> None:
    """Let ``get_window(term, kind)`` answer from the windows joined to ``row`` (``window_relations``)."""
    read = term.__dict__.setdefault("_windows_read", {})
    for kind in kinds:
        window = getattr(row, _window_relation(kind))
        if window is not None:
            window.term = term
        read[kind] = window


def is_open(term: Term, kind: str, now: datetime | None = None) -> bool:
    window = get_window(term, kind)
    now = now or timezone.now()
    return window is not None and window.starts_at <= now < window.ends_at


def require_open(term: Term, kind: str, now: datetime | None = None) -> Window:
    """Raise WindowClosed (with the window's dates in Chinese) unless ``kind`` is open now."""
    window = get_window(term, kind)
    label = WindowKind(kind).label
    if window is None:
        raise WindowClosed(_("%(term)s has no '%(window)s' window.") % {"term": term.name, "window": label})
    now = now or timezone.now()
    if now < window.starts_at:
        raise WindowClosed(
            _("'%(window)s' has not opened yet; it runs %(dates)s.") % {"window": label, "dates": describe(window)},
            details={"window": kind, "starts_at": window.starts_at.isoformat(), "ends_at": window.ends_at.isoformat()},
        )
    if now >= window.ends_at:
        raise WindowClosed(
            _("'%(window)s' has closed; it ran %(dates)s.") % {"window": label, "dates": describe(window)},
            details={"window": kind, "starts_at": window.starts_at.isoformat(), "ends_at": window.ends_at.isoformat()},
        )
    return window


def states(term: Term, now: datetime | None = None) -> list[WindowState]:
    now = now or timezone.now()
    return [
        WindowState(window=w, is_open=w.starts_at <= now < w.ends_at, is_upcoming=now < w.starts_at)
        for w in sorted(term.windows.all(), key=lambda w: (w.starts_at, w.pk))
    ]


def current_term(now: datetime | None = None) -> Term | None:
    """The term whose windows span ``now``, else the next one to start, else the latest."""
    now = now or timezone.now()
    terms = list(Term.objects.prefetch_related("windows"))
    spanning = [
        t
        for t in terms
        if t.windows.all()
        and min(w.starts_at for w in t.windows.all()) <= now <= max(w.ends_at for w in t.windows.all())
    ]
    if spanning:
        return spanning[0]
    upcoming = [t for t in terms if t.windows.all() and min(w.starts_at for w in t.windows.all()) > now]
    if upcoming:
        return min(upcoming, key=lambda t: min(w.starts_at for w in t.windows.all()))
    return terms[0] if terms else None


def require_any_open(term: Term, kinds: list[str] | tuple[str, ...], now: datetime | None = None) -> Window:
    """Like ``require_open`` when an action may happen in any of several windows.

    Raises the error of the window that opens next (or closed last) when none is open.
    """
    now = now or timezone.now()
    for kind in kinds:
        if is_open(term, kind, now):
            return get_window(term, kind)
    existing = [w for w in (get_window(term, k) for k in kinds) if w is not None]
    upcoming = sorted((w for w in existing if w.starts_at > now), key=lambda w: w.starts_at)
    if upcoming:
        target = upcoming[0].kind
    elif existing:
        target = max(existing, key=lambda w: w.ends_at).kind
    else:
        target = kinds[0]
    return require_open(term, target, now)  # raises: none is open


# Who acts in each window (SPEC §3): the home page puts a role's own windows first.
WINDOW_ROLES: dict[str, set[str]] = {
    WindowKind.ORDER_DEMAND: {"county"},
    WindowKind.ORDER_PUBLISH: {"province"},
    WindowKind.ORDER_RESPONSE: {"institution"},
    WindowKind.ORDER_SELECT: {"county"},
    WindowKind.ORDER_APPLY: {"institution"},
    WindowKind.PROJECT_APPLY: {"institution"},
    WindowKind.PROJECT_REVIEW: {"province", "city", "county", "expert"},
    WindowKind.PUBLICATION: {"province", "city", "county", "institution"},
    WindowKind.SELECT_R1: {"teacher", "school"},
    WindowKind.PRINCIPAL_R1: {"school"},
    WindowKind.EXPAND_REQUEST: {"institution"},
    WindowKind.EXPAND_ACCEPT: {"province", "city", "county"},
    WindowKind.CONFIRM_R1: {"institution"},
    WindowKind.SELECT_R2: {"teacher", "school"},
    WindowKind.PRINCIPAL_R2: {"school"},
    WindowKind.CONFIRM_R2: {"institution"},
    WindowKind.TRAINING: {"institution", "teacher", "inst_reviewer"},
}


def windows_for_role(term: Term, role: str, now: datetime | None = None) -> dict:
    """What is open now and what comes next for ``role`` (all windows for roles that act in none)."""
    all_states = states(term, now)
    mine = [s for s in all_states if role in WINDOW_ROLES.get(s.window.kind, ())] or all_states
    open_now = [s for s in mine if s.is_open]
    upcoming = [s for s in mine if s.is_upcoming][:3]
    return {"open": open_now, "upcoming": upcoming, "all": all_states, "filtered": len(mine) != len(all_states)}


# The page where a role acts in a window (the home page links open windows to it; others: the term's page).
WINDOW_PAGES: dict[str, dict[str, str]] = {
    WindowKind.SELECT_R1: {"teacher": "enrollment:select", "school": "enrollment:review"},
    WindowKind.SELECT_R2: {"teacher": "enrollment:select", "school": "enrollment:review"},
    WindowKind.PRINCIPAL_R1: {"school": "enrollment:review"},
    WindowKind.PRINCIPAL_R2: {"school": "enrollment:review"},
    WindowKind.EXPAND_REQUEST: {"institution": "enrollment:class_list"},
    WindowKind.EXPAND_ACCEPT: dict.fromkeys(("province", "city", "county"), "enrollment:expansion_list"),
    WindowKind.CONFIRM_R1: {"institution": "enrollment:class_list"},
    WindowKind.CONFIRM_R2: {"institution": "enrollment:class_list"},
}


def window_page(term: Term, kind: str, role: str) -> str:
    """The URL where ``role`` acts in ``term``'s ``kind`` window (with the term chosen)."""
    from django.urls import reverse

    if kind == WindowKind.SELECT_R1 and role == "teacher" and term.selection_mode == Term.SelectionMode.FAIR:
        return f"{reverse('enrollment:allocation_mine')}?term={term.pk}"
    name = WINDOW_PAGES.get(kind, {}).get(role)
    if name is None:
        return reverse("terms:term_detail", args=[term.pk])
    return f"{reverse(name)}?term={term.pk}"


def open_elsewhere(term: Term | None, kinds, now: datetime | None = None) -> list[tuple[Term, Window]]:
    """(term, window) for every term other than ``term`` where a window of ``kinds`` is open now
    (e.g. a fair-mode or supplementary term): the home page and the step pages link to them."""
    now = now or timezone.now()
    out = []
    for other in Term.objects.prefetch_related("windows").order_by("-code"):
        if term is not None and other.pk == term.pk:
            continue
        for window in sorted(other.windows.all(), key=lambda w: (w.starts_at, w.pk)):
            if window.kind in kinds and window.starts_at <= now < window.ends_at:
                out.append((other, window))
    return out


def open_terms(kinds, now: datetime | None = None) -> list[tuple[Term, Window]]:
    """(term, window) for every term where a window of ``kinds`` is open now, one per term (its open window
    of ``kinds`` that closes last), the soonest closing first: the home panels count the work of each."""
    best: dict[int, tuple[Term, Window]] = {}
    for term, window in open_elsewhere(None, kinds, now):
        held = best.get(term.pk)
        if held is None or window.ends_at > held[1].ends_at:
            best[term.pk] = (term, window)
    return sorted(best.values(), key=lambda tw: (tw[1].ends_at, tw[0].code))


def open_in_other_terms(term: Term | None, role: str, now: datetime | None = None) -> list[tuple[Term, WindowState]]:
    """Windows of ``role`` open now in terms other than ``term``."""
    kinds = [kind for kind, roles in WINDOW_ROLES.items() if role in roles]
    return [(other, WindowState(window, True, False)) for other, window in open_elsewhere(term, kinds, now)]


# The windows a round pause applies to (SPEC §6: officers pause a selection round).
PAUSABLE = (WindowKind.SELECT_R1, WindowKind.SELECT_R2)


def active_pause(term: Term, kind: str, region=None) -> RoundPause | None:
    """The active pause of ``term``'s ``kind`` window that covers ``region`` (a teacher's county; None: any)."""
    window = get_window(term, kind) if kind in PAUSABLE else None
    return window_pause(window, region) if window is not None else None


def window_pause(window: Window, region=None) -> RoundPause | None:
    if not window.paused:  # no active pause: nothing to read
        return None
    pauses = RoundPause.objects.filter(window=window, ended_at__isnull=True).select_related("region")
    for pause in pauses.order_by("started_at", "pk"):
        if region is None or region.path.startswith(pause.region.path):
            return pause
    return None


def batch_for(window: Window, school) -> OpeningBatch | None:
    """The opening batch ``school``'s teachers belong to in ``window``: the school's own, else its county's,
    else its city's (None: they open with the window)."""
    if window is None or not window.staggered or school is None:
        return None
    batches = OpeningBatch.objects.filter(window=window).order_by("opens_at", "pk")
    return (
        batches.filter(schools=school).first()
        or batches.filter(regions=school.county_id).first()
        or batches.filter(regions=school.city_id).first()
    )


def require_batch_open(term: Term, kind: str, school, now: datetime | None = None) -> None:
    """Raise ``WindowClosed`` while the teacher's batch of a staggered round has not opened yet."""
    batch = batch_for(get_window(term, kind), school)
    now = now or timezone.now()
    if batch is not None and now < batch.opens_at:
        raise WindowClosed(
            _("%(window)s opens in batches; yours (%(batch)s) opens at %(at)s.")
            % {"window": WindowKind(kind).label, "batch": batch.name, "at": _fmt(batch.opens_at)},
            details={"window": kind, "batch": batch.name, "opens_at": batch.opens_at.isoformat()},
        )


class RoundPaused(WindowClosed):
    code = "round_paused"


def require_not_paused(term: Term, kind: str, region) -> None:
    """Raise ``RoundPaused`` (with the officers' notice) while the round is paused for ``region``."""
    pause = active_pause(term, kind, region)
    if pause is not None:
        raise RoundPaused(
            _(
                "%(window)s is paused: %(notice)s You can select again once it resumes; the window is extended by the pause."
            )
            % {"window": WindowKind(kind).label, "notice": pause.notice},
            details={"window": kind, "paused_at": pause.started_at.isoformat(), "region": pause.region.name},
        )
