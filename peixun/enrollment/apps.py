from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "peixun.enrollment"
    label = "enrollment"
    verbose_name = _("Course selection")

    def ready(self):
        from . import (
            receivers,  # noqa: F401  (catalog hooks)
            tasks_allocation,  # noqa: F401  (registers the retryable allocation job)
        )
