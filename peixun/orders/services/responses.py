"""Responses to orders (附件2, steps 3–6): an institution responds with a draft order project built
from the order, the county compares the responses and chooses one (the others close, told the
county's remark), the chosen institution revises and formally applies, the county reviews and
publishes.

The project is an ordinary catalog project (``is_order_project``, responsible region = the
ordering county): it is created, edited, submitted, reviewed and published by the catalog
services, which hold every rule (leader, lecturers, fees, classes, qualifications, quota).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog import rules as catalog_rules
from peixun.catalog import services as catalog
from peixun.catalog.models import Project, StaffMember
from peixun.core.audit import audit_record
from peixun.core.choices import SUBJECT_CATEGORY, CreditCategory, Stage, SubjectCategory, TrainingField, TrainingFormat
from peixun.core.errors import Conflict, InvalidInput, PermissionDenied
from peixun.core.scopes import Actor, require
from peixun.core.services import notify
from peixun.orgs.models import Institution
from peixun.terms.models import WindowKind
from peixun.terms.windows import require_open

from .. import rules
from ..models import Order, OrderRecipient, OrderResponse
from .demands import _clean, _lock, _require_status, county_users, institution_users, order_link

OS = Order.Status
RS = OrderResponse.Status
MAX_REMARK = 300
MAX_NOTE = 500
# Prefilled 学时 per training day (the institution revises them).
HOURS_PER_DAY = Decimal("8")
# Fields of the draft project an institution may set when it responds (the rest come from the order).
RESPONSE_PROJECT_FIELDS = (
    "subject_category",
    "credit_category",
    "hours_offline",
    "hours_online",
    "content",
    "fee_training",
    "fee_accommodation",
    "fee_meals",
    "leader",
)

_FIELD_CATEGORY = {
    TrainingField.MENTAL_HEALTH: SubjectCategory.MORAL_PSY,
    TrainingField.MORAL_EDUCATION: SubjectCategory.MORAL_PSY,
    TrainingField.LEADERSHIP: SubjectCategory.LEADERSHIP,
    TrainingField.IT_APPLICATION: SubjectCategory.IT,
    TrainingField.SCIENCE_LAB: SubjectCategory.SCIENCE,
}


def subject_category_for(order: Order) -> str:
    """The subject category the order most likely falls in (the institution may choose another)."""
    for subject in order.subject_list:
        if subject in SUBJECT_CATEGORY:
            return SUBJECT_CATEGORY[subject]
    if order.field in _FIELD_CATEGORY:
        return _FIELD_CATEGORY[order.field]
    if order.stage_list == [Stage.KINDERGARTEN]:
        return SubjectCategory.PRESCHOOL
    return SubjectCategory.GENERAL


def project_prefill(order: Order) -> dict[str, Any]:
    """The draft project's fields as the order gives them (attachment 3 → project application)."""
    days = Decimal(order.days)
    if order.format == TrainingFormat.ONLINE:
        offline, online = Decimal("0"), days * HOURS_PER_DAY
    elif order.format == TrainingFormat.BLENDED:
        offline, online = days * 6, days * 2  # online share well under the 30% cap
    else:
        offline, online = days * HOURS_PER_DAY, Decimal("0")
    return {
        "name": order.name,
        "theme": order.theme,
        "target_stages": order.stage_list,
        "target_subjects": order.subject_list,
        "target_regions": [order.county],
        "other_conditions": order.target_trainees[:200],
        "field": order.field,
        "subject_category": subject_category_for(order),
        "level": order.level,
        "region": order.county,
        "credit_category": CreditCategory.TONGCHOU,
        "format": order.format,
        "days": order.days,
        "hours_offline": offline,
        "hours_online": online,
        "goals": order.goals,
        "content": order.course_requirements,
        "fee_training": Decimal("0"),
        "fee_accommodation": Decimal("0"),
        "fee_meals": Decimal("0"),
        "is_order_project": True,
    }


def response_link(response: OrderResponse) -> str:
    return reverse("orders:response_detail", args=[response.pk])


def _lock_response(response: OrderResponse) -> OrderResponse:
    return (
        OrderResponse.objects.select_for_update()
        .select_related("order", "order__term", "order__county", "institution", "project")
        .get(pk=response.pk)
    )


def _require_response_status(response: OrderResponse, *allowed: str, message: str | None = None) -> None:
    if response.status not in allowed:
        raise Conflict(
            message
            or _("This is not possible while the response is %(status)s.") % {"status": response.get_status_display()},
            details={"status": response.status},
        )


