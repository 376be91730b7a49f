from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """A decimal without trailing zeros: 3.20 → 3.2, 4.00 → 4, 10 → 10."""
    try:
        text = f"{Decimal(value):f}"
    except (InvalidOperation, TypeError, ValueError):
        return "" if value is None else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text
