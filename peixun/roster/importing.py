"""Reading the national teacher information system's export: headers, values, row checks.

Pure parsing, no database. Files are streamed (CSV in UTF-8 with or without BOM, GBK /
GB18030 or UTF-16; XLSX through openpyxl's read-only mode), so memory stays flat however
long the file. Headers are matched by name (with known aliases); column order does not
matter and unknown columns are ignored with a notice. Every problem of a row is reported
in Chinese with the file's line number and the column as the file names it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import NamedTuple

from peixun.core.choices import Stage, Subject, Title

# field -> accepted header spellings (first is the canonical one, used in the template)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "former_name": ("曾用名",),
    "gender": ("性别",),
    "id_type": ("身份证件类型", "证件类型"),
    "national_id": ("身份证件号", "身份证号", "身份证号码", "证件号码", "公民身份号码", "身份证件号码"),
    "birth_date": ("出生日期",),
    "ethnicity": ("民族",),
    "political_status": ("政治面貌",),
    "work_start": ("参加工作年月", "参加工作时间"),
    "school_join": ("进本校年月", "进本校时间"),
    "staff_source": ("教职工来源",),
    "staff_category": ("教职工类别",),
    "on_establishment": ("是否在编",),
    "employment_form": ("用人形式",),
    "contract": ("签订合同情况",),
    "education": ("学历", "最高学历"),
    "title": ("专业技术职务", "职称", "专业技术职称"),
    "stage": ("任教学段",),
    "subject": ("任教学科", "任教课程"),
    "school_code": ("学校代码", "学校标识码", "单位代码"),
}
REQUIRED = ("name", "national_id", "school_code", "stage", "subject")
HEADER_LOOKUP = {alias: f for f, aliases in HEADERS.items() for alias in aliases}
TEMPLATE_HEADERS = [aliases[0] for aliases in HEADERS.values()]
CANONICAL = {f: aliases[0] for f, aliases in HEADERS.items()}

# Teacher fields a row carries, in the order of ``ParsedRow.values`` (the school is resolved by the caller).
STAGED_FIELDS = (
    "national_id",
    "name",
    "former_name",
    "gender",
    "birth_date",
    "ethnicity",
    "political_status",
    "work_start",
    "school_join",
    "staff_source",
    "staff_category",
    "on_establishment",
    "employment_form",
    "contract",
    "education",
    "title",
    "stage",
    "subject",
)
# Derived from the ID number when the file lacks the column, so always compared.
ALWAYS_PRESENT = ("national_id", "name", "gender", "birth_date", "stage", "subject")
MAX_LENGTH = {
    "name": 40,
    "former_name": 40,
    "ethnicity": 20,
    "political_status": 20,
    "staff_source": 40,
    "staff_category": 40,
    "employment_form": 40,
    "contract": 40,
    "education": 40,
    "school_code": 20,
}

STAGE_ALIASES = {
    "幼儿园": Stage.KINDERGARTEN,
    "学前教育": Stage.KINDERGARTEN,
    "学前": Stage.KINDERGARTEN,
    "小学": Stage.PRIMARY,
    "初中": Stage.JUNIOR,
    "初级中学": Stage.JUNIOR,
    "高中": Stage.SENIOR,
    "高级中学": Stage.SENIOR,
    "普通高中": Stage.SENIOR,
    "中职": Stage.VOCATIONAL,
    "中等职业学校": Stage.VOCATIONAL,
    "中等职业教育": Stage.VOCATIONAL,
    "特教": Stage.SPECIAL,
    "特殊教育": Stage.SPECIAL,
}
SUBJECT_ALIASES = {
    "语文": Subject.CHINESE,
    "数学": Subject.MATH,
    "英语": Subject.ENGLISH,
    "外语": Subject.ENGLISH,
    "物理": Subject.PHYSICS,
    "化学": Subject.CHEMISTRY,
    "生物": Subject.BIOLOGY,
    "生物学": Subject.BIOLOGY,
    "科学": Subject.SCIENCE,
    "历史": Subject.HISTORY,
    "地理": Subject.GEOGRAPHY,
    "道德与法治": Subject.POLITICS,
    "思想品德": Subject.POLITICS,
    "思想政治": Subject.POLITICS,
    "政治": Subject.POLITICS,
    "音乐": Subject.MUSIC,
    "美术": Subject.ART,
    "体育": Subject.PE,
    "体育与健康": Subject.PE,
    "信息技术": Subject.IT,
    "信息科技": Subject.IT,
    "劳动": Subject.LABOUR,
    "劳动教育": Subject.LABOUR,
    "心理健康": Subject.PSYCHOLOGY,
    "心理健康教育": Subject.PSYCHOLOGY,
    "学前教育": Subject.PRESCHOOL,
    "特殊教育": Subject.SPECIAL,
    "管理": Subject.MANAGEMENT,
    "其他": Subject.OTHER,
}
TITLE_ALIASES = {
    "未评": Title.NONE,
    "无": Title.NONE,
    "": Title.NONE,
    "中小学三级教师": Title.JUNIOR,
    "中小学二级教师": Title.JUNIOR,
    "二级教师": Title.JUNIOR,
    "三级教师": Title.JUNIOR,
    "中小学一级教师": Title.INTERMEDIATE,
    "一级教师": Title.INTERMEDIATE,
    "中小学高级教师": Title.ASSOCIATE_SENIOR,
    "高级教师": Title.ASSOCIATE_SENIOR,
    "副高级": Title.ASSOCIATE_SENIOR,
    "正高级教师": Title.SENIOR,
    "正高级": Title.SENIOR,
}
GENDER_ALIASES = {"男": "M", "女": "F", "1": "M", "2": "F"}
YES = {"是", "在编", "Y", "y", "1", "true", "True", "TRUE"}
NO = {"否", "不在编", "非在编", "N", "n", "0", "false", "False", "FALSE"}
ID_TYPES = {"居民身份证", "身份证", "中华人民共和国居民身份证"}

# The same as plain strings: formatting an enum member costs more than a string (COPY text).
_STAGES = {k: str(v) for k, v in STAGE_ALIASES.items()}
_SUBJECTS = {k: str(v) for k, v in SUBJECT_ALIASES.items()}
_TITLES = {k: str(v) for k, v in TITLE_ALIASES.items()}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_BARE_CR = re.compile(rb"\r(?!\n)")  # one search: a third of the time of counting CRs and CRLFs
MAX_ROWS = 1_000_000


class RowError(ValueError):
    """A problem with one cell (or, with an empty column, with the whole file)."""

    def __init__(self, column: str, message: str, *, line: int | None = None):
        super().__init__(message)
        self.column = column
        self.message = message
        self.line = line


class FileProblem(ValueError):
    """The file cannot be read at all (format, encoding, no header row)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _clean_header(value) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\ufeff", "").replace("\u3000", " ").strip()
    text = re.sub(r"[（(]\s*必填\s*[）)]$", "", text).strip()
    return text.rstrip("*＊").strip()


