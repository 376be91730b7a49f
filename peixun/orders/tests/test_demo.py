"""seed_demo gives every county at least three orders in the current term, in various states."""

import pytest
from django.core.management import call_command

from peixun.orders.models import Order, OrderRecipient
from peixun.orgs.models import Region
from peixun.terms.windows import current_term


@pytest.mark.django_db
def test_demo_without_a_term_creates_no_orders():
    from peixun.orders import demo

    demo.seed(None)  # nothing to do: the context is not even touched
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_demo_orders_for_every_county(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--teachers", "300", verbosity=0)
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
