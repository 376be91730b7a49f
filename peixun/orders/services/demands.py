"""Order writes (附件2 of the notice): counties post order demands, the province publishes the
order list (pushing each order to its recipients), institutions respond with draft order
projects, the county selects one, the chosen institution formally applies, the county
reviews and publishes.

Project creation, validation, submission, review and publication are the catalog's
services; this module calls them and never repeats their rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from peixun.accounts.models import User
from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import Stage, Subject, TrainingField, TrainingFormat, TrainingLevel, join_codes
from peixun.core.errors import Conflict, InvalidInput, PermissionDenied
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.core.services import notify
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import get_window, require_open

from .. import rules
from ..models import MAX_INTENDED, Order, OrderRecipient

OS = Order.Status

ORDER_FIELDS = (
    "contact_person",
    "contact_phone",
    "name",
    "theme",
    "target_trainees",
    "target_stages",
    "target_subjects",
    "field",
    "trainee_count",
    "days",
    "level",
    "format",
    "goals",
    "course_requirements",
)
_TEXT_REQUIRED = {
    "contact_person": gettext_lazy("Enter the contact person."),
    "name": gettext_lazy("Enter the project name."),
    "theme": gettext_lazy("Enter the training theme."),
    "target_trainees": gettext_lazy("Describe the target trainees."),
    "goals": gettext_lazy("Enter the training goals."),
    "course_requirements": gettext_lazy("Enter the course requirements."),
}
MAX_TRAINEES = 2000  # one order is one class
MAX_DAYS = 60
# 培训层次 an order may ask for: school-level training is school-based training, not an order.
ORDER_LEVELS = (TrainingLevel.NATIONAL, TrainingLevel.PROVINCIAL, TrainingLevel.CITY, TrainingLevel.COUNTY)


def _clean(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()


def _codes(values: Iterable[str] | str | None, choices, field: str, *, required: bool) -> str:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v]
    values = [v for v in (values or []) if v]
    if any(v not in choices.values for v in values):
        raise InvalidInput(_("Choose valid options."), details={"field": field})
    if required and not values:
        raise InvalidInput(_("Choose at least one."), details={"field": field})
    return join_codes(values)


def _int(value: Any, field: str, low: int, high: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(message, details={"field": field}) from None
    if not low <= number <= high:
        raise InvalidInput(message, details={"field": field})
    return number


def _apply(order: Order, data: dict[str, Any]) -> None:
    """Validate every field of the order form (attachment 3) and set it on ``order``."""
    unknown = set(data) - set(ORDER_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), details={"field": sorted(unknown)[0]})
    missing = [f for f in ORDER_FIELDS if f not in data]
    if missing:
        raise InvalidInput(_("This field is required."), details={"field": missing[0]})
    for field, message in _TEXT_REQUIRED.items():
        value = _clean(data[field])
        if not value:
            raise InvalidInput(str(message), details={"field": field})
        limit = Order._meta.get_field(field).max_length
        if len(value) > limit:
            raise InvalidInput(
                _("%(field)s may be at most %(limit)s characters (now %(n)s).")
                % {"field": Order._meta.get_field(field).verbose_name, "limit": limit, "n": len(value)},
                details={"field": field},
            )
        setattr(order, field, value)
    phone = _clean(data["contact_phone"]).replace(" ", "")
    if not (phone.replace("-", "").isdigit() and 7 <= len(phone) <= 20):
        raise InvalidInput(_("Enter a valid mobile phone number."), details={"field": "contact_phone"})
    order.contact_phone = phone
    order.target_stages = _codes(data["target_stages"], Stage, "target_stages", required=True)
    order.target_subjects = _codes(data["target_subjects"], Subject, "target_subjects", required=False)
    for field, choices in (("field", TrainingField), ("format", TrainingFormat)):
        if data[field] not in choices.values:
            raise InvalidInput(_("Choose a valid option."), details={"field": field})
        setattr(order, field, data[field])
    if data["level"] not in ORDER_LEVELS:
        raise InvalidInput(
            _("Choose the training level (national, provincial, city or county)."), details={"field": "level"}
        )
    order.level = data["level"]
    order.trainee_count = _int(
        data["trainee_count"],
        "trainee_count",
        1,
        MAX_TRAINEES,
        _("The number of trainees is a whole number from 1 to %(n)s (one order is one class).") % {"n": MAX_TRAINEES},
    )
    order.days = _int(
        data["days"], "days", 1, MAX_DAYS, _("The training days are a whole number from 1 to %(n)s.") % {"n": MAX_DAYS}
    )


def _intended(term: Term, institutions: Iterable[Institution] | None) -> list[Institution]:
    chosen = list(dict.fromkeys(institutions or []))
    if len(chosen) > MAX_INTENDED:
        raise InvalidInput(
            _("Name at most %(n)s intended institutions.") % {"n": MAX_INTENDED},
            details={"field": "intended_institutions"},
        )
    refused = [i.name for i in chosen if not rules.may_take_orders(i, term)]
    if refused:
        raise InvalidInput(
            _(
                "%(names)s may not take orders: only institutions qualified for province-wide training "
                "for at least a year may."
            )
            % {"names": "、".join(refused)},
            details={"field": "intended_institutions"},
        )
    return chosen


def _county_of(actor: Actor) -> Region:
    if actor.region is None or actor.region.level != Region.Level.COUNTY:
        raise PermissionDenied(_("Only a county bureau posts orders."))
    return actor.region


def _new_code(term: Term, county: Region) -> str:
    n = Order.objects.filter(term=term, county=county).count() + 1
    while Order.objects.filter(code=f"{term.code}-{county.code}-{n:02d}").exists():
        n += 1
    return f"{term.code}-{county.code}-{n:02d}"


def _require_demand_not_closed(term: Term, now: datetime | None) -> None:
    """Drafts may be prepared before the demand window opens, never after it closed."""
    window = get_window(term, WindowKind.ORDER_DEMAND)
    if window is None or (now or timezone.now()) >= window.ends_at:
        require_open(term, WindowKind.ORDER_DEMAND, now)  # raises with the window's dates


def _lock(order: Order) -> Order:
    locked = Order.objects.select_for_update().select_related("term", "county").get(pk=order.pk)
    if "term" in order._state.fields_cache:  # keep the caller's term (and its window cache)
        locked.term = order.term
    return locked


def _require_status(order: Order, *allowed: str, message: str | None = None) -> None:
    if order.status not in allowed:
        raise Conflict(
            message
            or _("This is not possible while the order is %(status)s.") % {"status": order.get_status_display()},
            details={"status": order.status},
        )


def _snapshot(order: Order) -> dict:
    data = snapshot(order)
    data["intended_institutions"] = sorted(order.intended_institutions.values_list("pk", flat=True))
    return data


def order_link(order: Order) -> str:
    return reverse("orders:order_detail", args=[order.pk])


def institution_users(institutions: Iterable[Institution]):
    return User.objects.filter(
        is_active=True,
        grants__institution__in=list(institutions),
        grants__role=Role.INSTITUTION,
        grants__is_active=True,
    ).distinct()


def county_users(county: Region):
    return User.objects.filter(
        is_active=True, grants__region=county, grants__role=Role.COUNTY, grants__is_active=True
    ).distinct()


# --- county: order demands ------------------------------------------------------------------


@transaction.atomic
def order_create(
    *,
    actor: Actor,
    term: Term,
    intended_institutions: Iterable[Institution] | None = None,
    post: bool = False,
    now: datetime | None = None,
    **data: Any,
) -> Order:
    """A county fills in the order form (a draft, or posted at once with ``post``)."""
    require(actor, "orders.order.manage")
    county = _county_of(actor)
    _require_demand_not_closed(term, now)
    order = Order(term=term, county=county, created_by=actor.user, code=_new_code(term, county))
    _apply(order, data)
    intended = _intended(term, intended_institutions)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # a concurrent order took the code
        order.code = _new_code(term, county)
        order.save()
    order.intended_institutions.set(intended)
    audit_record(actor, "orders.order.create", order, summary=order.name, after=_snapshot(order))
    if post:
        order = order_post(actor=actor, order=order, now=now)
    return order


@transaction.atomic
def order_update(
    *,
    actor: Actor,
    order: Order,
    intended_institutions: Iterable[Institution] | None = None,
    now: datetime | None = None,
    **data: Any,
) -> Order:
    """Edit a draft, or a posted order while the demand window is open (before the list is published)."""
    require(actor, "orders.order.manage", order)
    order = _lock(order)
    _require_status(
        order, OS.DRAFT, OS.POSTED, message=_("Only orders not yet on the published order list can be edited.")
    )
    if order.status == OS.POSTED:
        require_open(order.term, WindowKind.ORDER_DEMAND, now)
    else:
        _require_demand_not_closed(order.term, now)
    before = _snapshot(order)
    _apply(order, data)
    intended = _intended(order.term, intended_institutions)
    order.save()
    order.intended_institutions.set(intended)
    audit_record(actor, "orders.order.update", order, summary=order.name, before=before, after=_snapshot(order))
    return order


@transaction.atomic
def order_post(*, actor: Actor, order: Order, now: datetime | None = None) -> Order:
    """报送: the county submits the order for the province's order list (in the demand window)."""
    require(actor, "orders.order.manage", order)
    order = _lock(order)
    _require_status(order, OS.DRAFT)
    require_open(order.term, WindowKind.ORDER_DEMAND, now)
    _intended(order.term, order.intended_institutions.all())  # still qualified?
    order.status = OS.POSTED
    order.posted_at = timezone.now()
    order.save(update_fields=["status", "posted_at", "updated_at"])
    audit_record(actor, "orders.order.post", order, summary=order.name, after={"status": order.status})
    return order


