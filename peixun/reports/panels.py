"""Home-page panel: each bureau, school and institution role gets a way into its dashboard."""

from __future__ import annotations

from peixun.core.roles import Role

DASHBOARD_ROLES = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR, Role.INSTITUTION)


def dashboard_panel(actor):
    if actor.role not in DASHBOARD_ROLES:
        return None
    from django.urls import reverse

    from . import selectors

    panel = {"template": "reports/_panel.html", "order": 5, "dashboard_url": reverse("reports:dashboard")}
    term = selectors.term_for(None)
    if actor.role == Role.INSTITUTION:
        panel["institutions_url"] = reverse("reports:institutions")
        return panel
    node = selectors.home_node(actor)
    panel["node"] = node
    params = {"school": node.school.pk} if node.school else {"region": node.region.pk}
    from urllib.parse import urlencode

    panel["at_risk_url"] = reverse("reports:teacher_list") + "?" + urlencode({**params, "status": "at_risk"})
    if term is not None:
        progress = selectors.term_progress(actor, node, term)
        panel["progress"] = progress
    if actor.role in (Role.PROVINCE, Role.MONITOR):
        panel["institutions_url"] = reverse("reports:institutions")
    return panel
