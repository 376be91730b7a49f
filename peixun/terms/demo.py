"""Demo terms: last spring's term (the 2024 H1 preset copied, all windows closed, training over) and the
current half-year's term, whose windows sit around today so the demo is live: project application,
review and publication are open (extended by the province for a supplementary round), selection
round 1 is open, and the later steps follow in the next days."""

from __future__ import annotations

from datetime import date, timedelta

from peixun.accounts.models import RoleGrant
from peixun.core.scopes import Actor

from .models import Term, Window, WindowKind
from .services import term_create_from_preset, window_extend
from .windows import day_end, day_start

K = WindowKind

# Days relative to today: (first day, last day), as the notice's windows are whole days.
CURRENT_WINDOWS = {
    K.ORDER_DEMAND: (-20, -18),
    K.ORDER_PUBLISH: (-17, -17),
    K.ORDER_RESPONSE: (-16, -13),
    K.ORDER_SELECT: (-15, -12),
    K.ORDER_APPLY: (-11, -10),
    K.PROJECT_APPLY: (-20, -16),
    K.PROJECT_REVIEW: (-15, -10),
    K.PUBLICATION: (-9, -9),
    K.SELECT_R1: (-3, 4),
    K.PRINCIPAL_R1: (4, 5),
    K.EXPAND_REQUEST: (6, 6),
    K.EXPAND_ACCEPT: (7, 7),
    K.CONFIRM_R1: (8, 8),
    K.SELECT_R2: (9, 10),
    K.PRINCIPAL_R2: (10, 11),
    K.CONFIRM_R2: (12, 12),
    K.TRAINING: (-7, 150),
}
# The province reopened application, review and publication for a supplementary round (补报).
EXTENDED = {
    K.PROJECT_APPLY: (5, "开放补报：部分机构因系统升级未能按时申报"),
    K.PROJECT_REVIEW: (6, "配合补报延长审核时间"),
    K.PUBLICATION: (7, "补报项目随审随发布"),
}


def half_year(day: date) -> tuple[str, str]:
    half = 1 if day.month <= 6 else 2
    return f"{day.year}H{half}", f"{day.year}年{'上' if half == 1 else '下'}半年"


def seed(ctx) -> None:
    today = ctx.today
    grant = RoleGrant.objects.select_related("user", "region").get(user__username="demo_province")
    province = Actor.from_grant(grant)

    past_year = today.year if today > date(today.year, 8, 31) else today.year - 1
    past = term_create_from_preset(actor=province, code=f"{past_year}H1", name=f"{past_year}年上半年", year=past_year)

    code, name = half_year(today)
    if Term.objects.filter(code=code).exists():  # today is in the first half of the year and before March
        code, name = f"{code}b", f"{name}（补充）"
    current = Term.objects.create(code=code, name=name)
    Window.objects.bulk_create(
        Window(
            term=current,
            kind=kind,
            starts_at=day_start(today + timedelta(days=first)),
            ends_at=day_end(today + timedelta(days=last)),
        )
        for kind, (first, last) in CURRENT_WINDOWS.items()
    )
    for kind, (last, reason) in EXTENDED.items():
        window = Window.objects.get(term=current, kind=kind)
        window_extend(actor=province, window=window, new_ends_at=day_end(today + timedelta(days=last)), reason=reason)
    ctx.data.update(term=current, past_term=past, province_actor=province)
