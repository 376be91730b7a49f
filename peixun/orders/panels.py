"""Home panels: the county's orders against the minimum and responses to compare; orders pushed to an
institution; counties below the minimum for the province."""

from django.urls import reverse
from django.utils.translation import gettext as _

from peixun.core.home import register_home_panel
from peixun.core.roles import Role
from peixun.core.scopes import visible
from peixun.terms.models import WindowKind
from peixun.terms.windows import current_term, is_open

from . import rules, selectors
from .models import Order, OrderResponse


def _panel(title, stats, items=(), item_title="", order=20):
    return {
        "template": "orders/panels/orders.html",
        "order": order,
        "title": title,
        "stats": stats,
        "items": list(items),
        "item_title": item_title,
    }


@register_home_panel
def orders_panel(actor):
    if actor.role not in (Role.COUNTY, Role.INSTITUTION, Role.PROVINCE):
        return None
    term = current_term()
    if term is None:
        return None
    link = reverse("orders:order_list") + f"?term={term.pk}"
    if actor.role == Role.COUNTY:
        rows = selectors.coverage(actor=actor, term=term)
        posted = rows[0]["posted"] if rows else 0
        to_compare = visible(
            actor,
            OrderResponse.objects.filter(
                order__term=term, order__status=Order.Status.PUBLISHED, status=OrderResponse.Status.SUBMITTED
            ),
        )
        waiting = selectors.order_list(actor=actor, term=term, stage=rules.Stage.RESPONDED).order_by("code")
        to_review = selectors.order_list(actor=actor, term=term, stage=rules.Stage.APPLIED).count()
        to_publish = selectors.order_list(actor=actor, term=term, stage=rules.Stage.APPROVED).count()
        stats = [
            (_("Orders posted"), f"{posted} / {term.min_orders_per_county}", link),
            (_("Responses to compare"), to_compare.count(), link + f"&stage={rules.Stage.RESPONDED}"),
            (_("Order projects to review"), to_review, link + f"&stage={rules.Stage.APPLIED}"),
            (_("Order projects to publish"), to_publish, link + f"&stage={rules.Stage.APPROVED}"),
        ]
        items = [(o.name, reverse("orders:order_detail", args=[o.pk]), o.response_count or 0) for o in waiting[:5]]
        title = _("Order-style training")
        if is_open(term, WindowKind.ORDER_DEMAND) and posted < term.min_orders_per_county:
            title = _("Order-style training: post at least %(n)s orders") % {"n": term.min_orders_per_county}
        return _panel(title, stats, items, _("Orders with responses to compare"))
    if actor.role == Role.INSTITUTION:
        pushed = selectors.order_list(actor=actor, term=term)
        open_orders = pushed.filter(status=Order.Status.PUBLISHED)
        unanswered = open_orders.filter(my_response_id__isnull=True)
        to_apply = visible(
            actor,
            OrderResponse.objects.filter(
                order__term=term,
                status=OrderResponse.Status.SELECTED,
                project__status__in=("draft", "returned"),
            ),
        ).count()
        stats = [
            (_("Orders pushed to you"), pushed.count(), link),
            (_("Open, not yet answered"), unanswered.count(), link),
            (_("Chosen, to apply formally"), to_apply, reverse("orders:my_responses") + f"?term={term.pk}"),
        ]
        items = [
            (f"{o.county.name} · {o.name}", reverse("orders:order_detail", args=[o.pk]), "") for o in unanswered[:5]
        ]
        return _panel(_("County orders"), stats, items, _("Open orders you have not answered"))
    rows = selectors.coverage(actor=actor, term=term)
    below = [r for r in rows if r["below"]]
    stats = [
        (_("Counties below the minimum"), len(below), reverse("orders:coverage") + f"?term={term.pk}"),
        (_("Orders posted"), sum(r["posted"] for r in rows), link),
    ]
    items = [(f"{r['county'].name}（{r['posted']}/{r['minimum']}）", reverse("orders:coverage"), "") for r in below[:8]]
    return _panel(_("Order-style training"), stats, items, _("Counties below the minimum"))