def _parse_date(text: str, month_only: bool = False) -> date:
    """'2020-09-01', '2020-09', '2020/9/1', '2020年9月', '20200901', '2020.09' … or ValueError."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        parsed = date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        return parsed.replace(day=1) if month_only else parsed
    if len(text) == 7 and text[4] == "-":
        return date(int(text[:4]), int(text[5:7]), 1)
    norm = text.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "")
    norm = norm.split(" ")[0].split("T")[0].strip("-")
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y%m%d", "%Y%m"):
        try:
            parsed = datetime.strptime(norm, fmt).date()
        except ValueError:
            continue
        return parsed.replace(day=1) if month_only else parsed
    raise ValueError(text)


_DAY: dict[str, date | None] = {}
_MONTH: dict[str, date | None] = {}
_MISSING = object()


def _partial_sum(digits: str, offset: int) -> int:
    """The ID checksum's weighted sum over ``digits``, which start at position ``offset``."""
    return sum((ord(c) - 48) * w for c, w in zip(digits, _ID_WEIGHTS[offset:]))


# The weighted sum of an ID's first 17 digits, in three memoised parts: region (6 digits, a few
# thousand values in a province), birth date (8, ~20,000) and sequence (3, at most 1,000).
_REGION_SUM: dict[str, int] = {}
_BORN: dict[str, tuple[date | None, int]] = {}
_SEQ_SUM: dict[str, int] = {}


