"""Orders' hooks into the catalog (see ``peixun/catalog/signals.py``)."""

from django.dispatch import receiver
from django.utils.translation import gettext as _

from peixun.catalog.signals import project_submitting
from peixun.core.errors import Conflict

from .models import OrderResponse


@receiver(project_submitting, dispatch_uid="orders.only_the_chosen_institution_applies")
def only_the_chosen_institution_applies(sender, project, actor, **kwargs) -> None:
    """An order project is formally applied only as the response the county chose (whichever page it is
    submitted from); responses not chosen, withdrawn or still competing cannot be applied."""
    if not project.is_order_project:
        return
    status = OrderResponse.objects.filter(project=project).values_list("status", flat=True).first()
    if status != OrderResponse.Status.SELECTED:
        raise Conflict(
            _("An order project is formally applied only after the county has chosen this institution's response."),
            details={"rule": "order_selected"},
        )
