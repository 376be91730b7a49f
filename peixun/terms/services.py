"""Term writes: creating a term from the preset, editing and extending windows."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from peixun.core.audit import audit_record
from peixun.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from peixun.core.scopes import Actor, require

from .models import OpeningBatch, RoundPause, Term, Window, WindowExtension, WindowKind
from .windows import PAUSABLE, preset_windows, window_pause


@transaction.atomic
def term_create_from_preset(*, actor: Actor | None, code: str, name: str, year: int, **settings) -> Term:
    """A new term whose windows copy the 2024 H1 dates onto ``year`` (the province edits them after)."""
    if actor is not None:
        require(actor, "terms.term.manage")
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise InvalidInput(_("Enter the term's code and name."), details={"field": "name"})
    if len(code) > 20 or len(name) > 40:
        raise InvalidInput(_("The code is at most 20 and the name at most 40 characters."), details={"field": "name"})
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput(_("Enter a year from 2000 to 2100."), details={"field": "year"})
    _check_settings(settings)
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
    if not reason or len(reason) > 300:
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


_RANGES = {
    "per_teacher_limit": (1, 20, gettext_lazy("A teacher may be allowed 1 to 20 classes per term.")),
    "school_share_cap": (1, 100, gettext_lazy("The school share is a percentage from 1 to 100.")),
    "min_orders_per_county": (0, 50, gettext_lazy("The minimum number of orders per county is 0 to 50.")),
    "schedule_lead_days": (0, 60, gettext_lazy("Schedules are due 0 to 60 days before a class.")),
}


def _check_settings(data: dict) -> None:
    unknown = set(data) - set(TERM_SETTINGS)
    if unknown:
        raise InvalidInput(_("Unknown setting."), details={"field": sorted(unknown)[0]})
    if "selection_mode" in data and data["selection_mode"] not in Term.SelectionMode.values:
        raise InvalidInput(_("Unknown selection mode."), details={"field": "selection_mode"})
    if "order_projects_use_quota" in data:
        data["order_projects_use_quota"] = bool(data["order_projects_use_quota"])
    for key, (low, high, message) in _RANGES.items():
        if key not in data or (key == "school_share_cap" and data[key] is None):
            continue
        value = data[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(str(message), details={"field": key})


TERM_SETTINGS = (
    "name",
    "selection_mode",
    "per_teacher_limit",
    "school_share_cap",
    "order_projects_use_quota",
    "min_orders_per_county",
    "schedule_lead_days",
)


@transaction.atomic
def term_update(*, actor: Actor, term: Term, **data) -> Term:
    """The province edits a term's settings (name, selection mode, limits, schedule lead days)."""
    require(actor, "terms.term.manage")
    _check_settings(data)
    term = Term.objects.select_for_update().get(pk=term.pk)
    if "selection_mode" in data and data["selection_mode"] != term.selection_mode:
        # Teachers selected (or ranked) under the old mode: switching after round 1 opened would strand them.
        window = Window.objects.filter(term=term, kind=WindowKind.SELECT_R1).first()
        if window is not None and timezone.now() >= window.starts_at:
            raise Conflict(
                _("Round 1 selection has already opened; its selection mode can no longer change."),
                details={"field": "selection_mode"},
            )
    before = {key: getattr(term, key) for key in data}
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise InvalidInput(_("Enter the term's code and name."), details={"field": "name"})
        if Term.objects.filter(name=data["name"]).exclude(pk=term.pk).exists():
            raise Conflict(_("A term with this code or name already exists."), details={"field": "name"})
        if len(data["name"]) > 40:
            raise InvalidInput(
                _("The code is at most 20 and the name at most 40 characters."), details={"field": "name"}
            )
    for key, value in data.items():
        setattr(term, key, value)
    term.save()
    audit_record(actor, "terms.term.update", term, summary=term.name, before=before, after=data)
    return term


NOTICE_MAX = 300


def _pause_region(actor: Actor):
    from peixun.orgs.models import Region

    if actor.role == "province":
        return actor.region or Region.objects.filter(level=Region.Level.PROVINCE).order_by("pk").first()
    return actor.region