def _born(digits: str) -> tuple[date | None, int]:
    """(the date in an ID's YYYYMMDD digits or None, their checksum part)."""
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        born = None
    if born is not None and born.year < 1900:
        born = None
    if len(_BORN) > 200_000:
        _BORN.clear()
    found = _BORN[digits] = (born, _partial_sum(digits, 6))
    return found


def cached_date(text: str, month_only: bool = False) -> date | None:
    """``_parse_date`` memoised (None when unreadable): dates repeat a lot in a roster."""
    cache = _MONTH if month_only else _DAY
    parsed = cache.get(text, _MISSING)
    if parsed is not _MISSING:
        return parsed
    try:
        parsed = _parse_date(text, month_only)
    except ValueError:
        parsed = None
    if len(cache) > 200_000:
        cache.clear()
    cache[text] = parsed
    return parsed


def check_id(value: str) -> tuple[date | None, str | None]:
    """(birth date, None) for a valid resident ID number (stripped, upper-cased), else (None, reason)."""
    if len(value) != 18 or not value[:17].isdigit() or not (value[17] in _DIGITS or value[17] == "X"):
        if _SCIENTIFIC.match(value) or (value.isdigit() and len(value) in (15, 16, 17, 18) and value.endswith("000")):
            return None, "身份证件号被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”格式后重新导出"
        return None, f"身份证件号“{value}”应为18位（最后一位可为X）"
    if not value.isascii():
        return None, f"身份证件号“{value}”应为18位（最后一位可为X）"
    born, born_sum = _BORN.get(value[6:14]) or _born(value[6:14])
    if born is None:
        return None, f"身份证件号“{value}”中的出生日期无效"
    region = _REGION_SUM.get(value[:6])
    if region is None:
        if len(_REGION_SUM) > 200_000:
            _REGION_SUM.clear()
        region = _REGION_SUM[value[:6]] = _partial_sum(value[:6], 0)
    seq = _SEQ_SUM.get(value[14:17])
    if seq is None:
        seq = _SEQ_SUM[value[14:17]] = _partial_sum(value[14:17], 14)
    if _ID_CHECK[(region + born_sum + seq) % 11] != value[17]:
        return None, f"身份证件号“{value}”校验位错误，请核对"
    return born, None


def id_problem(value: str) -> str | None:
    """Why ``value`` (stripped, upper-cased) is not a valid resident ID number, or None."""
    return check_id(value)[1]


class ParsedRow(NamedTuple):
    values: tuple  # in STAGED_FIELDS order
    school_code: str


