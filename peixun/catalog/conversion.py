"""学时 → credits: the one function every caller goes through.

``compute_credits(project)`` reads the project's credit category, level, format and 学时
and returns ``(credits, credits_online)``. Today it is backed by the CreditRule table the
province edits (with the built-in defaults below where the table has no row); the credits
issue switches this one function to the policy engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from peixun.core.choices import CreditCategory, TrainingFormat, TrainingLevel

from .models import CreditRule

# Preset A (the FAQ): 10 学时 = 1 credit for 统筹 and 自主 training at every level; preset B's
# centralised / school-based training likewise until the province edits the table.
DEFAULT_HOURS_PER_CREDIT = Decimal("10")
CREDIT_STEP = Decimal("0.1")
ONLINE_SHARE_CAP = Decimal("0.30")  # blended projects: online credits ≤ 30% of the project's credits


@dataclass(frozen=True)
class Conversion:
    hours_per_credit: Decimal
    rule: CreditRule | None  # None: the built-in default applies

    @property
    def source(self) -> str:
        return "table" if self.rule else "default"


def conversion_for(category: str, level: str, fmt: str) -> Conversion:
    """The rule for (category, level, format), else (category, level, any format), else the default."""
    rules = {r.format: r for r in CreditRule.objects.filter(category=category, level=level, format__in=[fmt, ""])}
    rule = rules.get(fmt) or rules.get("")
    return Conversion(rule.hours_per_credit if rule else DEFAULT_HOURS_PER_CREDIT, rule)


def hours_to_credits(hours: Decimal, hours_per_credit: Decimal) -> Decimal:
    if not hours or hours <= 0:
        return Decimal("0")
    return (Decimal(hours) / hours_per_credit).quantize(CREDIT_STEP, rounding=ROUND_HALF_UP)


def credits_for(
    *, category: str, level: str, fmt: str, hours_offline: Decimal, hours_online: Decimal
) -> tuple[Decimal, Decimal]:
    """Credits for raw attributes (the live preview on the project form uses this)."""
    conversion = conversion_for(category, level, fmt)
    hours_offline = Decimal(hours_offline or 0)
    hours_online = Decimal(hours_online or 0)
    total = hours_to_credits(hours_offline + hours_online, conversion.hours_per_credit)
    online = hours_to_credits(hours_online, conversion.hours_per_credit)
    return total, min(online, total)


def compute_credits(project) -> tuple[Decimal, Decimal]:
    """``(credits, credits_online)`` for a project from its current credit attributes."""
    return credits_for(
        category=project.credit_category,
        level=project.level,
        fmt=project.format,
        hours_offline=project.hours_offline,
        hours_online=project.hours_online,
    )


def online_share_ok(credits: Decimal, credits_online: Decimal) -> bool:
    return credits_online <= (credits * ONLINE_SHARE_CAP)


def rule_table() -> list[dict]:
    """Every (category, level) with its effective 学时 per credit, for the province's page."""
    rows = {(r.category, r.level, r.format): r for r in CreditRule.objects.all()}
    table = []
    for category in CreditCategory:
        for level in TrainingLevel:
            for fmt in ["", *TrainingFormat.values]:
                rule = rows.get((category.value, level.value, fmt))
                if fmt and rule is None:
                    continue
                table.append(
                    {
                        "category": category,
                        "level": level,
                        "format": fmt,
                        "format_label": TrainingFormat(fmt).label if fmt else "",
                        "rule": rule,
                        "hours_per_credit": rule.hours_per_credit if rule else DEFAULT_HOURS_PER_CREDIT,
                    }
                )
    return table