@transaction.atomic
def round_pause(*, actor: Actor, term: Term, kind: str, notice: str, now: datetime | None = None) -> RoundPause:
    """Pause a selection round now, with a notice shown to the teachers it stops (the actor's region)."""
    require(actor, "terms.round.pause")
    if kind not in PAUSABLE:
        raise InvalidInput(_("Only a selection round can be paused."), details={"field": "kind"})
    notice = (notice or "").strip()
    if not notice or len(notice) > NOTICE_MAX:
        raise InvalidInput(
            _("Write the notice teachers will see (at most %(n)s characters).") % {"n": NOTICE_MAX},
            details={"field": "notice"},
        )
    window = Window.objects.select_for_update().filter(term=term, kind=kind).first()
    if window is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    now = now or timezone.now()
    if not window.starts_at <= now < window.ends_at:
        raise Conflict(_("A round can be paused only while its window is open."), details={"field": "kind"})
    region = _pause_region(actor)
    covering = window_pause(window, region)
    if covering is not None:
        raise Conflict(
            _("This round is already paused for %(region)s since %(at)s.")
            % {"region": covering.region.name, "at": timezone.localtime(covering.started_at).strftime("%m-%d %H:%M")}
        )
    try:
        with transaction.atomic():
            pause = RoundPause.objects.create(
                window=window, region=region, notice=notice, started_at=now, started_by=actor.user
            )
    except IntegrityError:
        raise Conflict(_("This round is already paused.")) from None
    window.paused = True
    window.save(update_fields=["paused"])
    audit_record(
        actor,
        "terms.round.pause",
        pause,
        summary=f"{term.name} · {window.get_kind_display()} · {region.name}: {notice}",
        after={"window": kind, "region": region.pk, "notice": notice},
    )
    return pause


