"""seed_demo gives every county at least three orders in the current term, in various states."""

import pytest
from django.core.management import call_command

from peixun.catalog.models import Project
from peixun.orders import rules
from peixun.orders.models import Order, OrderRecipient, OrderResponse
from peixun.orgs.models import Region
from peixun.terms.windows import current_term


@pytest.mark.django_db
def test_demo_without_a_term_creates_no_orders():
    from peixun.orders import demo

    demo.seed(None)  # nothing to do: the context is not even touched
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_demo_orders_for_every_county(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    from peixun.core import demodata

    contexts = []
    original = demodata.DemoContext.__init__

    def keep(self, *args, **kwargs):  # keep the context to read what the orders demo reported
        original(self, *args, **kwargs)
        contexts.append(self)

    monkeypatch.setattr(demodata.DemoContext, "__init__", keep)
    call_command("seed_demo", "--teachers", "300", verbosity=0)
    assert not contexts[0].data.get("order_flow_problems")
    term = current_term()  # the terms demo's current half-year (its order list was published days ago)
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    assert counties.count() == 8
    for county in counties:
        assert Order.objects.filter(term=term, county=county).count() >= 3
    assert len(set(Order.objects.values_list("status", flat=True))) >= 2
    # The under-one-year institution (新星教师发展研究院) is never pushed an order.
    assert not OrderRecipient.objects.filter(institution__name="新星教师发展研究院").exists()
    assert (
        OrderRecipient.objects.filter(intended=True).exists() and OrderRecipient.objects.filter(intended=False).exists()
    )
    # The whole flow ran through the services: every stage is in the demo, counted per county.
    stages = {}
    for order in rules.with_progress(Order.objects.filter(term=term)):
        stages.setdefault(order.county_id, set()).add(order.stage)
    every = set().union(*stages.values())
    for stage in ("open", "responded", "chosen", "applied", "returned", "approved", "project_published", "cancelled"):
        assert stage in every, stage
    for county_stages in stages.values():
        assert "project_published" in county_stages or "approved" in county_stages
    published = Project.objects.filter(is_order_project=True, status=Project.Status.PUBLISHED, term=term)
    assert published.count() >= 6 and all(p.region.level == "county" for p in published)
    assert OrderResponse.objects.filter(status=OrderResponse.Status.NOT_SELECTED).exclude(county_remark="").exists()
    assert not OrderResponse.objects.filter(institution__name="新星教师发展研究院").exists()
