from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job
from peixun.core.lists import apply_search, paginate
from peixun.core.roles import Role
from peixun.core.scopes import ACTIONS

from . import selectors, services
from .forms import GrantForm, LoginForm, PasswordChangeForm, TokenForm, UserCreateForm
from .middleware import SESSION_GRANT_KEY
from .scope_codes import resolve_scope


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def grantable_roles(actor) -> list[str]:
    return [role for role, action in services._GRANT_ACTION.items() if actor.role in ACTIONS[action]]


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.actor,
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


@require_POST
@actor_required
def switch_role(request):
    """Act in another of the user's roles; ``next`` (a path on this site) is where to go then."""
    wanted = request.POST.get("grant")
    if wanted and wanted.isdigit() and request.user.grants.filter(pk=wanted, is_active=True).exists():
        request.session[SESSION_GRANT_KEY] = int(wanted)
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("home")


@actor_required
def user_list(request):
    qs = selectors.user_list(actor=request.actor, role=request.GET.get("role", ""))
    qs = apply_search(qs, request.GET.get("q", ""), ["username", "display_name"])
    if request.GET.get("export"):
        return export_or_job(request, "accounts.users", request.GET.dict())
    state = paginate(request, qs)
    return render(
        request,
        "accounts/user_list.html",
        {"state": state, "roles": Role.choices, "can_create": bool(grantable_roles(request.actor))},
    )


@actor_required
def user_create(request):
    roles = grantable_roles(request.actor)
    form = UserCreateForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            scope = resolve_scope(data["role"], data["scope_code"])
            user, initial = services.user_create(
                actor=request.actor,
                username=data["username"],
                display_name=data["display_name"],
                phone=data["phone"],
                role=data["role"],
                **scope,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            return render(request, "accounts/password_shown.html", {"target": user, "password": initial})
    return render(request, "accounts/user_form.html", {"form": form})


@actor_required
def user_detail(request, pk):
    target = selectors.user_get(actor=request.actor, user_id=pk)
    roles = grantable_roles(request.actor)
    form = GrantForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        try:
            scope = resolve_scope(form.cleaned_data["role"], form.cleaned_data["scope_code"])
            services.grant_add(actor=request.actor, user=target, role=form.cleaned_data["role"], **scope)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The role has been granted."))
            return redirect("accounts:user_detail", pk=target.pk)
    return render(request, "accounts/user_detail.html", {"target": target, "form": form, "can_grant": bool(roles)})


@require_POST
@actor_required
def user_password_reset(request, pk):
    target = selectors.user_get(actor=request.actor, user_id=pk)
    try:
        password = services.password_reset(actor=request.actor, user=target)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user_detail", pk=pk)
    return render(request, "accounts/password_shown.html", {"target": target, "password": password})


@require_POST
@actor_required
def user_toggle_active(request, pk):
    target = selectors.user_get(actor=request.actor, user_id=pk)
    try:
        services.user_set_active(actor=request.actor, user=target, active=not target.is_active)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:user_detail", pk=pk)


@require_POST
@actor_required
def grant_revoke(request, pk, grant_id):
    target = selectors.user_get(actor=request.actor, user_id=pk)
    grant = target.grants.filter(pk=grant_id).first()
    if grant is not None:
        try:
            services.grant_revoke(actor=request.actor, grant=grant)
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("accounts:user_detail", pk=pk)


@actor_required
def token_list(request):
    form = TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, raw = services.token_create(actor=request.actor, name=form.cleaned_data["name"])
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            form = TokenForm()
    tokens = selectors.token_list(actor=request.actor)
    return render(request, "accounts/token_list.html", {"form": form, "tokens": tokens, "raw": raw})


@require_POST
@actor_required
def token_revoke(request, pk):
    try:
        services.token_revoke(actor=request.actor, token_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:token_list")