def _lost_seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    """Seconds covered by the union of ``intervals`` (overlapping pauses lose the same time once)."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start).total_seconds()
            reach = end
    return math.ceil(total)


def _whole_minutes(seconds: int) -> int:
    return -(-seconds // 60)  # rounded up


@transaction.atomic
def round_resume(*, actor: Actor, pause: RoundPause, now: datetime | None = None) -> RoundPause:
    """End a pause; the window closes later by the selection time actually lost (a WindowExtension, audited).

    The window is the whole term's, so pauses that overlap in time (two regions paused at once) lose the
    same minutes once: the window's pauses extend it, all told, by the union of their intervals (in whole
    minutes, rounded up), and each resume adds what its pause brought to that union.
    """
    require(actor, "terms.round.pause")
    locked = RoundPause.objects.select_for_update().select_related("region").filter(pk=pause.pk).first()
    if locked is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    mine = _pause_region(actor)
    if actor.role != "province" and (mine is None or not locked.region.path.startswith(mine.path)):
        raise PermissionDenied(_("Only the bureau that paused the round (or the province) may resume it."))
    if locked.ended_at is not None:
        raise Conflict(_("This pause has already ended."))
    now = now or timezone.now()
    # The window's lock serialises resumes, so the ended pauses read below include every earlier resume.
    window = Window.objects.select_for_update().get(pk=locked.window_id)
    ended = list(
        RoundPause.objects.filter(window=window, ended_at__isnull=False)
        .exclude(pk=locked.pk)
        .values_list("started_at", "ended_at")
    )
    this = (locked.started_at, max(now, locked.started_at))
    paused = _whole_minutes(_lost_seconds([this]))
    minutes = _whole_minutes(_lost_seconds([*ended, this])) - _whole_minutes(_lost_seconds(ended))
    locked.ended_at, locked.ended_by = now, actor.user
    locked.save(update_fields=["ended_at", "ended_by"])
    window.paused = RoundPause.objects.filter(window=window, ended_at__isnull=True).exists()
    window.save(update_fields=["paused"])
    old = window.ends_at
    if minutes:
        window.ends_at = old + timedelta(minutes=minutes)
        window.save(update_fields=["ends_at"])
        if minutes == paused:
            reason = _(
                "Selection was paused for %(minutes)s minutes (%(region)s); the window is extended by as long."
            ) % {"minutes": minutes, "region": locked.region.name}
        else:
            reason = _(
                "Selection was paused for %(paused)s minutes (%(region)s), partly while another pause had already "
                "stopped it; the window is extended by the %(minutes)s minutes not yet made up."
            ) % {"paused": paused, "minutes": minutes, "region": locked.region.name}
        WindowExtension.objects.create(
            window=window, old_ends_at=old, new_ends_at=window.ends_at, reason=reason[:300], created_by=actor.user
        )
    audit_record(
        actor,
        "terms.round.resume",
        locked,
        summary=f"{window.term.name} · {window.get_kind_display()} · {locked.region.name}: +{minutes} min",
        before={"ends_at": old},
        after={"ends_at": window.ends_at, "paused_minutes": paused, "extended_minutes": minutes},
    )
    return locked


BATCH_NAME_MAX = 60


@transaction.atomic
def batch_create(
    *, actor: Actor, term: Term, kind: str, name: str, opens_at: datetime, regions=(), schools=(), now=None
) -> OpeningBatch:
    """The province staggers a selection round: these cities, counties or schools may select from ``opens_at``."""
    from peixun.orgs.models import Region

    require(actor, "terms.term.manage")
    if kind not in PAUSABLE:
        raise InvalidInput(_("Only a selection round opens in batches."), details={"field": "kind"})
    name = (name or "").strip()
    if not name or len(name) > BATCH_NAME_MAX:
        raise InvalidInput(
            _("Name the batch (at most %(n)s characters).") % {"n": BATCH_NAME_MAX}, details={"field": "name"}
        )
    regions, schools = list(regions), list(schools)
    if not regions and not schools:
        raise InvalidInput(_("Choose the cities, counties or schools of the batch."), details={"field": "regions"})
    if any(r.level not in (Region.Level.CITY, Region.Level.COUNTY) for r in regions):
        raise InvalidInput(_("A batch is made of cities, counties or schools."), details={"field": "regions"})
    window = Window.objects.select_for_update().filter(term=term, kind=kind).first()
    if window is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    now = now or timezone.now()
    if not (window.starts_at < opens_at < window.ends_at) or opens_at <= now:
        raise InvalidInput(
            _("A batch opens in the future, after its round opens (%(start)s) and before it closes.")
            % {"start": timezone.localtime(window.starts_at).strftime("%Y-%m-%d %H:%M")},
            details={"field": "opens_at"},
        )
    taken = OpeningBatch.objects.filter(window=window).filter(
        models.Q(regions__in=[r.pk for r in regions]) | models.Q(schools__in=[s.pk for s in schools])
    )
    clash = taken.first()
    if clash is not None:
        raise Conflict(
            _("Some of these are already in batch %(batch)s of this round.") % {"batch": clash.name},
            details={"field": "regions"},
        )
    batch = OpeningBatch.objects.create(window=window, name=name, opens_at=opens_at)
    batch.regions.set(regions)
    batch.schools.set(schools)
    window.staggered = True
    window.save(update_fields=["staggered"])
    audit_record(
        actor,
        "terms.batch.create",
        batch,
        summary=f"{term.name} · {window.get_kind_display()} · {name} {timezone.localtime(opens_at):%m-%d %H:%M}",
        after={
            "window": kind,
            "opens_at": opens_at,
            "regions": [r.code for r in regions],
            "schools": [s.code for s in schools],
        },
    )
    return batch


@transaction.atomic
def batch_delete(*, actor: Actor, batch: OpeningBatch) -> None:
    """Remove a batch: its teachers open with the window (or their next batch)."""
    require(actor, "terms.term.manage")
    window = Window.objects.select_for_update().get(pk=batch.window_id)
    locked = OpeningBatch.objects.filter(pk=batch.pk).first()
    if locked is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    audit_record(
        actor,
        "terms.batch.delete",
        locked,
        summary=f"{window.term.name} · {window.get_kind_display()} · {locked.name}",
        before={"opens_at": locked.opens_at},
    )
    locked.delete()
    window.staggered = OpeningBatch.objects.filter(window=window).exists()
    window.save(update_fields=["staggered"])
