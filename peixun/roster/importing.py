"""Reading the national teacher information system's export: headers, values, row checks.

Headers are matched by name (with known aliases); column order does not matter and
unknown columns are ignored with a notice. Every problem is reported in Chinese with
the file's line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from peixun.core.choices import Stage, Subject, Title
from peixun.core.ids import birth_date_from_id, national_id_problem, normalize_national_id

# field -> accepted header spellings (first is the canonical one, used in the template)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "former_name": ("曾用名",),
    "gender": ("性别",),
    "id_type": ("身份证件类型", "证件类型"),
    "national_id": ("身份证件号", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
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
HEADER_LOOKUP = {alias: field for field, aliases in HEADERS.items() for alias in aliases}
TEMPLATE_HEADERS = [aliases[0] for aliases in HEADERS.values()]

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
    "中小学一级教师": Title.INTERMEDIATE,
    "一级教师": Title.INTERMEDIATE,
    "中小学高级教师": Title.ASSOCIATE_SENIOR,
    "高级教师": Title.ASSOCIATE_SENIOR,
    "副高级": Title.ASSOCIATE_SENIOR,
    "正高级教师": Title.SENIOR,
    "正高级": Title.SENIOR,
}
GENDER_ALIASES = {"男": "M", "女": "F", "1": "M", "2": "F"}
YES = {"是", "在编", "Y", "y", "1", "true", "True"}


class RowError(ValueError):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def _date(value: str, column: str, *, month_only: bool = False) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    if isinstance(value, (date, datetime)):
        return value.date() if isinstance(value, datetime) else value
    text = value.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "").strip("-")
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y%m%d", "%Y%m", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed.replace(day=1) if month_only else parsed
    raise RowError(column, f"日期格式无法识别：{value}（应为 2020-09 或 2020-09-01）")


def _cell(row: dict, field: str) -> str:
    value = row.get(field)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_row_values(row: dict) -> dict:
    """Turn one row (keyed by national-system headers or by field names) into Teacher field values.

    Raises RowError on the first problem. ``school_code`` stays in the result as a key for
    the caller to resolve.
    """
    by_field = {HEADER_LOOKUP.get(k, k): v for k, v in row.items() if k is not None}
    get = lambda f: _cell(by_field, f)  # noqa: E731
    for field in REQUIRED:
        if not get(field):
            raise RowError(HEADERS[field][0], f"“{HEADERS[field][0]}”不能为空")
    id_type = get("id_type")
    if id_type and id_type not in ("居民身份证", "身份证", "中华人民共和国居民身份证"):
        raise RowError("身份证件类型", f"暂不支持证件类型“{id_type}”，请使用居民身份证")
    national_id = normalize_national_id(get("national_id"))
    problem = national_id_problem(national_id)
    if problem:
        raise RowError("身份证件号", problem)
    name = get("name")
    if len(name) > 40:
        raise RowError("姓名", "姓名过长（最多40个字）")
    gender_text = get("gender")
    if gender_text:
        gender = GENDER_ALIASES.get(gender_text)
        if gender is None:
            raise RowError("性别", f"性别应为“男”或“女”，实际为“{gender_text}”")
    else:
        gender = "M" if int(national_id[16]) % 2 else "F"
    birth = _date(get("birth_date"), "出生日期") or birth_date_from_id(national_id)
    if birth != birth_date_from_id(national_id):
        raise RowError("出生日期", "出生日期与身份证件号不一致")
    stage = STAGE_ALIASES.get(get("stage"))
    if stage is None:
        raise RowError("任教学段", f"无法识别的任教学段“{get('stage')}”")
    subject = SUBJECT_ALIASES.get(get("subject"))
    if subject is None:
        raise RowError("任教学科", f"无法识别的任教学科“{get('subject')}”")
    title = TITLE_ALIASES.get(get("title"))
    if title is None:
        raise RowError("专业技术职务", f"无法识别的专业技术职务“{get('title')}”")
    return {
        "national_id": national_id,
        "name": name,
        "former_name": get("former_name")[:40],
        "gender": gender,
        "birth_date": birth,
        "ethnicity": get("ethnicity")[:20],
        "political_status": get("political_status")[:20],
        "work_start": _date(get("work_start"), "参加工作年月", month_only=True),
        "school_join": _date(get("school_join"), "进本校年月", month_only=True),
        "staff_source": get("staff_source")[:40],
        "staff_category": get("staff_category")[:40],
        "on_establishment": get("on_establishment") in YES if get("on_establishment") else True,
        "employment_form": get("employment_form")[:40],
        "contract": get("contract")[:40],
        "education": get("education")[:40],
        "title": str(title),
        "stage": str(stage),
        "subject": str(subject),
        "school_code": get("school_code"),
    }


@dataclass
class Sheet:
    """Rows of an uploaded file: ``rows`` yields (line number, dict keyed by header)."""

    headers: list[str]
    unknown_headers: list[str]
    missing_required: list[str]
    rows: Iterator[tuple[int, dict]]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RowError("", "文件编码无法识别，请保存为 UTF-8 或 GBK 编码的 CSV，或 xlsx 文件")


def _sheet(headers: list[str], rows: Iterator[tuple[int, dict]]) -> Sheet:
    headers = [(h or "").strip() for h in headers]
    known = {HEADER_LOOKUP[h] for h in headers if h in HEADER_LOOKUP}
    return Sheet(
        headers=headers,
        unknown_headers=[h for h in headers if h and h not in HEADER_LOOKUP],
        missing_required=[HEADERS[f][0] for f in REQUIRED if f not in known],
        rows=rows,
    )


def read_csv(data: bytes) -> Sheet:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise RowError("", "文件为空") from None
    clean = [(h or "").strip() for h in headers]

    def rows():
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            yield line, dict(zip(clean, values))

    return _sheet(headers, rows())


def read_xlsx(path_or_file) -> Sheet:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure means "not a readable xlsx"
        raise RowError("", "无法读取该 Excel 文件，请确认是 xlsx 格式且未加密") from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        headers = [str(h).strip() if h is not None else "" for h in next(values)]
    except StopIteration:
        raise RowError("", "文件为空") from None

    def rows():
        for line, cells in enumerate(values, start=2):
            if not any(c not in (None, "") for c in cells):
                continue
            yield line, dict(zip(headers, cells))
        workbook.close()

    return _sheet(headers, rows())


def read_upload(name: str, path) -> Sheet:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(path)
    if lower.endswith(".csv") or lower.endswith(".txt"):
        with open(path, "rb") as fh:
            return read_csv(fh.read())
    raise RowError("", "只支持 .xlsx 或 .csv 文件")
