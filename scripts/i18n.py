#!/usr/bin/env python
"""Maintain the per-app zh_Hans catalogues (peixun/<app>/locale/zh_Hans/LC_MESSAGES/django.po).

  python scripts/i18n.py update      # makemessages for every app, then fill empty entries
                                     # with translations already made in any app
  python scripts/i18n.py missing     # print msgids that still lack a translation (exit 1 if any)
  python scripts/i18n.py apply FILE  # FILE has lines "msgid<TAB>translation" (\\n for newlines)

Django merges all apps' catalogues, so a msgid needs translating once; ``update`` copies
it into every catalogue that uses it. The test suite runs ``missing`` after ``update``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def catalogues() -> list[Path]:
    """Every app with a locale/ directory has (or gets, on update) a catalogue."""
    return sorted(p / "zh_Hans/LC_MESSAGES/django.po" for p in (ROOT / "peixun").glob("*/locale") if p.is_dir())


def _translated(entry: polib.POEntry) -> bool:
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def known_translations() -> dict[str, polib.POEntry]:
    known: dict[str, polib.POEntry] = {}
    for path in catalogues():
        if not path.exists():
            continue
        for entry in polib.pofile(str(path)):
            if entry.msgid and _translated(entry):
                known.setdefault(entry.msgid, entry)
    return known


def fill(path: Path, known: dict[str, polib.POEntry]) -> None:
    po = polib.pofile(str(path), wrapwidth=0)
    for entry in po:
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.msgstr_plural = dict.fromkeys(entry.msgstr_plural, "") if entry.msgid_plural else {}
            entry.previous_msgid = None
        if _translated(entry) or entry.msgid not in known:
            continue
        source = known[entry.msgid]
        if entry.msgid_plural:
            value = source.msgstr_plural.get(0) or source.msgstr
            entry.msgstr_plural = {0: value}
        else:
            entry.msgstr = source.msgstr or source.msgstr_plural.get(0, "")
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.save(str(path))


def makemessages() -> None:
    for path in catalogues():
        app = path.parents[3]
        subprocess.run(
            [
                PYTHON,
                str(ROOT / "manage.py"),
                "makemessages",
                "-l",
                "zh_Hans",
                "--no-obsolete",
                "--no-wrap",
                "--no-location",
                "-v",
                "0",
            ],
            cwd=app,
            check=True,
        )


def missing() -> list[str]:
    known = known_translations()
    left = set()
    for path in catalogues():
        if not path.exists():
            continue
        for entry in polib.pofile(str(path)):
            if entry.msgid and not _translated(entry) and entry.msgid not in known:
                left.add(entry.msgid)
    return sorted(left)


def fill_all(extra: dict[str, polib.POEntry] | None = None) -> None:
    known = known_translations()
    if extra:
        known.update(extra)
    for path in catalogues():
        if path.exists():
            fill(path, known)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "missing"
    if command == "update":
        makemessages()
        fill_all()
        print(f"{len(missing())} msgids without translation")
        return 0
    if command == "apply":
        extra = {}
        for line in Path(argv[2]).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                src, dst = line.split("\t", 1)
                entry = polib.POEntry(msgid=src.replace("\\n", "\n"), msgstr=dst.replace("\\n", "\n"))
                extra[entry.msgid] = entry
        fill_all(extra)
        print(f"{len(missing())} msgids without translation")
        return 0
    if command == "missing":
        left = missing()
        for msgid in left:
            print(msgid.replace("\n", "\\n"))
        return 1 if left else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
