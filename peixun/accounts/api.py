from ninja import Router, Schema

from peixun.core.masking import mask_phone

from . import selectors, services
from .models import User
from .scope_codes import resolve_scope

router = Router(tags=["accounts"])


class GrantOut(Schema):
    id: int
    role: str
    scope: str
    is_active: bool


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    is_active: bool
    grants: list[GrantOut]


class UserIn(Schema):
    username: str
    display_name: str
    role: str
    scope_code: str
    phone: str = ""


class UserCreated(Schema):
    user: UserOut
    initial_password: str


class PasswordOut(Schema):
    password: str


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        phone=mask_phone(user.phone),
        is_active=user.is_active,
        grants=[
            GrantOut(id=g.pk, role=g.role, scope=str(g.scope_object), is_active=g.is_active) for g in user.grants.all()
        ],
    )


@router.get("/users", response=list[UserOut], summary="账号列表（按权限范围）")
def users(request, q: str = "", role: str = "", limit: int = 50, offset: int = 0):
    qs = selectors.user_list(actor=request.actor, role=role)
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(display_name__icontains=q)
    limit = max(1, min(limit, 500))
    return [_user_out(u) for u in qs[offset : offset + limit]]


@router.post("/users", response={201: UserCreated}, summary="创建账号")
def user_create(request, payload: UserIn):
    scope = resolve_scope(payload.role, payload.scope_code)
    user, password = services.user_create(
        actor=request.actor,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
        role=payload.role,
        **scope,
    )
    return 201, UserCreated(user=_user_out(user), initial_password=password)


@router.post("/users/{user_id}/reset-password", response=PasswordOut, summary="重置密码")
def user_reset_password(request, user_id: int):
    target = selectors.user_get(actor=request.actor, user_id=user_id)
    return PasswordOut(password=services.password_reset(actor=request.actor, user=target))
