"""Synthetic teachers for the demo, the scale data set and benchmarks (deterministic with the rng)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from peixun.core.choices import Stage, Subject, Title
from peixun.core.demodata import GIVEN, SURNAMES
from peixun.core.ids import make_national_id

SUBJECTS_BY_STAGE = {
    Stage.KINDERGARTEN: [Subject.PRESCHOOL],
    Stage.PRIMARY: [Subject.CHINESE] * 4
    + [Subject.MATH] * 3
    + [Subject.ENGLISH, Subject.SCIENCE, Subject.MUSIC, Subject.ART, Subject.PE, Subject.POLITICS, Subject.IT],
    Stage.JUNIOR: [
        Subject.CHINESE,
        Subject.CHINESE,
        Subject.MATH,
        Subject.MATH,
        Subject.ENGLISH,
        Subject.PHYSICS,
        Subject.CHEMISTRY,
        Subject.BIOLOGY,
        Subject.HISTORY,
        Subject.GEOGRAPHY,
        Subject.POLITICS,
        Subject.PE,
        Subject.PSYCHOLOGY,
    ],
    Stage.SENIOR: [
        Subject.CHINESE,
        Subject.MATH,
        Subject.ENGLISH,
        Subject.PHYSICS,
        Subject.CHEMISTRY,
        Subject.BIOLOGY,
        Subject.HISTORY,
        Subject.GEOGRAPHY,
        Subject.POLITICS,
        Subject.IT,
        Subject.PE,
    ],
    Stage.VOCATIONAL: [Subject.CHINESE, Subject.MATH, Subject.ENGLISH, Subject.IT, Subject.OTHER],
    Stage.SPECIAL: [Subject.SPECIAL],
}
TITLE_WEIGHTS = [
    (Title.NONE, 8),
    (Title.JUNIOR, 30),
    (Title.INTERMEDIATE, 40),
    (Title.ASSOCIATE_SENIOR, 20),
    (Title.SENIOR, 2),
]
# How the national system spells these values.
STAGE_TEXT = {
    Stage.KINDERGARTEN: "幼儿园",
    Stage.PRIMARY: "小学",
    Stage.JUNIOR: "初中",
    Stage.SENIOR: "高中",
    Stage.VOCATIONAL: "中职",
    Stage.SPECIAL: "特殊教育",
}
SUBJECT_TEXT = {s: str(s.label) for s in Subject}
SUBJECT_TEXT.update(
    {
        Subject.CHINESE: "语文",
        Subject.MATH: "数学",
        Subject.ENGLISH: "英语",
        Subject.PHYSICS: "物理",
        Subject.CHEMISTRY: "化学",
        Subject.BIOLOGY: "生物",
        Subject.SCIENCE: "科学",
        Subject.HISTORY: "历史",
        Subject.GEOGRAPHY: "地理",
        Subject.POLITICS: "道德与法治",
        Subject.MUSIC: "音乐",
        Subject.ART: "美术",
        Subject.PE: "体育与健康",
        Subject.IT: "信息技术",
        Subject.LABOUR: "劳动",
        Subject.PSYCHOLOGY: "心理健康",
        Subject.PRESCHOOL: "学前教育",
        Subject.SPECIAL: "特殊教育",
        Subject.MANAGEMENT: "管理",
        Subject.OTHER: "其他",
    }
)
TITLE_TEXT = {
    Title.NONE: "未评",
    Title.JUNIOR: "中小学二级教师",
    Title.INTERMEDIATE: "中小学一级教师",
    Title.ASSOCIATE_SENIOR: "中小学高级教师",
    Title.SENIOR: "正高级教师",
}
EDUCATION = ["本科", "本科", "本科", "硕士研究生", "专科", "博士研究生"]
ETHNICITY = ["汉族"] * 18 + ["回族", "畲族"]
POLITICS = ["中共党员", "群众", "群众", "共青团员", "民盟盟员"]


def national_rows(rng: random.Random, schools: Sequence, count: int, *, start_seq: int = 0) -> Iterator[dict]:
    """Rows as the national teacher information system exports them (Chinese headers).

    ``schools`` are objects with ``code``, ``stage_list`` and ``county.code`` (or
    ``county_code``). IDs are unique across a run because the sequence number is encoded
    in the birth date and sequence digits.
    """
    titles, weights = zip(*TITLE_WEIGHTS)
    for n in range(count):
        school = schools[n % len(schools)]
        stage = rng.choice(school.stage_list)
        subject = rng.choice(SUBJECTS_BY_STAGE[Stage(stage)])
        seq = start_seq + n
        # (birth date, sequence) is a bijection of seq, so IDs never collide (up to ~6.5M rows).
        block, offset = divmod(seq, 13000)
        born = date(1962, 1, 1) + timedelta(days=(offset * 37) % 13000)
        county_code = getattr(school, "county_code", None) or school.county.code
        national_id = make_national_id(county_code[:6].ljust(6, "0"), born, 2 * block + offset % 2 + 1)
        gender = "男" if int(national_id[16]) % 2 else "女"
        work_start = date(min(born.year + 22, 2024), rng.randint(7, 9), 1)
        title = rng.choices(titles, weights)[0]
        yield {
            "姓名": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))),
            "性别": gender,
            "身份证件类型": "居民身份证",
            "身份证件号": national_id,
            "出生日期": born.isoformat(),
            "民族": rng.choice(ETHNICITY),
            "政治面貌": rng.choice(POLITICS),
            "参加工作年月": work_start.strftime("%Y-%m"),
            "进本校年月": date(min(work_start.year + rng.randint(0, 10), 2024), 9, 1).strftime("%Y-%m"),
            "教职工来源": "录用应届毕业生",
            "教职工类别": "专任教师",
            "是否在编": "是" if rng.random() < 0.92 else "否",
            "用人形式": "合同制",
            "签订合同情况": "聘用合同",
            "学历": rng.choice(EDUCATION),
            "专业技术职务": TITLE_TEXT[title],
            "任教学段": STAGE_TEXT[Stage(stage)],
            "任教学科": SUBJECT_TEXT[Subject(subject)],
            "学校代码": school.code,
        }