@transaction.atomic
def order_unpost(*, actor: Actor, order: Order, now: datetime | None = None) -> Order:
    """Take a posted order back to draft while the demand window is still open."""
    require(actor, "orders.order.manage", order)
    order = _lock(order)
    _require_status(order, OS.POSTED)
    require_open(order.term, WindowKind.ORDER_DEMAND, now)
    order.status = OS.DRAFT
    order.posted_at = None
    order.save(update_fields=["status", "posted_at", "updated_at"])
    audit_record(actor, "orders.order.unpost", order, summary=order.name, after={"status": order.status})
    return order


# --- province: the order list -----------------------------------------------------------------


@transaction.atomic
def order_list_publish(*, actor: Actor, term: Term, now: datetime | None = None) -> list[Order]:
    """公布订单清单: every posted order of the term goes on the list and is pushed to its recipients.

    An order naming intended institutions goes only to them; one naming none goes to every
    institution that may take orders. Returns the orders published now (publishing again
    publishes only orders posted since).
    """
    require(actor, "orders.list.publish")
    require_open(term, WindowKind.ORDER_PUBLISH, now)
    orders = list(
        Order.objects.select_for_update()
        .filter(term=term, status=OS.POSTED)
        .select_related("county")
        .prefetch_related("intended_institutions")
        .order_by("county__code", "code")
    )
    if not orders:
        raise Conflict(_("No posted orders are waiting to be published."))
    takers = rules.order_takers(term)
    stamp = timezone.now()
    recipients: list[OrderRecipient] = []
    pushed: dict[int, list[Order]] = {}
    named: dict[int, list[Order]] = {}
    institutions: dict[int, Institution] = {i.pk: i for i in takers}
    for order in orders:
        intended = [i for i in order.intended_institutions.all() if rules.may_take_orders(i, term)]
        targets = intended or takers
        for institution in targets:
            institutions[institution.pk] = institution
            recipients.append(OrderRecipient(order=order, institution=institution, intended=bool(intended)))
            (named if intended else pushed).setdefault(institution.pk, []).append(order)
        order.status = OS.PUBLISHED
        order.published_at = stamp
    OrderRecipient.objects.bulk_create(recipients, ignore_conflicts=True)
    Order.objects.bulk_update(orders, ["status", "published_at"])
    link = reverse("orders:order_list")
    for pk, institution in institutions.items():
        users = list(institution_users([institution]))
        for order in named.get(pk, []):
            notify(
                users,
                title=_("%(county)s named you for the order %(name)s")
                % {"county": order.county.name, "name": order.name},
                body=_("Respond with a draft project in the response window."),
                link=order_link(order),
                kind="orders",
                sms=True,
            )
        if pk in pushed:
            notify(
                users,
                title=_("%(n)s new county orders are open for responses") % {"n": len(pushed[pk])},
                body="、".join(o.name for o in pushed[pk][:10]),
                link=link,
                kind="orders",
            )
    notify(
        User.objects.filter(
            is_active=True,
            grants__region__in={o.county_id for o in orders},
            grants__role=Role.COUNTY,
            grants__is_active=True,
        ).distinct(),
        title=_("The order list of %(term)s has been published") % {"term": term.name},
        link=link,
        kind="orders",
    )
    audit_record(
        actor,
        "orders.list.publish",
        term,
        summary=_("%(n)s orders published") % {"n": len(orders)},
        after={"orders": [o.pk for o in orders], "recipients": len(recipients)},
    )
    return orders