class RowParser:
    """Maps a header row to fields once, then checks each data row against it.

    ``parse(cells)`` returns ``(ParsedRow, [])`` for a good row or ``(None, [(column, message), …])``
    with every problem of the row. Columns are named as the file names them.
    """

    def __init__(self, headers: list):
        self.headers = [_clean_header(h) for h in headers]
        self.index: dict[str, int] = {}
        self.column: dict[str, str] = {}
        self.unknown: list[str] = []
        self.duplicated: list[tuple[str, str]] = []
        for i, header in enumerate(self.headers):
            f = HEADER_LOOKUP.get(header)
            if f is None:
                if header:
                    self.unknown.append(header)
                continue
            if f in self.index:
                self.duplicated.append((header, self.column[f]))
                continue
            self.index[f] = i
            self.column[f] = header
        for f in HEADERS:
            self.column.setdefault(f, CANONICAL[f])
        self.missing_required = [CANONICAL[f] for f in REQUIRED if f not in self.index]
        # Only the fields the file carries are compared and updated on existing teachers.
        self.present_fields = [f for f in STAGED_FIELDS if f in self.index or f in ALWAYS_PRESENT]
        # One itemgetter pulls every field in HEADERS order; absent fields read an empty cell
        # appended at the end of the row.
        self._width = (max(self.index.values()) + 1) if self.index else 0
        self._sentinel = len(self.index) < len(HEADERS)
        self._getter = itemgetter(*[self.index.get(f, -1) for f in HEADERS])

    def problems(self) -> list[str]:
        """Header problems that make the whole file unusable (in Chinese)."""
        found = []
        if self.missing_required:
            found.append(
                "文件缺少必需的列："
                + "、".join(self.missing_required)
                + "。请使用国家教师信息系统导出的文件，或下载模板填写"
            )
        for header, other in self.duplicated:
            found.append(f"列“{header}”与“{other}”是同一项，只能保留一列")
        return found

    def parse(self, cells) -> tuple[ParsedRow | None, list[tuple[str, str]]]:  # noqa: C901 - one pass, one place
        if len(cells) < self._width:
            cells = list(cells) + [""] * (self._width - len(cells))
        if self._sentinel:
            cells = [*cells, ""] if isinstance(cells, tuple) else cells + [""]
        (
            name,
            former_name,
            gender_text,
            id_type,
            national_id,
            birth_text,
            ethnicity,
            political_status,
            work_text,
            join_text,
            staff_source,
            staff_category,
            establishment,
            employment_form,
            contract,
            education,
            title_text,
            stage_text,
            subject_text,
            school_code,
        ) = map(str.strip, self._getter(cells))  # cells are text (the readers convert spreadsheet values)
        col = self.column
        errors: list[tuple[str, str]] = []
        if not (name and national_id and school_code and stage_text and subject_text):
            for f, value in (
                ("name", name),
                ("national_id", national_id),
                ("school_code", school_code),
                ("stage", stage_text),
                ("subject", subject_text),
            ):
                if not value:
                    errors.append((col[f], f"“{col[f]}”不能为空"))
        if (
            len(name) > 40
            or len(former_name) > 40
            or len(ethnicity) > 20
            or len(political_status) > 20
            or len(staff_source) > 40
            or len(staff_category) > 40
            or len(employment_form) > 40
            or len(contract) > 40
            or len(education) > 40
            or len(school_code) > 20
        ):
            lengths = dict(zip(MAX_LENGTH, (name, former_name, ethnicity, political_status, staff_source)))
            lengths.update(
                staff_category=staff_category,
                employment_form=employment_form,
                contract=contract,
                education=education,
                school_code=school_code,
            )
            for f, limit in MAX_LENGTH.items():
                if len(lengths[f]) > limit:
                    errors.append((col[f], f"“{col[f]}”过长（最多{limit}个字）"))

        if id_type and id_type not in ID_TYPES:
            errors.append((col["id_type"], f"暂不支持证件类型“{id_type}”，请使用居民身份证"))

        born = None
        if national_id:
            national_id = national_id.upper()
            born, problem = check_id(national_id)
            if problem:
                errors.append((col["national_id"], problem))

        gender = GENDER_ALIASES.get(gender_text) if gender_text else None
        if gender_text and gender is None:
            errors.append((col["gender"], f"性别应为“男”或“女”，实际为“{gender_text}”"))
        elif born is not None:
            from_id = "M" if (ord(national_id[16]) - 48) % 2 else "F"
            if gender is None:
                gender = from_id
            elif gender != from_id:
                errors.append((col["gender"], "性别与身份证件号不一致"))

        if birth_text:
            stated = _DAY.get(birth_text, _MISSING)
            if stated is _MISSING:
                stated = cached_date(birth_text)
            if stated is None:
                errors.append((col["birth_date"], f"出生日期“{birth_text}”无法识别（应为 1985-03-12）"))
            elif born is not None and stated != born:
                errors.append((col["birth_date"], "出生日期与身份证件号不一致"))

        work_start = school_join = None
        if work_text:
            work_start = _MONTH.get(work_text, _MISSING)
            if work_start is _MISSING:
                work_start = cached_date(work_text, True)
            if work_start is None:
                errors.append((col["work_start"], f"“{col['work_start']}”的值“{work_text}”无法识别（应为 2010-09）"))
            elif born is not None and work_start <= born:
                errors.append((col["work_start"], "参加工作年月早于出生日期"))
        if join_text:
            school_join = _MONTH.get(join_text, _MISSING)
            if school_join is _MISSING:
                school_join = cached_date(join_text, True)
            if school_join is None:
                errors.append((col["school_join"], f"“{col['school_join']}”的值“{join_text}”无法识别（应为 2010-09）"))

        if not establishment or establishment in YES:
            on_establishment = True
        elif establishment in NO:
            on_establishment = False
        else:
            on_establishment = True
            errors.append((col["on_establishment"], f"是否在编应为“是”或“否”，实际为“{establishment}”"))

        stage = _STAGES.get(stage_text)
        if stage is None and stage_text:
            errors.append((col["stage"], f"无法识别的任教学段“{stage_text}”"))
        subject = _SUBJECTS.get(subject_text)
        if subject is None and subject_text:
            errors.append((col["subject"], f"无法识别的任教学科“{subject_text}”"))
        title = _TITLES.get(title_text)
        if title is None:
            errors.append((col["title"], f"无法识别的专业技术职务“{title_text}”"))

        if errors:
            return None, errors
        return (
            ParsedRow(
                (
                    national_id,
                    name,
                    former_name,
                    gender,
                    born,
                    ethnicity,
                    political_status,
                    work_start,
                    school_join,
                    staff_source,
                    staff_category,
                    on_establishment,
                    employment_form,
                    contract,
                    education,
                    title,
                    stage,
                    subject,
                ),
                school_code,
            ),
            [],
        )


