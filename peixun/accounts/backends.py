from django.contrib.auth.backends import ModelBackend

from peixun.core.ids import normalize_national_id

from .models import User


class UsernameOrNationalIdBackend(ModelBackend):
    """Sign in with a username, or (teachers) with the national ID number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        ident = username.strip()
        user = User.objects.filter(username=ident).first()
        if user is None and len(ident) == 18:
            user = User.objects.filter(teacher__national_id=normalize_national_id(ident)).first()
        if user is None:
            User().set_password(password)  # same work as a real check, so timing does not reveal accounts
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
