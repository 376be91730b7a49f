"""Scale data: a province of ~100 counties with one school per ``teachers_per_school`` teachers.

``seed_scale(ctx)`` is the first step of ``manage.py seed_scale``. Regions are created one by
one (a hundred rows); schools go in with ``core.bulkload.load_rows`` (COPY on PostgreSQL).
It leaves in ``ctx.data``: ``province``, ``cities``, ``counties`` and ``schools`` — light
``ScaleSchool`` records (id, code, county code, stages), not model instances, so 30,000 of
them cost little.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from peixun.core.bulkload import load_rows
from peixun.core.choices import join_codes
from peixun.core.demo_accounts import demo_user
from peixun.core.roles import Role

from .demo import SCHOOL_KINDS
from .models import Region, School

CITY_NAMES = ["东湖", "南浦", "西山", "北川", "临海", "青田", "云台", "白鹭", "金华山", "玉泉", "石门"]
COUNTY_SUFFIXES = ["上城区", "下城区", "江北区", "开发区", "东县", "西县", "南县", "北县", "山县", "岛县"]


@dataclass(frozen=True)
class ScaleSchool:
    pk: int
    code: str
    county_code: str
    stages: str

    @property
    def stage_list(self) -> list[str]:
        return [s for s in self.stages.split(",") if s]


def seed_scale(ctx) -> None:
    teachers = int(ctx.data.get("teacher_count", 600_000))
    per_school = max(1, int(ctx.data.get("teachers_per_school", 20)))
    n_counties = max(1, int(ctx.data.get("county_count", 100)))
    n_schools = max(1, -(-teachers // per_school))

    province = Region.objects.create(name="示范省", code="990000", level=Region.Level.PROVINCE)
    cities, counties = [], []
    per_city = -(-n_counties // len(CITY_NAMES))
    for c, city_name in enumerate(CITY_NAMES, start=1):
        if len(counties) >= n_counties:
            break
        city = Region.objects.create(
            name=f"{city_name}市", code=f"99{c:02d}00", level=Region.Level.CITY, parent=province
        )
        cities.append(city)
        for k in range(1, per_city + 1):
            if len(counties) >= n_counties:
                break
            suffix = COUNTY_SUFFIXES[(k - 1) % len(COUNTY_SUFFIXES)]
            counties.append(
                Region.objects.create(
                    name=f"{city_name}{suffix}", code=f"99{c:02d}{k:02d}", level=Region.Level.COUNTY, parent=city
                )
            )

    now = timezone.now()
    rng = ctx.rng

    def rows():
        for i in range(n_schools):
            county = counties[i % len(counties)]
            kind, stages = SCHOOL_KINDS[(i // len(counties)) % len(SCHOOL_KINDS)]
            number = i // len(counties) + 1
            yield (
                f"{county.code}{number:05d}",
                f"{county.name}第{number}{kind}",
                county.pk,
                county.parent_id,
                join_codes(stages),
                rng.random() < 0.35,
                rng.random() < 0.05,
                "",
                True,
                now,
            )

    fields = (
        "code",
        "name",
        "county_id",
        "city_id",
        "stages",
        "is_rural",
        "is_remote",
        "address",
        "is_active",
        "created_at",
    )
    load_rows(School, fields, rows())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {School._meta.db_table}")
    codes = {c.pk: c.code for c in counties}
    schools = [
        ScaleSchool(pk, code, codes[county_id], stages)
        for pk, code, county_id, stages in School.objects.order_by("pk").values_list(
            "pk", "code", "county_id", "stages"
        )
    ]
    ctx.data.update(province=province, cities=cities, counties=counties, schools=schools)

    first_school = School.objects.get(pk=schools[0].pk)
    demo_user("scale_province", "省培训中心（规模数据）", role=Role.PROVINCE, region=province)
    ctx.login(Role.PROVINCE.label, "scale_province", province.name)
    demo_user("scale_county", f"{counties[0].name}教育局", role=Role.COUNTY, region=counties[0])
    ctx.login(Role.COUNTY.label, "scale_county", counties[0].full_name)
    demo_user("scale_school", f"{first_school.name}管理员", role=Role.SCHOOL, school=first_school)
    ctx.login(Role.SCHOOL.label, "scale_school", first_school.name)
