from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "peixun.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self):
        from . import exports  # noqa: F401  (registers the list exporters)
