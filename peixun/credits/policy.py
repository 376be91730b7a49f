"""Credit policies as data: the two presets and the parsed, validated form the engine reads.

A policy's ``data`` (JSON) has these keys; amounts are strings so Decimal round-trips:

* ``cycle``: ``{"start_year": 2018, "length": 5}`` — cycles are consecutive runs of
  ``length`` school years (1 September – 31 August) starting with ``start_year``.
* ``categories``: ``[{"code", "minimum", "levels", "levels_interchangeable",
  "level_minimums", "weight", "cap_per_cycle", "separate"}]``. ``weight`` scales what a
  category's credits count (new principals' qualification training counts 50% in preset
  B); ``separate`` keeps a category apart from the cycle (new-teacher probation credits).
* ``interchange``: groups of category codes whose excess may fill each other's shortfall
  (empty in both presets: 统筹 and 自主 never fill each other).
* ``aliases``: how categories of another scheme map onto this one's (so a what-if on the
  same ledger under another scheme is meaningful).
* ``sources``: caps per source type: ``{"degree": {"category", "cap_per_cycle", "cap_per_year"}}``.
* ``total_minimum``, ``annual_minimum``: preset B's 360 per cycle and 24 per school year.
* ``conversion``: ``{"rules": [{"category", "level", "format", "hours_per_credit"}],
  "online_share_max", "step"}`` — the most specific matching rule wins.
* ``schoolbased``: the category school-based activities post to, the minimum conversion for
  other forms (学时 per credit) and the item rules (20 lessons listened = 1 credit …).
* ``degree_credits``: credits a new degree offsets, by degree (capped by ``sources.degree``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from peixun.core.choices import CreditCategory
from peixun.core.errors import InvalidInput

TONGCHOU_LEVELS = ["national", "provincial", "city", "county"]
SCHOOL_FORMS = ["school_training", "school_research", "workshop", "other", "item"]

PRESET_A: dict = {
    "scheme": "A",
    "cycle": {"start_year": 2018, "length": 5},
    "categories": [
        {
            "code": CreditCategory.TONGCHOU,
            "minimum": "26",
            "levels": TONGCHOU_LEVELS,
            "levels_interchangeable": True,
        },
        {"code": CreditCategory.ZIZHU, "minimum": "10", "levels": SCHOOL_FORMS, "levels_interchangeable": True},
    ],
    "interchange": [],
    "aliases": {CreditCategory.CENTRALISED: CreditCategory.TONGCHOU, CreditCategory.SCHOOL_BASED: CreditCategory.ZIZHU},
    "sources": {
        "degree": {"category": CreditCategory.TONGCHOU, "cap_per_cycle": "8"},
        "floor": {"category": CreditCategory.TONGCHOU, "cap_per_year": "1.5", "cap_per_cycle": "7.5"},
    },
    "total_minimum": None,
    "annual_minimum": None,
    "conversion": {
        "rules": [{"category": "", "level": "", "format": "", "hours_per_credit": "10"}],
        "online_share_max": None,
        "step": "0.1",
    },
    "schoolbased": {
        "category": CreditCategory.ZIZHU,
        "min_hours_per_credit": "10",
        "items": {
            "listen": {"per_credit": 20},
            "open_lesson": {"county": 1, "school": 2},
            "lecture": {"county": 1, "school": 2},
        },
    },
    "degree_credits": {"junior_college": "4", "bachelor": "6", "master": "8", "doctor": "8"},
}

PRESET_B: dict = {
    "scheme": "B",
    "cycle": {"start_year": 2018, "length": 5},
    "categories": [
        {"code": CreditCategory.CENTRALISED, "minimum": "90", "levels": [], "levels_interchangeable": True},
        {
            "code": CreditCategory.SCHOOL_BASED,
            "minimum": "0",
            "levels": SCHOOL_FORMS,
            "levels_interchangeable": True,
            "cap_per_cycle": "150",
        },
        {"code": CreditCategory.PRINCIPAL_QUALIFICATION, "minimum": "0", "weight": "0.5"},
        {
            "code": CreditCategory.PROBATION,
            "minimum": "180",
            "separate": True,
            "levels": ["practical", "theory"],
            "levels_interchangeable": False,
            "level_minimums": {"practical": "80"},
        },
    ],
    "interchange": [],
    "aliases": {CreditCategory.TONGCHOU: CreditCategory.CENTRALISED, CreditCategory.ZIZHU: CreditCategory.SCHOOL_BASED},
    "sources": {},
    "total_minimum": "360",
    "annual_minimum": "24",
    "conversion": {
        "rules": [{"category": "", "level": "", "format": "", "hours_per_credit": "1"}],
        "online_share_max": "0.3",
        "step": "0.1",
    },
    "schoolbased": {
        "category": CreditCategory.SCHOOL_BASED,
        "min_hours_per_credit": "1",
        "items": {
            "listen": {"per_credit": 20},
            "open_lesson": {"county": 1, "school": 2},
            "lecture": {"county": 1, "school": 2},
        },
    },
    "degree_credits": {},
}

PRESETS = {"A": PRESET_A, "B": PRESET_B}


def preset_data(name: str) -> dict:
    return copy.deepcopy(PRESETS[name])


CODE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


def _code(value, what: str) -> str:
    """Codes end up in compiled SQL (sqlreport): only lower-case letters, digits and underscores."""
    value = str(value or "").strip()
    if not CODE.match(value):
        raise InvalidInput(
            _("Invalid code in the policy (lower-case letters, digits, underscores): %(what)s") % {"what": what},
            details={"field": "data"},
        )
    return value


def _dec(value, what: str, *, allow_none: bool = False) -> Decimal | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise InvalidInput(_("Policy value missing: %(what)s") % {"what": what}, details={"field": "data"})
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("Policy value is not a number: %(what)s") % {"what": what}, details={"field": "data"}
        ) from None
    if result < 0 or not result.is_finite():
        raise InvalidInput(_("Policy value cannot be negative: %(what)s") % {"what": what}, details={"field": "data"})
    return result


def level_label(code: str) -> str:
    """A readable label for a sub-category / level code (levels, school-based forms, items)."""
    from django.utils.translation import gettext_lazy

    from peixun.core.choices import TrainingLevel

    labels = {
        **dict(TrainingLevel.choices),
        "school_training": gettext_lazy("School-based training"),
        "school_research": gettext_lazy("School-based teaching research"),
        "workshop": gettext_lazy("Workshop / studio"),
        "other": gettext_lazy("Other school form"),
        "item": gettext_lazy("Listening, open lessons, lectures"),
        "floor": gettext_lazy("Floor training"),
        "practical": gettext_lazy("Practical"),
        "theory": gettext_lazy("Theory"),
        "junior_college": gettext_lazy("Junior college"),
        "bachelor": gettext_lazy("Bachelor"),
        "master": gettext_lazy("Master"),
        "doctor": gettext_lazy("Doctorate"),
        "": gettext_lazy("Unspecified"),
    }
    return str(labels.get(code, code))


def category_label(code: str) -> str:
    try:
        return str(CreditCategory(code).label)
    except ValueError:
        return code


@dataclass(frozen=True)
class CategoryRule:
    code: str
    minimum: Decimal
    levels: tuple[str, ...] = ()
    levels_interchangeable: bool = True
    level_minimums: dict[str, Decimal] = field(default_factory=dict)
    weight: Decimal = Decimal("1")
    cap_per_cycle: Decimal | None = None
    separate: bool = False

    @property
    def label(self) -> str:
        return category_label(self.code)

    @property
    def level_minimums_text(self) -> str:
        """The per-level minimums as people read them, e.g. "实践 80"."""
        return "、".join(
            f"{level_label(level)} {minimum.normalize():f}" for level, minimum in self.level_minimums.items()
        )


@dataclass(frozen=True)
class SourceCap:
    source_type: str
    category: str
    cap_per_cycle: Decimal | None = None
    cap_per_year: Decimal | None = None


@dataclass(frozen=True)
class ConversionRule:
    category: str
    level: str
    format: str
    hours_per_credit: Decimal

    @property
    def specificity(self) -> int:
        return bool(self.category) * 4 + bool(self.level) * 2 + bool(self.format)


@dataclass(frozen=True)
class Rules:
    """A parsed policy. Build with ``Rules.from_data``; the engine needs nothing else."""

    scheme: str
    start_year: int
    length: int
    categories: tuple[CategoryRule, ...]
    interchange: tuple[tuple[str, ...], ...]
    aliases: dict[str, str]
    sources: dict[str, SourceCap]
    total_minimum: Decimal | None
    annual_minimum: Decimal | None
    conversion: tuple[ConversionRule, ...]
    online_share_max: Decimal | None
    step: Decimal
    schoolbased_category: str
    min_hours_per_credit: Decimal
    items: dict
    degree_credits: dict[str, Decimal]
    version: int = 0
    policy_id: int | None = None

    @classmethod
    def from_data(cls, data: dict, *, version: int = 0, policy_id: int | None = None) -> Rules:
        if not isinstance(data, dict):
            raise InvalidInput(_("The policy data must be an object."), details={"field": "data"})
        cycle = data.get("cycle") or {}
        try:
            start_year, length = int(cycle.get("start_year")), int(cycle.get("length"))
        except (TypeError, ValueError):
            raise InvalidInput(
                _("Give the cycle's first school year and its length."), details={"field": "data"}
            ) from None
        if not (2000 <= start_year <= 2100) or not (1 <= length <= 10):
            raise InvalidInput(
                _("The cycle must start between 2000 and 2100 and last 1 to 10 years."), details={"field": "data"}
            )
        categories = []
        seen = set()
        for raw in data.get("categories") or []:
            code = _code(raw.get("code"), "category")
            if code in seen:
                raise InvalidInput(_("Every category needs a unique code."), details={"field": "data"})
            seen.add(code)
            categories.append(
                CategoryRule(
                    code=code,
                    minimum=_dec(raw.get("minimum", "0"), code),
                    levels=tuple(raw.get("levels") or ()),
                    levels_interchangeable=bool(raw.get("levels_interchangeable", True)),
                    level_minimums={k: _dec(v, f"{code}/{k}") for k, v in (raw.get("level_minimums") or {}).items()},
                    weight=_dec(raw.get("weight", "1"), f"{code} weight"),
                    cap_per_cycle=_dec(raw.get("cap_per_cycle"), f"{code} cap", allow_none=True),
                    separate=bool(raw.get("separate", False)),
                )
            )
        if not categories:
            raise InvalidInput(_("A policy needs at least one category."), details={"field": "data"})
        interchange = []
        for group in data.get("interchange") or []:
            group = tuple(str(c) for c in group)
            if any(c not in seen for c in group):
                raise InvalidInput(_("An interchange group names an unknown category."), details={"field": "data"})
            interchange.append(group)
        sources = {}
        for source_type, raw in (data.get("sources") or {}).items():
            source_type = _code(source_type, "source")
            category = str(raw.get("category") or "")
            if category not in seen:
                raise InvalidInput(_("A source cap names an unknown category."), details={"field": "data"})
            sources[source_type] = SourceCap(
                source_type=source_type,
                category=category,
                cap_per_cycle=_dec(raw.get("cap_per_cycle"), f"{source_type} cap", allow_none=True),
                cap_per_year=_dec(raw.get("cap_per_year"), f"{source_type} cap", allow_none=True),
            )
        conv = data.get("conversion") or {}
        rules = []
        for raw in conv.get("rules") or []:
            hpc = _dec(raw.get("hours_per_credit"), "hours_per_credit")
            if hpc <= 0:
                raise InvalidInput(_("Hours per credit must be more than zero."), details={"field": "data"})
            rules.append(
                ConversionRule(
                    category=str(raw.get("category") or ""),
                    level=str(raw.get("level") or ""),
                    format=str(raw.get("format") or ""),
                    hours_per_credit=hpc,
                )
            )
        if not any(r.specificity == 0 for r in rules):
            raise InvalidInput(
                _("The conversion needs a default rule (no category, level or format)."), details={"field": "data"}
            )
        share = _dec(conv.get("online_share_max"), "online_share_max", allow_none=True)
        if share is not None and share > 1:
            raise InvalidInput(_("The online share is a fraction between 0 and 1."), details={"field": "data"})
        sb = data.get("schoolbased") or {}
        sb_category = str(sb.get("category") or categories[0].code)
        aliases = {_code(k, "alias"): _code(v, "alias") for k, v in (data.get("aliases") or {}).items()}
        return cls(
            scheme=str(data.get("scheme") or ""),
            start_year=start_year,
            length=length,
            categories=tuple(categories),
            interchange=tuple(interchange),
            aliases=aliases,
            sources=sources,
            total_minimum=_dec(data.get("total_minimum"), "total_minimum", allow_none=True),
            annual_minimum=_dec(data.get("annual_minimum"), "annual_minimum", allow_none=True),
            conversion=tuple(sorted(rules, key=lambda r: -r.specificity)),
            online_share_max=share,
            step=_dec(conv.get("step") or "0.1", "step") or Decimal("0.1"),
            schoolbased_category=sb_category,
            min_hours_per_credit=_dec(sb.get("min_hours_per_credit", "10"), "min_hours_per_credit"),
            items=sb.get("items") or {},
            degree_credits={k: _dec(v, k) for k, v in (data.get("degree_credits") or {}).items()},
            version=version,
            policy_id=policy_id,
        )

    # --- cycles ------------------------------------------------------------------------
    def school_year_of(self, day: date) -> int:
        return day.year if day.month >= 9 else day.year - 1

    def cycle_of(self, day: date) -> int:
        year = self.school_year_of(day)
        return self.start_year + ((year - self.start_year) // self.length) * self.length

    def cycle_bounds(self, cycle: int) -> tuple[date, date]:
        return date(cycle, 9, 1), date(cycle + self.length, 8, 31)

    def cycle_years(self, cycle: int) -> list[int]:
        return list(range(cycle, cycle + self.length))

    # --- categories ----------------------------------------------------------------------
    def category(self, code: str) -> CategoryRule | None:
        code = self.aliases.get(code, code)
        return next((c for c in self.categories if c.code == code), None)

    def effective_category(self, code: str) -> str:
        return self.aliases.get(code, code)

    def group_of(self, code: str) -> tuple[str, ...]:
        return next((g for g in self.interchange if code in g), (code,))
