import os
import shutil
import subprocess
from pathlib import Path

import factory
import pytest

from tests import factories
from tests.factories import (
    CountyFactory,
    InstitutionFactory,
    ProvinceFactory,
    SchoolFactory,
)


def pytest_configure(config):
    """Compile any catalogue newer than its .mo, so a plain `pytest` sees current translations."""
    if shutil.which("msgfmt") is None:
        return
    compiled = False
    for po in Path(__file__).parent.glob("peixun/*/locale/*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
            compiled = True
    if compiled:
        # pytest-django has already set Django up, and importing the apps may have loaded the old
        # catalogues: drop them so this run reads the ones just compiled.
        import gettext

        from asgiref.local import Local
        from django.utils.translation import trans_real

        gettext._translations.clear()  # Python caches each .mo file it has read
        trans_real._translations = {}
        trans_real._default = None
        trans_real._active = Local()


def _factories() -> list[type[factory.Factory]]:
    return [
        value
        for value in vars(factories).values()
        if isinstance(value, type) and issubclass(value, factory.Factory) and not value._meta.abstract
    ]


@pytest.fixture(autouse=True)
def _fresh_factory_sequences():
    """Every factory's sequence (教师<n>, user<n>, class numbers…) starts at 0 in each test.

    The counters are process-wide: without this a test's names and numbers depend on how many rows
    the tests run before it in the same process made (which files share a worker under xdist), and a
    test that assumed an order (教师9, 教师10 sort as text) or a free number failed by chance.
    """
    for model_factory in _factories():
        model_factory.reset_sequence(0, force=True)


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
