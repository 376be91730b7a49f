from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "peixun.enrollment"
    label = "enrollment"
    verbose_name = _("Course selection")

    def ready(self):
        from peixun.core.home import register_home_panel

        from . import (
            exports,  # noqa: F401  (registers the roster and review exporters)
            receivers,  # noqa: F401  (catalog hooks)
            tasks_allocation,  # noqa: F401  (registers the retryable allocation job)
        )
        from .panels import (
            bureau_expansions,
            institution_confirm,
            principal_in_teacher_role,
            school_review,
            teacher_selection,
        )

        register_home_panel(teacher_selection)
        register_home_panel(school_review)
        register_home_panel(principal_in_teacher_role)
        register_home_panel(institution_confirm)
        register_home_panel(bureau_expansions)
