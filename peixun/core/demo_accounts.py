"""Creating demo accounts quickly: one password hash shared by every demo account."""

from functools import lru_cache

from django.contrib.auth.hashers import make_password

from .demodata import DEMO_PASSWORD


@lru_cache(maxsize=1)
def demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def demo_user(username: str, display_name: str, *, role: str, region=None, school=None, institution=None):
    from peixun.accounts.models import RoleGrant, User

    user = User.objects.create(
        username=username, display_name=display_name, password=demo_password_hash(), must_change_password=False
    )
    RoleGrant.objects.create(user=user, role=role, region=region, school=school, institution=institution)
    return user
