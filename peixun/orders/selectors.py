"""Order reads, scoped to the actor: a county its orders, an institution the orders pushed to it,
the province (and cities, monitors) every county's orders."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from peixun.catalog.models import ProjectClass, ProjectLecturer
from peixun.core.errors import NotFound
from peixun.core.roles import Role
from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term
from peixun.terms.windows import current_term

from . import rules
from .models import Order, OrderResponse


def terms() -> QuerySet[Term]:
    """Terms are the same for everyone."""
    return Term.objects.prefetch_related("windows").order_by("-code")


def term_for(term_id: int | str | None) -> Term | None:
    """The chosen term, else the current one."""
    if term_id:
        try:
            return terms().get(pk=int(term_id))
        except (Term.DoesNotExist, ValueError, TypeError):
            raise NotFound(_("The term does not exist.")) from None
    return current_term()


def _institution_may_see(actor: Actor) -> bool:
    institution = actor.institution
    return (
        institution is not None and institution.is_active and institution.may_take_orders and institution.province_wide
    )


def _scoped(actor: Actor) -> QuerySet[Order]:
    require(actor, "orders.order.view")
    qs = visible(actor, Order.objects.all())
    if actor.role == Role.INSTITUTION and not _institution_may_see(actor):
        return qs.none()  # institutions that may not take orders never see them
    return qs


def order_list(
    *,
    actor: Actor,
    term: Term | None,
    county_id: int | str | None = None,
    stage: str = "",
    level: str = "",
    query: str = "",
) -> QuerySet[Order]:
    qs = _scoped(actor)
    if term is None:
        return qs.none()
    qs = qs.filter(term=term)
    if actor.role == Role.INSTITUTION:
        qs = qs.filter(status__in=Order.OPEN_TO_INSTITUTIONS + (Order.Status.CANCELLED,))
    if county_id:
        qs = qs.filter(county_id=county_id)
    if stage:
        condition = rules.Stage.q(stage)
        qs = qs.filter(condition) if condition is not None else qs.none()
    if level:
        qs = qs.filter(level=level)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(theme__icontains=query) | Q(code__icontains=query))
    qs = rules.with_progress(qs).select_related("county", "county__parent", "term")
    qs = qs.prefetch_related(Prefetch("intended_institutions", queryset=Institution.objects.order_by("code")))
    if actor.role == Role.INSTITUTION:
        mine = OrderResponse.objects.filter(order=OuterRef("pk"), institution=actor.institution).order_by("-pk")
        qs = qs.annotate(
            my_response_id=Subquery(mine.values("pk")[:1]), my_response_status=Subquery(mine.values("status")[:1])
        )
    return qs.order_by("county__code", "code")


def order_get(*, actor: Actor, order_id: int) -> Order:
    order = get_visible(
        actor,
        rules.with_progress(_scoped(actor)).select_related("county", "county__parent", "term", "created_by"),
        pk=order_id,
    )
    if actor.role == Role.INSTITUTION and order.status not in (*Order.OPEN_TO_INSTITUTIONS, Order.Status.CANCELLED):
        raise NotFound(_("The object does not exist or is outside your scope."))
    return order


def coverage(*, actor: Actor, term: Term | None) -> list[dict]:
    """Posted orders per county against the term's minimum (the counties the actor sees)."""
    require(actor, "orders.order.view")
    if term is None:
        return []
    counties = visible(actor, Region.objects.filter(level=Region.Level.COUNTY))
    return rules.coverage(term, counties)


def counties(*, actor: Actor) -> QuerySet[Region]:
    return visible(actor, Region.objects.filter(level=Region.Level.COUNTY)).select_related("parent").order_by("code")


def order_takers(*, term: Term) -> list[Institution]:
    """Institutions a county may name as intended institutions."""
    return rules.order_takers(term)


# --- responses ------------------------------------------------------------------------------------

RS = OrderResponse.Status


def _responses(actor: Actor) -> QuerySet[OrderResponse]:
    """Responses the actor may see: an institution its own; the ordering county (and the province,
    cities, monitors) those handed to the county — a draft is the institution's until submitted."""
    require(actor, "orders.order.view")
    qs = visible(actor, OrderResponse.objects.all())
    if actor.role == Role.INSTITUTION:
        return qs if _institution_may_see(actor) else qs.none()
    return qs.exclude(submitted_at__isnull=True).exclude(status=RS.DRAFT)


def _with_project(qs: QuerySet[OrderResponse]) -> QuerySet[OrderResponse]:
    return qs.select_related(
        "order",
        "order__county",
        "order__term",
        "institution",
        "project",
        "project__leader",
        "project__region",
        "project__term",
        "project__institution",
        "decided_by",
    ).prefetch_related(
        Prefetch("project__classes", queryset=ProjectClass.objects.order_by("number")),
        Prefetch(
            "project__projectlecturer_set",
            queryset=ProjectLecturer.objects.select_related("lecturer").order_by("pk"),
        ),
    )


def response_list(*, actor: Actor, order: Order) -> list[OrderResponse]:
    """The responses to one order, side by side (the chosen one first, then by submission)."""
    qs = _with_project(_responses(actor).filter(order=order))
    rank = {RS.SELECTED: 0, RS.SUBMITTED: 1, RS.DRAFT: 1, RS.NOT_SELECTED: 2, RS.WITHDRAWN: 3}
    return sorted(qs, key=lambda r: (rank.get(r.status, 9), r.submitted_at or r.created_at, r.pk))


def response_get(*, actor: Actor, response_id: int) -> OrderResponse:
    return get_visible(actor, _with_project(_responses(actor)), pk=response_id)


def my_responses(*, actor: Actor, term: Term | None, status: str = "") -> QuerySet[OrderResponse]:
    """An institution's responses in a term (newest first)."""
    qs = _responses(actor)
    if term is None:
        return qs.none()
    qs = qs.filter(order__term=term)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("order", "order__county", "project").order_by("-created_at", "-pk")
