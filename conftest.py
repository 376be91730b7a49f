import os

import pytest

from tests.factories import (
    CountyFactory,
    InstitutionFactory,
    ProvinceFactory,
    SchoolFactory,
)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = True


@pytest.fixture
def province(db):
    return ProvinceFactory()


@pytest.fixture
def county(db, province):
    return CountyFactory(parent__parent=province)


@pytest.fixture
def other_county(db, province):
    return CountyFactory(parent__parent=province)


@pytest.fixture
def school(db, county):
    return SchoolFactory(county=county)


@pytest.fixture
def other_school(db, other_county):
    return SchoolFactory(county=other_county)


@pytest.fixture
def institution(db):
    return InstitutionFactory()


def pytest_collection_modifyitems(config, items):
    using_pg = os.environ.get("DATABASE_URL", "").startswith("postgres")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not using_pg:
            item.add_marker(skip_pg)