def _require_taker(actor: Actor, order: Order) -> None:
    """Only institutions the order was pushed to, and that may still take orders, respond."""
    institution = actor.institution
    if institution is None or not rules.may_take_orders(institution, order.term):
        raise PermissionDenied(
            _("Only institutions qualified for province-wide training for at least a year may respond to orders.")
        )
    if not OrderRecipient.objects.filter(order=order, institution=institution).exists():
        raise PermissionDenied(_("This order was not pushed to your institution."))


def _remark(remark: str, *, required: bool, field: str = "remark") -> str:
    remark = _clean(remark)
    if required and not remark:
        raise InvalidInput(_("Enter the county's remark."), details={"field": field})
    if len(remark) > MAX_REMARK:
        raise InvalidInput(
            _("The remark may be at most %(n)s characters (now %(m)s).") % {"n": MAX_REMARK, "m": len(remark)},
            details={"field": field},
        )
    return remark


# --- institution: respond ---------------------------------------------------------------------


@transaction.atomic
def response_create(
    *,
    actor: Actor,
    order: Order,
    note: str = "",
    class_starts_on: date | None = None,
    class_place: str = "",
    now: datetime | None = None,
    **project_data: Any,
) -> OrderResponse:
    """An institution responds: a draft order project prefilled from the order, plus its own choices.

    ``project_data`` may set the fields in RESPONSE_PROJECT_FIELDS; with ``class_starts_on`` and
    ``class_place`` the order's one class is added (as many days as ordered, seats for the trainees).
    """
    require(actor, "orders.response.manage")
    order = _lock(order)
    _require_taker(actor, order)
    _require_status(order, OS.PUBLISHED, message=_("This order is no longer open for responses."))
    require_open(order.term, WindowKind.ORDER_RESPONSE, now)
    unknown = set(project_data) - set(RESPONSE_PROJECT_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field."), details={"field": sorted(unknown)[0]})
    note = _clean(note)
    if len(note) > MAX_NOTE:
        raise InvalidInput(_("At most %(n)s characters.") % {"n": MAX_NOTE}, details={"field": "note"})
    if OrderResponse.objects.filter(
        order=order, institution=actor.institution, status__in=OrderResponse.ACTIVE
    ).exists():
        raise Conflict(_("Your institution has already responded to this order."))
    data = project_prefill(order)
    data.update({k: v for k, v in project_data.items() if v is not None and v != ""})
    leader = data.get("leader")
    if leader is not None and not isinstance(leader, StaffMember):
        raise InvalidInput(_("Choose the project leader."), details={"field": "leader"})
    project = catalog.project_create(actor=actor, term=order.term, **data)
    if class_starts_on is not None or _clean(class_place):
        if not isinstance(class_starts_on, date):
            raise InvalidInput(_("Enter the class dates."), details={"field": "class_starts_on"})
        try:
            ends_on = class_starts_on + timedelta(days=order.days - 1)
        except OverflowError:
            raise InvalidInput(_("Enter the class dates."), details={"field": "class_starts_on"}) from None
        catalog.class_add(
            actor=actor,
            project=project,
            starts_on=class_starts_on,
            ends_on=ends_on,
            place=class_place,
            capacity=order.trainee_count,
        )
    try:
        with transaction.atomic():
            response = OrderResponse.objects.create(
                order=order, institution=actor.institution, project=project, note=note, created_by=actor.user
            )
    except IntegrityError:  # a concurrent response by the same institution
        raise Conflict(_("Your institution has already responded to this order.")) from None
    audit_record(
        actor,
        "orders.response.create",
        response,
        summary=f"{actor.institution} → {order.name}",
        after={"order": order.pk, "project": project.pk},
    )
    return response


@transaction.atomic
def response_submit(*, actor: Actor, response: OrderResponse, now: datetime | None = None) -> OrderResponse:
    """The institution hands its draft project to the county (in the response window)."""
    require(actor, "orders.response.manage", response)
    response = _lock_response(response)
    order = response.order
    _require_response_status(response, RS.DRAFT)
    _require_status(order, OS.PUBLISHED, message=_("This order is no longer open for responses."))
    _require_taker(actor, order)
    require_open(order.term, WindowKind.ORDER_RESPONSE, now)
    if response.project.status != Project.Status.DRAFT:
        raise Conflict(_("The response's project has been withdrawn; respond again."))
    problems = catalog_rules.content_problems(response.project)
    if problems:
        first = problems[0]
        raise InvalidInput(
            _("Complete the draft project first: %(problem)s") % {"problem": first.message},
            details={**(first.details or {}), "problems": [p.message for p in problems]},
        )
    response.status = RS.SUBMITTED
    response.submitted_at = timezone.now()
    response.save(update_fields=["status", "submitted_at", "updated_at"])
    audit_record(actor, "orders.response.submit", response, summary=order.name, after={"status": response.status})
    notify(
        county_users(order.county),
        title=_("%(institution)s responded to the order %(name)s")
        % {"institution": response.institution.name, "name": order.name},
        body=_("Compare the responses and choose the institution in the selection window."),
        link=order_link(order),
        kind="orders",
    )
    return response


@transaction.atomic
def response_withdraw(*, actor: Actor, response: OrderResponse, reason: str = "") -> OrderResponse:
    """The institution withdraws its response before the county decides (its draft project is withdrawn)."""
    require(actor, "orders.response.manage", response)
    response = _lock_response(response)
    _require_response_status(
        response, RS.DRAFT, RS.SUBMITTED, message=_("Only responses the county has not decided on can be withdrawn.")
    )
    before = response.status
    response.status = RS.WITHDRAWN
    response.save(update_fields=["status", "updated_at"])
    if response.project.status in (Project.Status.DRAFT, Project.Status.RETURNED):
        catalog.project_withdraw(actor=actor, project=response.project, reason=reason or _("Order response withdrawn"))
    audit_record(
        actor,
        "orders.response.withdraw",
        response,
        summary=_clean(reason) or response.order.name,
        before={"status": before},
        after={"status": response.status},
    )
    if before == RS.SUBMITTED:
        notify(
            county_users(response.order.county),
            title=_("%(institution)s withdrew its response to %(name)s")
            % {"institution": response.institution.name, "name": response.order.name},
            link=order_link(response.order),
            kind="orders",
        )
    return response


# --- county: compare and choose ---------------------------------------------------------------


def close_responses(
    *, actor: Actor, order: Order, remark: str, keep: OrderResponse | None = None, cancelled: bool = False
) -> list[OrderResponse]:
    """Close every other active response of ``order`` (not selected, with the county's remark) and
    its draft project; tell each institution. Called inside the county's transaction (a choice, or
    the order's cancellation)."""
    others = list(
        OrderResponse.objects.select_for_update()
        .filter(order=order, status__in=(RS.DRAFT, RS.SUBMITTED))
        .exclude(pk=keep.pk if keep else None)
        .select_related("institution", "project", "project__term", "project__region")
        .order_by("pk")
    )
    stamp = timezone.now()
    for other in others:
        other.status = RS.NOT_SELECTED
        other.county_remark = remark
        other.decided_at = stamp
        other.decided_by = actor.user
        other.save(update_fields=["status", "county_remark", "decided_at", "decided_by", "updated_at"])
        if other.project.status in (Project.Status.DRAFT, Project.Status.SUBMITTED, Project.Status.RETURNED):
            catalog.order_project_close(actor=actor, project=other.project, reason=remark)
        audit_record(
            actor, "orders.response.close", other, summary=remark, after={"status": other.status, "order": order.pk}
        )
        notify(
            institution_users([other.institution]),
            title=(_("Order cancelled: %(name)s") if cancelled else _("Your response to %(name)s was not selected"))
            % {"name": order.name},
            body=_("%(county)s: %(remark)s") % {"county": order.county.name, "remark": remark},
            link=response_link(other),
            kind="orders",
        )
    return others


@transaction.atomic
def response_select(
    *, actor: Actor, response: OrderResponse, remark: str, now: datetime | None = None
) -> OrderResponse:
    """The county chooses one response in its selection window; the others close with its remark."""
    require(actor, "orders.response.select", response)
    remark = _remark(remark, required=True)
    order = Order.objects.select_for_update().select_related("term", "county").get(pk=response.order_id)
    require(actor, "orders.order.manage", order)
    response = _lock_response(response)
    _require_status(
        order,
        OS.PUBLISHED,
        message=_("An institution has already been chosen for this order.")
        if order.status == OS.SELECTED
        else _("This order is not open for a choice."),
    )
    _require_response_status(response, RS.SUBMITTED, message=_("Only responses submitted to the county can be chosen."))
    require_open(order.term, WindowKind.ORDER_SELECT, now)
    if response.project.status != Project.Status.DRAFT:
        raise Conflict(_("The response's project has been withdrawn; it cannot be chosen."))
    if not rules.may_take_orders(response.institution, order.term):
        raise Conflict(
            _("%(name)s may no longer take orders.") % {"name": response.institution.name},
        )
    stamp = timezone.now()
    response.status = RS.SELECTED
    response.county_remark = remark
    response.decided_at = stamp
    response.decided_by = actor.user
    response.save(update_fields=["status", "county_remark", "decided_at", "decided_by", "updated_at"])
    order.status = OS.SELECTED
    order.selected_at = stamp
    order.save(update_fields=["status", "selected_at", "updated_at"])
    closed = close_responses(actor=actor, order=order, remark=remark, keep=response)
    audit_record(
        actor,
        "orders.response.select",
        response,
        summary=remark,
        after={"order": order.pk, "institution": response.institution_id, "closed": [r.pk for r in closed]},
    )
    notify(
        institution_users([response.institution]),
        title=_("%(county)s chose your institution for the order %(name)s")
        % {"county": order.county.name, "name": order.name},
        body=_("Revise the project and formally apply it in the order application window. %(remark)s")
        % {"remark": remark},
        link=response_link(response),
        kind="orders",
        sms=True,
    )
    return response


# --- chosen institution: formal application -----------------------------------------------------


@transaction.atomic
def response_apply(*, actor: Actor, response: OrderResponse, now: datetime | None = None) -> OrderResponse:
    """正式申报: the chosen institution submits its revised order project (the catalog's submission,
    in the order application window; a returned project again while applications or reviews are open)."""
    require(actor, "orders.response.manage", response)
    response = _lock_response(response)
    _require_response_status(
        response, RS.SELECTED, message=_("Only the institution the county chose formally applies the order project.")
    )
    project = catalog.project_submit(actor=actor, project=response.project, now=now)
    audit_record(actor, "orders.response.apply", response, summary=project.name, after={"project": project.status})
    notify(
        county_users(response.order.county),
        title=_("%(institution)s formally applied the order project %(name)s")
        % {"institution": response.institution.name, "name": project.name},
        body=_("Review it, then publish it in the publication window."),
        link=order_link(response.order),
        kind="orders",
    )
    return response


# --- county: review and publish the order project ---------------------------------------------


def chosen_response(order: Order) -> OrderResponse:
    response = (
        OrderResponse.objects.filter(order=order, status=RS.SELECTED)
        .select_related("project", "project__term", "project__region", "project__institution", "institution")
        .first()
    )
    if response is None:
        raise Conflict(_("No institution has been chosen for this order yet."))
    return response


REVIEW_ACTIONS = ("approve", "return")


@transaction.atomic
def order_project_review(
    *, actor: Actor, order: Order, action: str, reason: str = "", now: datetime | None = None
) -> Project:
    """The county approves the formally applied order project, or returns it with reasons."""
    require(actor, "orders.response.select", order)
    if action not in REVIEW_ACTIONS:
        raise InvalidInput(_("Unknown action."), details={"field": "action"})
    project = chosen_response(order).project
    if action == "approve":
        return catalog.project_approve(actor=actor, project=project, note=reason, now=now)
    return catalog.project_return(actor=actor, project=project, reason=reason, now=now)


@transaction.atomic
def order_project_publish(*, actor: Actor, order: Order, now: datetime | None = None) -> Project:
    """The county publishes the approved order project: it joins the catalog and both selection rounds."""
    require(actor, "orders.response.select", order)
    project = catalog.project_publish(actor=actor, project=chosen_response(order).project, now=now)
    audit_record(actor, "orders.order.project_publish", order, summary=project.name, after={"project": project.pk})
    return project


@transaction.atomic
def order_reopen(*, actor: Actor, order: Order, reason: str) -> Order:
    """The chosen institution withdrew its order project: the county reopens the order for responses.

    The chosen response closes (withdrawn); the institutions the order was pushed to are told, and may
    respond again while the response window is open.
    """
    require(actor, "orders.order.manage", order)
    reason = _remark(reason, required=True, field="reason")
    order = Order.objects.select_for_update().select_related("term", "county").get(pk=order.pk)
    _require_status(order, OS.SELECTED, message=_("Only an order whose institution has been chosen can be reopened."))
    response = _lock_response(chosen_response(order))
    if response.project.status not in (Project.Status.WITHDRAWN, Project.Status.DELETED):
        raise Conflict(_("An order is reopened only when the chosen institution has withdrawn its project."))
    response.status = RS.WITHDRAWN
    response.save(update_fields=["status", "updated_at"])
    order.status = OS.PUBLISHED
    order.selected_at = None
    order.save(update_fields=["status", "selected_at", "updated_at"])
    audit_record(
        actor,
        "orders.order.reopen",
        order,
        summary=reason,
        before={"status": OS.SELECTED, "response": response.pk},
        after={"status": order.status},
    )
    notify(
        institution_users(Institution.objects.filter(order_pushes__order=order)),
        title=_("Order open for responses again: %(name)s") % {"name": order.name},
        body=reason,
        link=order_link(order),
        kind="orders",
    )
    return order
