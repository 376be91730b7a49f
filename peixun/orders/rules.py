"""Order rules as reads: who may take orders, which counties are below the minimum, the order's stage."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import get_window

from .models import Order, OrderResponse

OS = Order.Status
RS = OrderResponse.Status
RESPONDED_STATUSES = OrderResponse.RESPONDED


def orders_reference_date(term: Term) -> date:
    """'Qualified under one year' is judged on the day the term's application opens (as for quotas)."""
    window = get_window(term, WindowKind.PROJECT_APPLY) or get_window(term, WindowKind.ORDER_DEMAND)
    return timezone.localdate(window.starts_at) if window else timezone.localdate()


def may_take_orders(institution: Institution, term: Term) -> bool:
    return institution.is_active and institution.can_take_orders(orders_reference_date(term))


def order_takers(term: Term) -> list[Institution]:
    """Every institution an order without intended institutions is pushed to."""
    candidates = Institution.objects.filter(is_active=True, may_take_orders=True, province_wide=True).order_by("code")
    return [i for i in candidates if may_take_orders(i, term)]


# --- the order's stage: its own status, then its chosen project's catalog status --------------


class Stage:
    DRAFT = "draft"
    POSTED = "posted"
    OPEN = "open"
    RESPONDED = "responded"
    CHOSEN = "chosen"
    APPLIED = "applied"
    RETURNED = "returned"
    APPROVED = "approved"
    PROJECT_PUBLISHED = "project_published"
    PROJECT_CLOSED = "project_closed"
    CANCELLED = "cancelled"

    LABELS = {
        DRAFT: _("Draft"),
        POSTED: _("Posted, awaiting the order list"),
        OPEN: _("Open for responses"),
        RESPONDED: _("Responses received, awaiting the county's choice"),
        CHOSEN: _("Institution chosen, awaiting formal application"),
        APPLIED: _("Formally applied, awaiting review"),
        RETURNED: _("Returned for revision"),
        APPROVED: _("Approved, awaiting publication"),
        PROJECT_PUBLISHED: _("Project published"),
        PROJECT_CLOSED: _("Project withdrawn"),
        CANCELLED: _("Cancelled"),
    }
    BADGES = {
        DRAFT: "secondary",
        POSTED: "info",
        OPEN: "primary",
        RESPONDED: "primary",
        CHOSEN: "warning",
        APPLIED: "warning",
        RETURNED: "danger",
        APPROVED: "success",
        PROJECT_PUBLISHED: "success",
        PROJECT_CLOSED: "dark",
        CANCELLED: "dark",
    }
    # Catalog project status of the chosen response -> stage.
    BY_PROJECT = {
        "draft": CHOSEN,
        "submitted": APPLIED,
        "returned": RETURNED,
        "approved": APPROVED,
        "published": PROJECT_PUBLISHED,
        "running": PROJECT_PUBLISHED,
        "finished": PROJECT_PUBLISHED,
        "withdrawn": PROJECT_CLOSED,
        "deleted": PROJECT_CLOSED,
    }
    BY_STATUS = {OS.DRAFT: DRAFT, OS.POSTED: POSTED, OS.PUBLISHED: OPEN, OS.CANCELLED: CANCELLED}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, label in cls.LABELS.items()]

    @classmethod
    def of(cls, status: str, project_status: str | None, responses: int | None = 0) -> str:
        if status == OS.SELECTED:
            return cls.BY_PROJECT.get(project_status or "draft", cls.CHOSEN)
        if status == OS.PUBLISHED and responses:
            return cls.RESPONDED
        return cls.BY_STATUS.get(status, cls.DRAFT)

    @classmethod
    def q(cls, stage: str) -> Q | None:
        """Filter orders by stage (None for an unknown stage)."""
        by_status = {v: k for k, v in cls.BY_STATUS.items()}
        responded = Exists(OrderResponse.objects.filter(order=OuterRef("pk"), status__in=RESPONDED_STATUSES))
        if stage == cls.OPEN:
            return Q(status=OS.PUBLISHED) & ~Q(responded)
        if stage == cls.RESPONDED:
            return Q(status=OS.PUBLISHED) & Q(responded)
        if stage in by_status:
            return Q(status=by_status[stage])
        statuses = [p for p, s in cls.BY_PROJECT.items() if s == stage]
        if not statuses:
            return None
        return Q(status=OS.SELECTED, responses__status=RS.SELECTED, responses__project__status__in=statuses)


def with_progress(qs: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate the chosen response (institution, project status) and how many responses came in."""
    chosen = OrderResponse.objects.filter(order=OuterRef("pk"), status=RS.SELECTED)
    return qs.annotate(
        chosen_institution=Subquery(chosen.values("institution__name")[:1]),
        chosen_project_id=Subquery(chosen.values("project_id")[:1]),
        chosen_project_status=Subquery(chosen.values("project__status")[:1]),
        response_count=Subquery(
            OrderResponse.objects.filter(order=OuterRef("pk"), status__in=RESPONDED_STATUSES)
            .values("order")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
    )


def coverage(term: Term, counties: QuerySet[Region]) -> list[dict]:
    """Orders posted per county in the term against the minimum (SPEC §5: at least 3 each)."""
    rows = counties.select_related("parent").annotate(
        posted=Count("orders", filter=Q(orders__term=term, orders__status__in=Order.COUNTED)),
        drafts=Count("orders", filter=Q(orders__term=term, orders__status=OS.DRAFT)),
    )
    minimum = term.min_orders_per_county
    return [
        {
            "county": c,
            "posted": c.posted,
            "drafts": c.drafts,
            "minimum": minimum,
            "missing": max(minimum - c.posted, 0),
            "below": c.posted < minimum,
        }
        for c in rows.order_by("code")
    ]
