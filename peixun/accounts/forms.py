from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from peixun.core.forms import BootstrapMixin, Form
from peixun.core.roles import Role


class LoginForm(BootstrapMixin, AuthenticationForm):
    username = forms.CharField(label=_("Username or ID number"), max_length=150)

    error_messages = {
        "invalid_login": _("Wrong username/ID number or password. Accounts are locked after repeated failures."),
        "inactive": _("This account is disabled. Contact your administrator."),
    }


class PasswordChangeForm(Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput,
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    new_password2 = forms.CharField(label=_("Repeat the new password"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class UserCreateForm(Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Name"), max_length=60)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    role = forms.ChoiceField(label=_("Role"))
    scope_code = forms.CharField(
        label=_("Scope code"),
        max_length=20,
        help_text=_(
            "Region code for bureau roles, school code for school roles, institution code for institution roles."
        ),
    )

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class GrantForm(Form):
    role = forms.ChoiceField(label=_("Role"))
    scope_code = forms.CharField(label=_("Scope code"), max_length=20)

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class TokenForm(Form):
    name = forms.CharField(label=_("Token name"), max_length=60)
