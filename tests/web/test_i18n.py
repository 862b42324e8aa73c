"""German first, English second: every text the pages show has its English."""

from __future__ import annotations

import re
from pathlib import Path

from dispatch.web import forms, i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "dispatch" / "web" / "templates"
CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
#: Choices written as ("value", "German label") pairs and passed through _(label).
PAIR = re.compile(r'\("[a-z_:]*", "([^"]+)"\)')
DAYS = re.compile(r'\[("(?:Mo|Montag)".*?)\]')


def page_texts() -> set[str]:
    texts: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        texts |= {a or b for a, b in CALL.findall(source)}
        texts |= set(PAIR.findall(source))
        for days in DAYS.findall(source):
            texts |= set(re.findall(r'"([^"]+)"', days))
    texts |= set(forms.MESSAGES.values())
    for table in (i18n.STATUS_DE, i18n.MODE_DE, i18n.LEVEL_DE, i18n.TRAVEL_DE, i18n.SCORE_PART_DE):
        texts |= set(table.values())
    return texts


def test_every_page_text_has_an_english_translation() -> None:
    texts = page_texts()
    assert len(texts) > 250
    missing = sorted(t for t in texts if t not in i18n.EN)
    assert missing == []


def test_placeholders_survive_translation() -> None:
    for german, english in i18n.EN.items():
        assert german.count("%(n)s") == english.count("%(n)s"), german


def test_german_is_the_default_and_unknown_languages_fall_back_to_it() -> None:
    assert i18n.translate("Anmelden", "de") == "Anmelden"
    assert i18n.translate("Anmelden", "en") == "Sign in"
    assert i18n.translate("Anmelden", "xx") == "Anmelden"
