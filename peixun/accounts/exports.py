from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.lists import apply_search
from peixun.core.masking import mask_phone

from . import selectors


@register_exporter("accounts.users")
def users(actor, params: dict) -> Export:
    qs = selectors.user_list(actor=actor, role=params.get("role", ""))
    qs = apply_search(qs, params.get("q", ""), ["username", "display_name"])
    rows = (
        [
            u.username,
            u.display_name,
            mask_phone(u.phone),
            "；".join(str(g) for g in u.grants.all() if g.is_active),
            _("Yes") if u.is_active else _("No"),
            u.last_login.strftime("%Y-%m-%d %H:%M") if u.last_login else "",
        ]
        for u in qs.iterator(chunk_size=2000)
    )
    headers = [_("Username"), _("Name"), _("Phone"), _("Roles"), _("Active"), _("Last sign-in")]
    return Export(filename=_("accounts"), headers=headers, rows=rows, total=qs.count())