@transaction.atomic
def counties_remind(*, actor: Actor, term: Term) -> int:
    """Remind every county below the minimum number of orders (returns how many were reminded)."""
    require(actor, "orders.list.publish")
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    below = [row for row in rules.coverage(term, counties) if row["below"]]
    window = get_window(term, WindowKind.ORDER_DEMAND)
    for row in below:
        notify(
            county_users(row["county"]),
            title=_("Post at least %(n)s orders for %(term)s") % {"n": row["minimum"], "term": term.name},
            body=_("%(county)s has posted %(posted)s; the demand window closes %(end)s.")
            % {
                "county": row["county"].name,
                "posted": row["posted"],
                "end": timezone.localtime(window.ends_at).strftime("%Y-%m-%d %H:%M") if window else "—",
            },
            link=reverse("orders:order_list"),
            kind="orders",
        )
    audit_record(
        actor,
        "orders.counties.remind",
        term,
        summary=_("%(n)s counties reminded") % {"n": len(below)},
        after={"counties": [row["county"].pk for row in below]},
    )
    return len(below)


@transaction.atomic
def order_cancel(*, actor: Actor, order: Order, reason: str, now: datetime | None = None) -> Order:
    """The county cancels an order before choosing an institution (responders are told)."""
    require(actor, "orders.order.manage", order)
    reason = _clean(reason)
    if not reason:
        raise InvalidInput(_("Give the reason for cancelling the order."), details={"field": "reason"})
    order = _lock(order)
    _require_status(
        order,
        OS.DRAFT,
        OS.POSTED,
        OS.PUBLISHED,
        message=_("An order whose institution has been chosen cannot be cancelled."),
    )
    before = order.status
    order.status = OS.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason[:300]
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    audit_record(
        actor, "orders.order.cancel", order, summary=reason, before={"status": before}, after={"status": order.status}
    )
    if before == OS.PUBLISHED:
        from .responses import close_responses

        responders = close_responses(actor=actor, order=order, remark=order.cancel_reason, cancelled=True)
        notify(
            institution_users(
                Institution.objects.filter(order_pushes__order=order).exclude(
                    pk__in=[r.institution_id for r in responders]
                )
            ),
            title=_("Order cancelled: %(name)s") % {"name": order.name},
            body=reason,
            link=order_link(order),
            kind="orders",
        )
    return order
