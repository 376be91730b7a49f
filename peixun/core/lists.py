"""Search, filter, sort and paginate list pages the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet


@dataclass
class ListState:
    page: Page
    query: str
    sort: str
    params: str  # the current filters as a query string, without page=

    @property
    def rows(self):
        return self.page.object_list


def apply_search(queryset: QuerySet, query: str, fields: list[str]) -> QuerySet:
    query = (query or "").strip()
    if not query:
        return queryset
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": query}) if not name.endswith("=") else Q(**{name[:-1]: query})
    return queryset.filter(condition)


def apply_sort(queryset: QuerySet, sort: str, allowed: dict[str, str], default: str) -> tuple[QuerySet, str]:
    key = sort.lstrip("-")
    if key not in allowed:
        sort, key = default, default.lstrip("-")
    field = allowed.get(key, key)
    order = f"-{field}" if sort.startswith("-") else field
    return queryset.order_by(order, "pk"), sort


def paginate(request, queryset: QuerySet, *, sort: str = "", per_page: int | None = None) -> ListState:
    paginator = Paginator(queryset, per_page or settings.PEIXUN_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return ListState(page=page, query=request.GET.get("q", ""), sort=sort, params=params.urlencode())
