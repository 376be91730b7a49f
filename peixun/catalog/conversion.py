"""学时 → credits for training projects: the one conversion every caller goes through.

The conversion itself — 学时 per credit by category, level and format, the rounding step and
a policy's own limit on online credits — belongs to the active credit policy and is computed
by the policy engine (``peixun.credits.engine``); the province edits it on the credit-policy
page. With no active policy the engine applies preset A (10 学时 = 1 credit).

What stays here is the application round's own rule (the notice: 线上线下相结合培训项目的在线
学分不超过项目总学分的 30%): a blended project's online credits are at most 30% of its
credits. It is checked on the credits *before* any policy limit, so an institution is told to
change its hours instead of having online credits silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from peixun.core.choices import TrainingFormat
from peixun.credits import engine
from peixun.credits.selectors import active_policy, rules_for

ONLINE_SHARE_CAP = Decimal("0.30")  # blended projects: online credits ≤ 30% of the project's credits
MAX_HOURS = Decimal("99999.9")  # what Project.hours_* can hold


@dataclass(frozen=True)
class Conversion:
    credits: Decimal  # what the project gives (after the policy's own limits)
    credits_online: Decimal
    offline_part: Decimal  # before any limit: offline hours at the face-to-face rate
    online_part: Decimal  # before any limit: online hours at the online rate
    hours_per_credit: Decimal  # face-to-face rate
    hours_per_credit_online: Decimal
    blended: bool
    policy_name: str  # "" when no policy is active (preset A applies)
    policy_version: int

    @property
    def share_ok(self) -> bool:
        """The application round's rule: online credits ≤ 30% of a blended project's credits."""
        return not self.blended or self.online_part <= (self.offline_part + self.online_part) * ONLINE_SHARE_CAP


def _hours(value) -> Decimal:
    try:
        value = Decimal(value or 0)
    except (ArithmeticError, ValueError, TypeError):
        return Decimal("0")
    if not value.is_finite() or value <= 0:
        return Decimal("0")
    return min(value, MAX_HOURS)


def convert(*, category: str, level: str, fmt: str, hours_offline, hours_online, credit_level: str = "") -> Conversion:
    """Credits for raw attributes under the active policy (the live preview on the project form uses this)."""
    policy = active_policy()
    rules = rules_for(policy)
    level = credit_level or level
    hours_offline, hours_online = _hours(hours_offline), _hours(hours_online)
    credits, credits_online = engine.convert_hours(
        rules, category=category, level=level, fmt=fmt, hours_offline=hours_offline, hours_online=hours_online
    )
    offline_part, online_part = engine.convert_parts(
        rules, category=category, level=level, hours_offline=hours_offline, hours_online=hours_online
    )
    return Conversion(
        credits=credits,
        credits_online=credits_online,
        offline_part=offline_part,
        online_part=online_part,
        hours_per_credit=engine.hours_per_credit(rules, category, level, TrainingFormat.FACE_TO_FACE),
        hours_per_credit_online=engine.hours_per_credit(rules, category, level, TrainingFormat.ONLINE),
        blended=fmt == TrainingFormat.BLENDED,
        policy_name=policy.name if policy else "",
        policy_version=policy.version if policy else 0,
    )


def project_conversion(project) -> Conversion:
    return convert(
        category=project.credit_category,
        level=project.level,
        credit_level=project.credit_level,
        fmt=project.format,
        hours_offline=project.hours_offline,
        hours_online=project.hours_online,
    )


def credits_for(
    *, category: str, level: str, fmt: str, hours_offline, hours_online, credit_level: str = ""
) -> tuple[Decimal, Decimal]:
    """``(credits, credits_online)`` for raw attributes."""
    c = convert(
        category=category,
        level=level,
        credit_level=credit_level,
        fmt=fmt,
        hours_offline=hours_offline,
        hours_online=hours_online,
    )
    return c.credits, c.credits_online


def compute_credits(project) -> tuple[Decimal, Decimal]:
    """``(credits, credits_online)`` for a project from its current credit attributes."""
    c = project_conversion(project)
    return c.credits, c.credits_online
