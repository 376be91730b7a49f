"""Order pages: the county's orders, the institution's pushed orders, the province's board."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.catalog import rules as catalog_rules
from peixun.catalog import selectors as catalog_selectors
from peixun.core.choices import TrainingLevel
from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import can, require
from peixun.terms.models import WindowKind
from peixun.terms.windows import states

from . import rules, selectors, services
from .forms import OrderForm, ReasonForm, RemarkForm, ResponseForm
from .models import Order, OrderResponse

ORDER_WINDOWS = (
    WindowKind.ORDER_DEMAND,
    WindowKind.ORDER_PUBLISH,
    WindowKind.ORDER_RESPONSE,
    WindowKind.ORDER_SELECT,
    WindowKind.ORDER_APPLY,
    WindowKind.PUBLICATION,
)


def _order_windows(term):
    return [s for s in states(term) if s.window.kind in ORDER_WINDOWS] if term else []


def _filters(request) -> dict:
    get = request.GET
    return {
        "county_id": get.get("county") or None,
        "stage": get.get("stage", ""),
        "level": get.get("level", ""),
        "query": get.get("q", ""),
    }


def _form_data(form: OrderForm) -> tuple[dict, list]:
    data = dict(form.cleaned_data)
    intended = list(data.pop("intended_institutions", []))
    return data, intended


@actor_required
def order_list(request):
    """County: its orders; institution: orders pushed to it; province, city, monitor: the order board."""
    actor = request.actor
    require(actor, "orders.order.view")
    term = selectors.term_for(request.GET.get("term"))
    qs = selectors.order_list(actor=actor, term=term, **_filters(request))
    if request.GET.get("export") and can(actor, "orders.board.view"):
        params = {**request.GET.dict(), "term": term.pk if term else ""}
        return export_or_job(request, "orders.board", params)
    board = can(actor, "orders.board.view")
    context = {
        "term": term,
        "terms": selectors.terms(),
        "state": paginate(request, qs),
        "windows": _order_windows(term),
        "stages": rules.Stage.choices(),
        "levels": TrainingLevel.choices,
        "is_board": board,
        "is_county": actor.role == Role.COUNTY,
        "is_institution": actor.role == Role.INSTITUTION,
        "can_manage": can(actor, "orders.order.manage"),
        "response_statuses": OrderResponse.Status.choices,
    }
    if board:
        context["counties"] = selectors.counties(actor=actor)
        everything = rules.with_progress(selectors.order_list(actor=actor, term=term)).values_list(
            "status", "chosen_project_status", "response_count"
        )
        counts = Counter(rules.Stage.of(status, project, n) for status, project, n in everything)
        context["stage_counts"] = [(key, label, counts.get(key, 0)) for key, label in rules.Stage.choices()]
    if actor.role == Role.COUNTY:
        mine = selectors.coverage(actor=actor, term=term)
        context["my_coverage"] = mine[0] if mine else None
    return render(request, "orders/order_list.html", context)


@actor_required
def order_create(request):
    actor = request.actor
    require(actor, "orders.order.manage")
    term = selectors.term_for(request.GET.get("term") or request.POST.get("term"))
    if term is None:
        messages.error(request, _("No term has been set up yet."))
        return redirect("orders:order_list")
    takers = selectors.order_takers(term=term)
    form = OrderForm(request.POST or None, takers=takers)
    if request.method == "POST" and form.is_valid():
        data, intended = _form_data(form)
        try:
            order = services.order_create(
                actor=actor, term=term, intended_institutions=intended, post=bool(request.POST.get("post")), **data
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("Order %(name)s has been posted.") % {"name": order.name}
                if order.status == Order.Status.POSTED
                else _("Order %(name)s has been saved as a draft.") % {"name": order.name},
            )
            return redirect("orders:order_detail", pk=order.pk)
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "term": term, "title": _("New order"), "windows": _order_windows(term), "creating": True},
    )


@actor_required
def order_edit(request, pk):
    actor = request.actor
    order = selectors.order_get(actor=actor, order_id=pk)
    require(actor, "orders.order.manage", order)
    initial = {f: getattr(order, f) for f in services.ORDER_FIELDS}
    initial["target_stages"] = order.stage_list
    initial["target_subjects"] = order.subject_list
    initial["intended_institutions"] = list(order.intended_institutions.values_list("pk", flat=True))
    form = OrderForm(request.POST or None, initial=initial, takers=selectors.order_takers(term=order.term))
    if request.method == "POST" and form.is_valid():
        data, intended = _form_data(form)
        try:
            services.order_update(actor=actor, order=order, intended_institutions=intended, **data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orders:order_detail", pk=order.pk)
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "term": order.term, "order": order, "title": order.name, "windows": _order_windows(order.term)},
    )


@actor_required
def order_detail(request, pk):
    actor = request.actor
    order = selectors.order_get(actor=actor, order_id=pk)
    is_owner = can(actor, "orders.order.manage", order)
    context = {
        "order": order,
        "stage": order.stage,
        "intended": list(order.intended_institutions.order_by("code")),
        "windows": _order_windows(order.term),
        "is_owner": is_owner,
        "is_institution": actor.role == Role.INSTITUTION,
        "cancel_form": ReasonForm(prefix="cancel") if is_owner else None,
        "reopen_form": ReasonForm(prefix="reopen") if is_owner else None,
    }
    if actor.role != Role.INSTITUTION:
        context["recipients"] = list(order.recipients.select_related("institution").order_by("institution__code"))
    responses = selectors.response_list(actor=actor, order=order)
    context["responses"] = responses
    if actor.role == Role.INSTITUTION:
        context["my_response"] = next(
            (r for r in responses if r.status in OrderResponse.ACTIVE), responses[0] if responses else None
        )
        context["may_respond"] = order.status == Order.Status.PUBLISHED and not any(
            r.status in OrderResponse.ACTIVE for r in responses
        )
    else:
        for r in responses:  # the catalog's application rules, for the side-by-side comparison
            r.problems = catalog_rules.checklist(r.project)
    context["can_select"] = can(actor, "orders.response.select", order)
    if context["can_select"]:
        context["remark_form"] = RemarkForm()
        context["review_form"] = ReasonForm(prefix="review")
    context["chosen"] = next((r for r in responses if r.status == OrderResponse.Status.SELECTED), None)
    return render(request, "orders/order_detail.html", context)


@actor_required
def response_create(request, pk):
    """The institution responds: a draft order project prefilled from the order."""
    actor = request.actor
    order = selectors.order_get(actor=actor, order_id=pk)
    require(actor, "orders.response.manage")
    prefill = services.project_prefill(order)
    initial = {
        k: prefill[k] for k in ("subject_category", "credit_category", "hours_offline", "hours_online", "content")
    }
    initial.update(fee_training=0, fee_accommodation=0, fee_meals=0)
    form = ResponseForm(request.POST or None, initial=initial, staff=catalog_selectors.staff_list(actor=actor))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        extra = {k: data.pop(k) for k in ("note", "class_starts_on", "class_place")}
        try:
            response = services.response_create(actor=actor, order=order, **extra, **data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("Your draft project has been created. Complete it (classes, lecturers) and submit it to the county."),
            )
            return redirect("orders:response_detail", pk=response.pk)
    return render(
        request,
        "orders/response_form.html",
        {"form": form, "order": order, "prefill": prefill, "windows": _order_windows(order.term)},
    )


@actor_required
def response_detail(request, pk):
    actor = request.actor
    response = selectors.response_get(actor=actor, response_id=pk)
    project = response.project
    mine = actor.role == Role.INSTITUTION
    return render(
        request,
        "orders/response_detail.html",
        {
            "response": response,
            "order": response.order,
            "project": project,
            "problems": catalog_rules.checklist(project),
            "windows": _order_windows(response.order.term),
            "mine": mine,
            "editable": mine and project.status in catalog_rules.EDITABLE_STATUSES,
            "can_select": can(actor, "orders.response.select", response),
            "remark_form": RemarkForm(),
        },
    )


@actor_required
def my_responses(request):
    actor = request.actor
    require(actor, "orders.response.manage")
    term = selectors.term_for(request.GET.get("term"))
    qs = selectors.my_responses(actor=actor, term=term, status=request.GET.get("status", ""))
    return render(
        request,
        "orders/my_responses.html",
        {
            "term": term,
            "terms": selectors.terms(),
            "state": paginate(request, qs),
            "statuses": OrderResponse.Status.choices,
            "windows": _order_windows(term),
        },
    )


@require_POST
@actor_required
def response_action(request, pk, action):
    """Institution: submit, withdraw, formally apply; county: choose (with a remark)."""
    actor = request.actor
    response = selectors.response_get(actor=actor, response_id=pk)
    target = redirect("orders:response_detail", pk=pk)
    try:
        if action == "submit":
            services.response_submit(actor=actor, response=response)
            messages.success(request, _("Your response has been submitted to the county."))
        elif action == "withdraw":
            services.response_withdraw(actor=actor, response=response, reason=request.POST.get("reason", ""))
            messages.success(request, _("Your response has been withdrawn."))
        elif action == "apply":
            services.response_apply(actor=actor, response=response)
            messages.success(request, _("The order project has been formally applied; the county reviews it."))
        elif action == "select":
            services.response_select(actor=actor, response=response, remark=request.POST.get("remark", ""))
            messages.success(
                request,
                _("%(institution)s has been chosen; the other responses are closed.")
                % {"institution": response.institution.name},
            )
            target = redirect("orders:order_detail", pk=response.order_id)
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
        if action == "select":
            target = redirect("orders:order_detail", pk=response.order_id)
    return target


@require_POST
@actor_required
def order_project_action(request, pk, action):
    """The county reviews (approve / return) and publishes the chosen order project."""
    actor = request.actor
    order = selectors.order_get(actor=actor, order_id=pk)
    try:
        if action in services.REVIEW_ACTIONS:
            services.order_project_review(
                actor=actor, order=order, action=action, reason=request.POST.get("review-reason", "")
            )
            messages.success(
                request,
                _("The order project has been approved.")
                if action == "approve"
                else _("The order project has been returned for revision."),
            )
        elif action == "publish":
            services.order_project_publish(actor=actor, order=order)
            messages.success(request, _("The order project has been published; it is in the catalog for selection."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", pk=pk)


@require_POST
@actor_required
def order_action(request, pk, action):
    """The county's buttons on an order: post, take back to draft, cancel."""
    actor = request.actor
    order = selectors.order_get(actor=actor, order_id=pk)
    try:
        if action == "post":
            services.order_post(actor=actor, order=order)
            messages.success(request, _("The order has been posted; the province publishes the order list."))
        elif action == "unpost":
            services.order_unpost(actor=actor, order=order)
            messages.success(request, _("The order is a draft again."))
        elif action == "cancel":
            services.order_cancel(actor=actor, order=order, reason=request.POST.get("cancel-reason", ""))
            messages.success(request, _("The order has been cancelled."))
        elif action == "reopen":
            services.order_reopen(actor=actor, order=order, reason=request.POST.get("reopen-reason", ""))
            messages.success(request, _("The order is open for responses again; the institutions have been told."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", pk=pk)


@actor_required
def coverage(request):
    """Orders posted per county against the minimum; the province publishes the order list here."""
    actor = request.actor
    require(actor, "orders.board.view")
    term = selectors.term_for(request.GET.get("term"))
    rows = selectors.coverage(actor=actor, term=term)
    return render(
        request,
        "orders/coverage.html",
        {
            "term": term,
            "terms": selectors.terms(),
            "rows": rows,
            "below": sum(1 for r in rows if r["below"]),
            "posted_waiting": Order.objects.filter(term=term, status=Order.Status.POSTED).count() if term else 0,
            "windows": _order_windows(term),
            "can_publish": can(actor, "orders.list.publish"),
        },
    )


@require_POST
@actor_required
def coverage_action(request, action):
    actor = request.actor
    term = selectors.term_for(request.POST.get("term"))
    target = "orders:coverage"
    try:
        if term is None:
            messages.error(request, _("No term has been set up yet."))
        elif action == "publish":
            published = services.order_list_publish(actor=actor, term=term)
            messages.success(
                request,
                _("The order list has been published: %(n)s orders pushed to institutions.") % {"n": len(published)},
            )
        elif action == "remind":
            n = services.counties_remind(actor=actor, term=term)
            messages.success(request, _("%(n)s counties below the minimum have been reminded.") % {"n": n})
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    response = redirect(target)
    if term is not None:
        response["Location"] += f"?term={term.pk}"
    return response
