from datetime import timedelta

from peixun.core.choices import Stage, SubjectCategory, join_codes
from peixun.core.demo_accounts import demo_user
from peixun.core.roles import Role

from .models import Institution, Region, School

CITIES = {
    "东湖市": ("990100", ["上城区", "西岭区", "临江县", "青山县"]),
    "南浦市": ("990200", ["浦江区", "海宁县", "云岭县", "白沙岛县"]),
}
REMOTE_COUNTIES = {"云岭县", "白沙岛县", "青山县"}
SCHOOL_KINDS = [
    ("实验小学", [Stage.PRIMARY]),
    ("第一中学", [Stage.JUNIOR, Stage.SENIOR]),
    ("中心幼儿园", [Stage.KINDERGARTEN]),
    ("第二小学", [Stage.PRIMARY]),
    ("初级中学", [Stage.JUNIOR]),
    ("中心小学", [Stage.PRIMARY]),
    ("职业技术学校", [Stage.VOCATIONAL]),
    ("特殊教育学校", [Stage.SPECIAL]),
    ("九年一贯制学校", [Stage.PRIMARY, Stage.JUNIOR]),
    ("高级中学", [Stage.SENIOR]),
]
ALL_CATEGORIES = list(SubjectCategory.values)


def seed(ctx) -> None:
    province = Region.objects.create(name=ctx.data.get("province_name", "示范省"), code="990000", level="province")
    cities, counties, schools = [], [], []
    for city_name, (city_code, county_names) in CITIES.items():
        city = Region.objects.create(name=city_name, code=city_code, level="city", parent=province)
        cities.append(city)
        for i, county_name in enumerate(county_names, start=1):
            county = Region.objects.create(
                name=county_name, code=f"{city_code[:4]}{i:02d}", level="county", parent=city
            )
            counties.append(county)
            for j, (kind, stages) in enumerate(SCHOOL_KINDS, start=1):
                rural = j in (6, 9) or county_name in REMOTE_COUNTIES and j % 2 == 0
                schools.append(
                    School.objects.create(
                        code=f"{county.code}{j:03d}",
                        name=f"{county_name}{kind}",
                        county=county,
                        stages=join_codes(stages),
                        is_rural=rural,
                        is_remote=county_name in REMOTE_COUNTIES,
                    )
                )
    today = ctx.today
    institutions = [
        ("I001", "示范师范大学", Institution.Type.FLAGSHIP, 3000, ALL_CATEGORIES, True, True, True),
        ("I002", "东湖师范学院", Institution.Type.FLAGSHIP, 2800, ALL_CATEGORIES, True, True, True),
        (
            "I003",
            "南浦大学教师教育学院",
            Institution.Type.UNIVERSITY,
            2000,
            ["language", "math", "science", "humanities"],
            True,
            False,
            True,
        ),
        ("I004", "省教育科学研究院培训中心", Institution.Type.PROVINCIAL, 2500, ALL_CATEGORIES, True, True, True),
        ("I005", "省远程教育培训中心", Institution.Type.REMOTE, 1500, ALL_CATEGORIES, True, True, True),
        (
            "I006",
            "东湖市上城区教师进修学校",
            Institution.Type.COUNTY_SCHOOL,
            1800,
            ["language", "math", "general", "moral_psy"],
            False,
            False,
            False,
        ),
        (
            "I007",
            "南浦市浦江区教师发展中心",
            Institution.Type.COUNTY_SCHOOL,
            1600,
            ["language", "math", "science", "general"],
            False,
            True,
            False,
        ),
        ("I008", "新星教师发展研究院", Institution.Type.PROVINCIAL, 120, ["it", "general"], False, True, False),
        ("I009", "示范艺术体育培训中心", Institution.Type.UNIVERSITY, 900, ["arts_pe", "general"], True, False, True),
        (
            "I010",
            "幼教与特教研修中心",
            Institution.Type.PROVINCIAL,
            1100,
            ["preschool", "special_ed", "general"],
            False,
            False,
            True,
        ),
    ]
    created = []
    for code, name, kind, days_ago, scope, blended, online, orders in institutions:
        region = counties[0] if code == "I006" else counties[4] if code == "I007" else None
        created.append(
            Institution.objects.create(
                code=code,
                name=name,
                type=kind,
                region=region,
                qualified_on=today - timedelta(days=days_ago),
                qualification_scope=join_codes(scope),
                province_wide=kind != Institution.Type.COUNTY_SCHOOL,
                may_blended=blended,
                may_online=online,
                may_take_orders=orders and days_ago >= 365,
                contact_person=ctx.chinese_name(),
                contact_phone=f"0571-8{ctx.rng.randint(1000000, 9999999)}",
            )
        )
    ctx.data.update(province=province, cities=cities, counties=counties, schools=schools, institutions=created)

    demo_user("demo_province", "省培训中心管理员", role=Role.PROVINCE, region=province)
    ctx.login(Role.PROVINCE.label, "demo_province")
    demo_user("demo_city", "东湖市教育局", role=Role.CITY, region=cities[0])
    ctx.login(Role.CITY.label, "demo_city", cities[0].name)
    demo_user("demo_county", "上城区教育局", role=Role.COUNTY, region=counties[0])
    ctx.login(Role.COUNTY.label, "demo_county", counties[0].name)
    for i, county in enumerate(counties[1:], start=2):
        demo_user(f"demo_county{i}", f"{county.name}教育局", role=Role.COUNTY, region=county)
    ctx.login(Role.COUNTY.label, "demo_county2 … demo_county8", "其他区县")
    demo_user("demo_institution", "示范师范大学培训处", role=Role.INSTITUTION, institution=created[0])
    ctx.login(Role.INSTITUTION.label, "demo_institution", created[0].name)
    for i, institution in enumerate(created[1:], start=2):
        demo_user(f"demo_inst{i}", institution.name, role=Role.INSTITUTION, institution=institution)
    ctx.login(Role.INSTITUTION.label, "demo_inst2 … demo_inst10", "其他机构")
    demo_user("demo_inst_reviewer", "示范师范大学成绩审核员", role=Role.INSTITUTION_REVIEWER, institution=created[0])
    ctx.login(Role.INSTITUTION_REVIEWER.label, "demo_inst_reviewer", created[0].name)
    demo_user("demo_expert", "评审专家", role=Role.EXPERT, region=province)
    ctx.login(Role.EXPERT.label, "demo_expert")
    demo_user("demo_monitor", "质量监测中心", role=Role.MONITOR, region=province)
    ctx.login(Role.MONITOR.label, "demo_monitor")
    demo_user("demo_auditor", "审计员", role=Role.AUDITOR, region=province)
    ctx.login(Role.AUDITOR.label, "demo_auditor")
