from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "peixun.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from . import exports, panels, receivers  # noqa: F401  (the board exporter; home panels; catalog hooks)
