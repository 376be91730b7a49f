"""The zh-hans catalogue is complete: every translatable string in the code has a translation."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_catalogue_complete(tmp_path):
    # Work on a copy so the test never rewrites the checked-in catalogues.
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "peixun", copy / "peixun", ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    subprocess.run([sys.executable, "scripts/i18n.py", "update"], cwd=copy, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "scripts/i18n.py", "missing"], cwd=copy, capture_output=True, text=True)
    assert result.returncode == 0, "untranslated strings (run `make messages` and translate):\n" + result.stdout


def test_default_language_is_simplified_chinese(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Sign in") == "登录"
