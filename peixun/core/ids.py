"""Chinese resident ID numbers (GB 11643-1999): format and checksum."""

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d would take full-width digits


def checksum_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def normalize_national_id(value: str) -> str:
    return (value or "").strip().upper()


def national_id_problem(value: str) -> str | None:
    """Return a Chinese reason why ``value`` is not a valid ID number, or None."""
    value = normalize_national_id(value)
    if not value:
        return "身份证件号为空"
    if not _PATTERN.match(value):
        return "身份证件号应为18位（最后一位可为X）"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证件号中的出生日期无效"
    if checksum_char(value[:17]) != value[17]:
        return "身份证件号校验位错误"
    return None


def is_valid_national_id(value: str) -> bool:
    return national_id_problem(value) is None


def birth_date_from_id(value: str) -> date:
    value = normalize_national_id(value)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> str:
    """'M' or 'F' from the sequence digit."""
    return "M" if int(normalize_national_id(value)[16]) % 2 == 1 else "F"


def make_national_id(region6: str, born: date, seq3: int) -> str:
    first17 = f"{region6}{born:%Y%m%d}{seq3:03d}"
    return first17 + checksum_char(first17)
