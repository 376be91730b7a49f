"""API authentication: session cookie (with CSRF) for the pages' own scripts, bearer tokens for clients."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from peixun.accounts.middleware import SESSION_GRANT_KEY, active_grant
from peixun.accounts.models import ApiToken
from peixun.core.scopes import Actor


class SessionActorAuth(SessionAuth):
    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated or user.must_change_password:
            return None
        grant = active_grant(user, request.session.get(SESSION_GRANT_KEY))
        if grant is None:
            return None
        request.actor = Actor.from_grant(grant)
        return request.actor


class TokenActorAuth(HttpBearer):
    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user", "grant", "grant__region", "grant__school", "grant__institution")
            .filter(key_hash=ApiToken.hash(token), revoked_at__isnull=True, grant__is_active=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.actor = Actor.from_grant(found.grant)
        return request.actor
