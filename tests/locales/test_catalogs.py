"""The catalogs: complete, up to date with the source, and nothing shown outside them.

A text people read that is not in the catalogs, a catalog that lacks a German or
English translation (empty or fuzzy counts as missing), a mediator language that
lacks a text a mediator sees, or catalogs older than the code: each fails here.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

import locales
from notifications.templates import SPECS
from tests.catalog_texts import PLACEHOLDER, visible_texts

ROOT = Path(__file__).resolve().parents[2]
PAGE_TEMPLATES = [
    *sorted((ROOT / "dispatch" / "web" / "templates").rglob("*.html")),
    ROOT / "dispatch" / "offers" / "templates" / "offer.html",
]
MESSAGE_TEMPLATES = sorted((ROOT / "notifications" / "templates").glob("*.txt"))
#: Where the texts a mediator reads come from (besides the shared words checked on the
#: rendered pages in tests/offers/test_mediator_languages.py): the error page too, which
#: a link that no longer works or a form that expired shows in the phone's language.
MEDIATOR_SOURCES = {
    "dispatch/offers/templates/offer.html",
    "dispatch/web/templates/mediator/page.html",
    "dispatch/web/templates/error.html",
    "dispatch/web/templates/_coordinator_contact.html",
    "dispatch/offers/views.py",
    "notifications/templates/_parts.txt",
    *(f"notifications/templates/{s.kind}.txt" for s in SPECS.values() if s.audience == "mediator"),
}
#: Words a template may show without a catalog: the name of the service, the names of
#: the two page languages in themselves, units, file types, an example file reference.
NOT_TEXT = {"Sprachpool", "English", "Deutsch", "km", "ics", "CSV", "SMS", "JC"}


def catalog(locale: str) -> Catalog:
    return read_po(BytesIO(locales.catalog_text(locale)), locale=locale)


def key(message: Message) -> tuple[str | None, str]:
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def strings(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string or ())


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What `pybabel extract` finds in the source today, with the project's settings."""
    target = tmp_path_factory.mktemp("pot") / "messages.pot"
    import os

    here = Path.cwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(  # type: ignore[no-untyped-call]
            ["pybabel", "-q", "extract", "-F", "pyproject.toml", "-o", str(target)]
            + ["dispatch", "notifications", "config", "locales"]
        )
    finally:
        os.chdir(here)
    with target.open("rb") as handle:
        return read_po(handle)


def test_extraction_finds_the_pages_messages_and_python_texts(extracted: Catalog) -> None:
    files = {location[0] for message in extracted for location in message.locations}
    assert "dispatch/web/templates/base.html" in files
    assert "notifications/templates/offer.txt" in files
    assert "dispatch/offers/views.py" in files
    assert "config/languages.toml" in files  # the qualification names
    assert len([m for m in extracted if m.id]) > 400


@pytest.mark.parametrize("locale", locales.LOCALES)
def test_every_catalog_holds_exactly_the_texts_of_the_source(
    locale: str, extracted: Catalog
) -> None:
    """`pybabel extract` and `pybabel update` (README) bring a catalog up to date."""
    wanted = {key(m) for m in extracted if m.id}
    held = {key(m) for m in catalog(locale) if m.id}
    assert sorted(wanted - held, key=str) == [], "run pybabel extract && pybabel update"
    assert sorted(held - wanted, key=str) == [], "texts no longer in the source"


@pytest.mark.parametrize("locale", locales.STAFF_LOCALES)
def test_german_and_english_translate_every_text(locale: str) -> None:
    missing = [key(m) for m in catalog(locale) if m.id and (m.fuzzy or not all(strings(m)))]
    assert missing == []


@pytest.mark.parametrize(
    "locale", [lc for lc in locales.MEDIATOR_LOCALES if lc not in ("de", "en")]
)
def test_mediator_languages_translate_what_a_mediator_reads(locale: str) -> None:
    missing = [
        key(m)
        for m in catalog(locale)
        if m.id
        and {location[0] for location in m.locations} & MEDIATOR_SOURCES
        and (m.fuzzy or not all(strings(m)))
    ]
    assert missing == []


@pytest.mark.parametrize("locale", locales.LOCALES)
def test_translations_use_only_the_placeholders_of_their_text(locale: str) -> None:
    """A translation may leave a value out ("one more person"), never invent one."""
    for message in catalog(locale):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        allowed = {name for text in ids for name in PLACEHOLDER.findall(text)} | {"num"}
        for text in strings(message):
            assert set(PLACEHOLDER.findall(text)) <= allowed, (locale, message.id, text)
            assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), (locale, text)


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
#: Template parts that are markup, not text: blocks of CSS classes, a macro of attributes.
MARKUP = re.compile(
    r"\{%-?\s*block \w+_class\s*-?%\}.*?\{%-?\s*endblock\s*-?%\}"
    r"|\{%-?\s*macro described\b.*?\{%-?\s*endmacro\s*-?%\}",
    re.S,
)


def _shown_words(path: Path) -> list[str]:
    """Words of a template's own text, outside any `{{ _(...) }}`, that a person would read."""
    source = JINJA.sub(" ", MARKUP.sub(" ", path.read_text(encoding="utf-8")))
    texts = visible_texts(source, "page") if path.suffix == ".html" else [source]
    words = re.findall(r"[^\W\d_]{2,}", " ".join(texts))
    return [word for word in words if word not in NOT_TEXT]


@pytest.mark.parametrize(
    "path", PAGE_TEMPLATES + MESSAGE_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT))
)
def test_templates_show_no_words_outside_the_catalogs(path: Path) -> None:
    assert _shown_words(path) == []


def test_a_fuzzy_translation_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    fuzzy = (
        b'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        b'#, fuzzy\nmsgid "Sign in"\nmsgstr "Abmelden"\n\n'
        b'msgid "Password"\nmsgstr "Passwort"\n'
    )
    monkeypatch.setattr(locales, "catalog_text", lambda _locale: fuzzy)
    locales.translations.cache_clear()
    try:
        found = locales.translations("de")
        assert found.gettext("Sign in") == "Sign in"
        assert found.gettext("Password") == "Passwort"
    finally:
        locales.translations.cache_clear()


def test_a_text_a_mediator_language_lacks_is_shown_in_german() -> None:
    staff_only = "Statistics"  # a coordinator's page: not translated into Arabic
    assert locales.translator("ar").gettext(staff_only) == "Statistik"
    assert locales.translator("ar").gettext("Your job") != locales.translator("de").gettext(
        "Your job"
    )
