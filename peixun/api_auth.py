"""API authentication: session cookie (with CSRF) for the pages' own scripts, bearer tokens for clients."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from peixun.accounts.middleware import SESSION_GRANT_KEY, active_grant
from peixun.accounts.models import ApiToken
from peixun.core.hotpath import Prepared
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


def _token_query(p):
    return ApiToken.objects.select_related(
        "user__teacher", "grant__region", "grant__school", "grant__institution"
    ).filter(key_hash=p.key_hash, revoked_at__isnull=True, grant__is_active=True, user__is_active=True)[:1]


# Every API call by a client starts here: one statement, compiled once per process (``hotpath``), with
# everything ``Actor`` needs (user, grant with its scope, the teacher record).
_token = Prepared(_token_query, key_hash=str)


class TokenActorAuth(HttpBearer):
    def authenticate(self, request, token):
        found = next(iter(_token.bind(key_hash=ApiToken.hash(token)).run()), None)
        if found is None or found.grant.user_id != found.user_id:
            return None
        found.grant.user = found.user  # the same row: Actor reads the grant's user and its teacher
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        request.actor = Actor.from_grant(found.grant)
        return request.actor
