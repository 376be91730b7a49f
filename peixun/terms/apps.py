from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TermsConfig(AppConfig):
    name = "peixun.terms"
    label = "terms"
    verbose_name = _("Terms and calendar")

    def ready(self) -> None:
        from peixun.core.home import register_home_panel

        from .home import windows_panel

        register_home_panel(windows_panel)
