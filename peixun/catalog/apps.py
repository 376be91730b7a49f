from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "peixun.catalog"
    label = "catalog"
    verbose_name = _("Training projects")

    def ready(self) -> None:
        from peixun.core.home import register_home_panel

        from . import exports  # noqa: F401  (registers the list exporters)
        from .home import PANELS

        for panel in PANELS:
            register_home_panel(panel)
