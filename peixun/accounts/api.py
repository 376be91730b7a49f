from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from peixun.core.api_types import Id
from peixun.core.lists import apply_search
from peixun.core.masking import mask_phone

from . import selectors, services
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

    @staticmethod
    def resolve_phone(obj):
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_grants(obj):
        return [
            GrantOut(id=g.pk, role=g.role, scope=str(g.scope_object), is_active=g.is_active) for g in obj.grants.all()
        ]


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


@router.get("/users", response=list[UserOut], summary="账号列表（按权限范围）")
@paginate(LimitOffsetPagination)
def users(request, q: str = "", role: str = ""):
    qs = selectors.user_list(actor=request.actor, role=role)
    return apply_search(qs, q, ["username", "display_name"])


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
    return 201, UserCreated(user=UserOut.from_orm(user), initial_password=password)


@router.post("/users/{user_id}/reset-password", response=PasswordOut, summary="重置密码")
def user_reset_password(request, user_id: Id):
    target = selectors.user_get(actor=request.actor, user_id=user_id)
    return PasswordOut(password=services.password_reset(actor=request.actor, user=target))