_PARSERS: dict[tuple, RowParser] = {}


def parse_row_values(row: dict) -> dict:
    """One row keyed by national-system headers (or field names) as Teacher field values.

    Raises RowError on the first problem. ``school_code`` stays in the result for the caller
    to resolve. Used by the demo and scale seeds; the import uses ``RowParser`` directly.
    """
    keys = tuple(CANONICAL.get(k, k) if k in HEADERS else k for k in row)
    parser = _PARSERS.get(keys)
    if parser is None:
        parser = _PARSERS[keys] = RowParser(list(keys))
    if parser.missing_required:
        raise RowError(parser.missing_required[0], f"“{parser.missing_required[0]}”不能为空")
    parsed, errors = parser.parse([_text(v) for v in row.values()])
    if parsed is None:
        column, message = errors[0]
        raise RowError(column, message)
    values = dict(zip(STAGED_FIELDS, parsed.values))
    values["school_code"] = parsed.school_code
    return values


def _text(value) -> str:
    """A spreadsheet cell as text: dates as ISO, whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# --- files -----------------------------------------------------------------------------------


@dataclass
class Sheet:
    """An opened upload: the header row, then ``rows`` yields (line number, list of cell texts)."""

    parser: RowParser
    header_line: int
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    estimated_rows: int = 0
    closers: list = field(default_factory=list)
    path: str = ""  # CSV only (see ``second_half``)
    delimiter: str = ","
    layout: Layout | None = None

    def close(self) -> None:
        for close in self.closers:
            close()
        self.closers.clear()


def detect_encoding(path, *, head_only: bool = False) -> str:
    """'utf-8-sig', 'utf-16' or 'gb18030', checked over the whole file without holding it (or
    over its first MiB only, enough to read the header)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        for encoding in ("utf-8-sig", "gb18030"):
            fh.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                    if head_only:
                        break
                else:
                    decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    raise FileProblem("文件编码无法识别，请保存为 UTF-8 或 GBK 编码的 CSV，或 xlsx 文件")


