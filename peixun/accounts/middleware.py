from django.shortcuts import redirect
from django.urls import reverse

from peixun.accounts.models import RoleGrant
from peixun.core.hotpath import Prepared
from peixun.core.scopes import Actor

SESSION_GRANT_KEY = "active_grant_id"
# Paths a user who must change the password may still open.
_ALWAYS_ALLOWED = ("/accounts/password/", "/accounts/logout/", "/static/", "/i18n/", "/verify/")


def _grants_query(p):
    return (
        RoleGrant.objects.filter(user_id=p.user_id, is_active=True)
        .select_related("user__teacher", "region", "school", "institution")
        .order_by("pk")
    )


# Read on every signed-in page request: one statement, compiled once per process (``hotpath``), with
# what ``Actor`` needs (the grant's scope, and the teacher record for the teacher role).
_grants = Prepared(_grants_query, user_id=int)


def active_grants(user) -> list:
    """In the order granted: the first is the role a user signs in with (the same on every database)."""
    return _grants.bind(user_id=user.pk).run()


def active_grant(user, wanted_id, grants: list | None = None):
    grants = active_grants(user) if grants is None else grants
    if not grants:
        return None
    for grant in grants:
        if grant.pk == wanted_id:
            return grant
    return grants[0]


class ActorMiddleware:
    """Sets ``request.actor`` for signed-in users and enforces the first-login password change."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = None
        request.role_grants = []  # every active role of the user (the menu offers a switch to the others)
        user = request.user
        if user.is_authenticated and not request.path.startswith("/api/"):
            request.role_grants = active_grants(user)
            grant = active_grant(user, request.session.get(SESSION_GRANT_KEY), request.role_grants)
            if grant is not None:
                request.actor = Actor.from_grant(grant)
            if user.must_change_password and not request.path.startswith(_ALWAYS_ALLOWED):
                return redirect(reverse("accounts:password_change"))
        return self.get_response(request)
