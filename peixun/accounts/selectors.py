from django.db.models import Prefetch, QuerySet

from peixun.core.scopes import Actor, require, visible

from .models import ApiToken, RoleGrant, User


def user_list(*, actor: Actor, role: str = "") -> QuerySet[User]:
    require(actor, "accounts.user.view")
    qs = visible(actor, User.objects.all())
    if role:
        qs = qs.filter(grants__role=role, grants__is_active=True).distinct()
    grants = RoleGrant.objects.select_related("region", "school", "institution")
    return qs.prefetch_related(Prefetch("grants", queryset=grants)).order_by("username")


def user_get(*, actor: Actor, user_id: int) -> User:
    from peixun.core.scopes import get_visible

    require(actor, "accounts.user.view")
    return get_visible(actor, User.objects.prefetch_related("grants"), pk=user_id)


def token_list(*, actor: Actor) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor.user, revoked_at__isnull=True).order_by("-created_at")