@dataclass(frozen=True)
class Layout:
    """What one pass over a CSV file's bytes tells: its line breaks, whether every line is one
    record (no quote character — a quoted cell may hold a line break —, no NUL, no bare CR),
    and the byte offset just after the line break nearest the middle, with the number of the
    line that starts there."""

    lines: int
    plain: bool
    middle: int
    middle_line: int


def _layout(path, encoding: str) -> Layout:
    lines, pos, middle, middle_line, cr_before = 0, 0, 0, 0, False
    # A newline byte is a line break in UTF-8 and GB18030, not in UTF-16.
    plain = encoding in ("utf-8-sig", "gb18030")
    half = os.path.getsize(path) // 2
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if plain:
                if cr_before and not chunk.startswith(b"\n"):
                    plain = False
                cr_before = chunk.endswith(b"\r")  # a CRLF split across two reads
                bare = _BARE_CR.search(chunk)  # a CR ending the chunk is checked with the next one
                if b'"' in chunk or b"\0" in chunk or (bare is not None and bare.start() != len(chunk) - 1):
                    plain = False
            if not middle and pos + len(chunk) > half and (cut := chunk.find(b"\n", max(half - pos, 0))) >= 0:
                middle = pos + cut + 1
                middle_line = lines + chunk.count(b"\n", 0, cut + 1) + 1
            lines += chunk.count(b"\n")
            pos += len(chunk)
    return Layout(lines, plain and not cr_before, middle if middle < pos else 0, middle_line)


HEADER_SEARCH_LINES = 10


def _is_header(values) -> bool:
    return sum(1 for v in values if _clean_header(v) in HEADER_LOOKUP) >= 2


def _delimiter(lines: list[str]) -> str:
    """Comma or tab: the one with which one of a CSV file's first lines reads as the header (a
    title line above it may hold neither, or the other), the commoner one first; else the one
    those lines hold more of."""
    ranked = sorted((",", "\t"), key=lambda d: -sum(line.count(d) for line in lines))
    for delimiter in ranked:
        try:
            if any(_is_header(values) for values in csv.reader(lines, delimiter=delimiter)):
                return delimiter
        except csv.Error:  # reported with its line when the file is read
            break
    return ranked[0]


def _find_header(records: Iterator[tuple[int, list]]) -> tuple[int, list]:
    """The header is the first row naming at least two known columns (a title row may precede it)."""
    first = None
    for _ in range(HEADER_SEARCH_LINES):
        try:
            line, values = next(records)
        except StopIteration:
            break
        if first is None and any(_text(v).strip() for v in values):
            first = (line, values)
        if _is_header(values):
            return line, values
    if first is None:
        raise FileProblem("文件为空")
    return first


def _records(reader, start: int) -> Iterator[tuple[int, list[str]]]:
    line = start - 1
    try:
        for line, values in enumerate(reader, start=start):
            yield line, values
    except csv.Error as exc:
        raise FileProblem(f"第{line + 1}行格式错误，无法继续读取（{exc}）") from None


