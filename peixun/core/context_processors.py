from django.conf import settings

from .navigation import menu_for, other_roles


def shell(request):
    actor = getattr(request, "actor", None)
    unread = 0
    if actor is not None:
        unread = request.user.notifications.filter(read_at__isnull=True).count()
    return {
        "actor": actor,
        "nav": menu_for(actor) if actor is not None else [],
        "other_roles": other_roles(getattr(request, "role_grants", []), actor) if actor is not None else [],
        "unread_notifications": unread,
        "province_name": settings.PEIXUN_PROVINCE_NAME,
    }
