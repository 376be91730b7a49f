from django import template

register = template.Library()

_STATUS_CLASSES = {"none": "secondary", "open": "warning", "answered": "info", "closed": "success"}
_RATING_CLASSES = {4: "success", 3: "primary", 2: "secondary", 1: "danger"}


@register.filter
def status_badge(status: str) -> str:
    return "text-bg-" + _STATUS_CLASSES.get(status, "light")


@register.filter
def rating_badge(rating: int) -> str:
    return "text-bg-" + _RATING_CLASSES.get(rating, "light")


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def rating_value(value) -> str:
    return "—" if value is None else f"{value:.2f}"