def _non_blank(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    for line, values in records:
        # Skip blank lines; the first cell decides for almost every row without a scan.
        if values and (values[0].strip() or any(v.strip() for v in values)):
            yield line, values


def _split_lines(fh, delimiter: str, start: int) -> Iterator[tuple[int, list[str]]]:
    """Records of a file in which every line is one record (``Layout.plain``): splitting a line
    is what the csv module would do with it, at a fraction of the cost."""
    for line, text in enumerate(fh, start=start):
        yield line, text.rstrip("\r\n").split(delimiter)


def read_csv(path, *, header_only: bool = False) -> Sheet:
    encoding = detect_encoding(path, head_only=header_only)
    layout = None if header_only else _layout(path, encoding)
    fh = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by Sheet.close / the generator
    try:
        sample = [line for line in (fh.readline() for _ in range(HEADER_SEARCH_LINES)) if line]
        fh.seek(0)
        delimiter = _delimiter(sample)
        stream = _records(csv.reader(fh, delimiter=delimiter), 1)
        header_line, headers = _find_header(stream)
    except Exception:
        fh.close()
        raise
    if layout is not None and layout.plain:
        # The csv reader took whole lines up to the header (no read-ahead): go on line by line.
        stream = _split_lines(fh, delimiter, header_line + 1)

    def rows():
        try:
            yield from _non_blank(stream)
        finally:
            fh.close()

    return Sheet(
        parser=RowParser(headers),
        header_line=header_line,
        rows=rows(),
        encoding=encoding,
        estimated_rows=max(layout.lines - header_line, 0) if layout else 0,
        closers=[fh.close],
        path=str(path),
        delimiter=delimiter,
        layout=layout,
    )


@dataclass(frozen=True)
class Half:
    """The second half of a CSV upload, readable on its own: from byte ``offset``, which starts line ``line``."""

    path: str
    encoding: str
    delimiter: str
    offset: int
    line: int

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, "rb") as raw:
            raw.seek(self.offset)
            with io.TextIOWrapper(raw, encoding=self.encoding, newline="") as fh:
                yield from _non_blank(_split_lines(fh, self.delimiter, self.line))


def second_half(sheet: Sheet) -> Half | None:
    """The second half of a CSV upload whose lines are all records, cut after the line break
    nearest the middle, to be read on its own (by a second process); None for other files."""
    layout = sheet.layout
    if layout is None or not layout.plain or not layout.middle or layout.middle_line <= sheet.header_line + 1:
        return None
    return Half(sheet.path, sheet.encoding, sheet.delimiter, layout.middle, layout.middle_line)


def read_xlsx(path) -> Sheet:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a readable xlsx"
        raise FileProblem("无法读取该 Excel 文件，请确认是 xlsx 格式且未加密") from None
    try:
        sheet = workbook.worksheets[0]
        estimated = max((sheet.max_row or 0) - 1, 0)
        stream = ((line, list(cells)) for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1))
        header_line, headers = _find_header(stream)
    except FileProblem:
        workbook.close()
        raise
    parser = RowParser([_text(h) for h in headers])
    id_index = parser.index.get("national_id")

    def rows():
        try:
            for line, cells in stream:
                if not any(c is not None and _text(c).strip() for c in cells):
                    continue
                texts = [_text(c) for c in cells]
                if id_index is not None and id_index < len(cells) and isinstance(cells[id_index], (int, float)):
                    # Excel keeps 15 significant digits: an ID stored as a number has lost its tail.
                    value = cells[id_index]
                    texts[id_index] = f"{value:.15g}" if isinstance(value, float) else str(value)
                yield line, texts
        finally:
            workbook.close()

    return Sheet(
        parser=parser,
        header_line=header_line,
        rows=rows(),
        encoding="xlsx",
        estimated_rows=estimated,
        closers=[workbook.close],
    )


def open_upload(name: str, path, *, header_only: bool = False) -> Sheet:
    """The upload opened for reading; ``header_only`` when only the header row will be read (the
    upload's check: a CSV file's encoding is then judged by its start, and its lines not counted)."""
    lower = (name or "").lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(path)
    if lower.endswith((".csv", ".txt")):
        return read_csv(path, header_only=header_only)
    if lower.endswith(".xls"):
        raise FileProblem("不支持旧版 .xls 文件，请在 Excel/WPS 中另存为 .xlsx 或 .csv 后上传")
    raise FileProblem("只支持 .xlsx 或 .csv 文件")


def read_upload(name: str, path) -> Sheet:
    """Backwards-compatible name for ``open_upload``."""
    return open_upload(name, path)
