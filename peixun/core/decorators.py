from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from .errors import PermissionDenied


def actor_required(view):
    """The user is signed in and acts in a role; otherwise sign in / explain."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.actor is None:
            return render(request, "core/no_role.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def roles_required(*roles):
    """Page is for these roles only; others get the access-denied page."""

    def decorator(view):
        @wraps(view)
        @actor_required
        def wrapper(request, *args, **kwargs):
            if request.actor.role not in roles:
                held = [g for g in getattr(request, "role_grants", []) if g.role in roles]
                if held:  # the user holds the role this page needs: offer the switch instead of a refusal
                    return render(
                        request,
                        "core/switch_role.html",
                        {"grants": held, "next": request.get_full_path()},
                        status=403,
                    )
                raise PermissionDenied("您当前的角色不能访问此页面。如果您有多个角色，请在右上角切换。")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
