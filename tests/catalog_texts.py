"""What the catalogs say, as patterns to look for on a page: used to prove a page shows
no text of another language's catalog (an untranslated text shows its fallback).

`foreign_texts("de", "en")` are the English texts that a German page must not show:
every msgstr of the English catalog that differs from its German translation and is
no German text of any other msgid, as a regex where each %(placeholder)s matches
anything. `visible_texts(html, lang)` collects what a person sees of a page in its
language: text nodes and the attributes shown to people, leaving out everything
inside an element that declares another language (a message body in the message
log, the link to the other language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from io import BytesIO

from babel.messages.pofile import read_po

import locales

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "data-confirm")
#: Texts too short or too common to tell languages apart (numbers, units, names of things).
TOO_SHORT = 3


def msgstrs(locale: str) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """(context, msgid) → the locale's translations (all plural forms), untranslated left out."""
    catalog = read_po(BytesIO(locales.catalog_text(locale)), locale=locale)
    found: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = (
            (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
        )
        strings = tuple(s for s in strings if s)
        if strings:
            found[(message.context, msgid)] = strings
    return found


def _pattern(text: str) -> re.Pattern[str]:
    """Where a text shows: a single word only as a whole text of the page (a word like
    "Frau" may well be part of a name), longer texts anywhere, values matching anything."""
    parts = PLACEHOLDER.split(text)
    # split() alternates literal text and placeholder names: keep the text, match the values.
    literal = ".+?".join(re.escape(" ".join(part.split())) for part in parts[::2])
    if len(text.split()) == 1:
        return re.compile(rf"^{literal}$")
    return re.compile(rf"(?<!\w){literal}(?!\w)")


@dataclass(frozen=True)
class ForeignText:
    msgid: str
    text: str
    pattern: re.Pattern[str]


@cache
def foreign_texts(page_locale: str, other_locale: str) -> tuple[ForeignText, ...]:
    """Texts of `other_locale`'s catalog that a page in `page_locale` must not show."""
    own, other = msgstrs(page_locale), msgstrs(other_locale)
    own_words = {" ".join(s.split()).casefold() for strings in own.values() for s in strings}
    found = []
    for key, strings in other.items():
        mine = {" ".join(s.split()).casefold() for s in own.get(key, ())}
        for text in strings:
            flat = " ".join(text.split())
            bare = PLACEHOLDER.sub("", flat).strip(" .,:;!?()–-…·")
            if (
                flat.casefold() in mine
                or flat.casefold() in own_words
                or len(re.findall(r"[^\W\d_]", bare)) < TOO_SHORT
            ):
                continue
            found.append(ForeignText(key[1], flat, _pattern(flat)))
    return tuple(found)


class _Visible(HTMLParser):
    """Text nodes and shown attributes, with the language each one is in."""

    SKIPPED = frozenset({"script", "style"})
    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"})

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = [("#root", lang)]
        self.page_lang = lang
        self.texts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang") or self.stack[-1][1]
        if tag == "html":
            lang = self.page_lang  # the page's own language, whatever it declares
        if lang == self.stack[0][1]:
            self.texts += [str(values[name]) for name in SHOWN_ATTRIBUTES if values.get(name)]
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.texts.append(str(values["value"]))
        if tag in self.SKIPPED:
            self.skipping += 1
        if tag not in self.VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping and self.stack[-1][1] == self.stack[0][1] and data.strip():
            self.texts.append(data)


def visible_texts(html: str, lang: str) -> list[str]:
    """What a person reads of a page in `lang` (whitespace collapsed), element by element."""
    parser = _Visible(lang)
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.texts if text.strip()]


def foreign_on_page(html: str, page_locale: str, other_locale: str) -> list[tuple[str, str]]:
    """(text on the page, the other catalog's text it shows) for every such text found."""
    shown = visible_texts(html, page_locale)
    return [
        (text, foreign.text)
        for text in shown
        for foreign in foreign_texts(page_locale, other_locale)
        if foreign.pattern.search(text)
    ]


def assert_only_in(html: str, locale: str) -> None:
    """The page is declared in `locale` (right to left where the script is) and shows no
    German or English catalog text: an untranslated text would show its fallback."""
    rtl = ' dir="rtl"' if locales.translator(locale).direction == "rtl" else ""
    assert f'<html lang="{locale}"{rtl}>' in html
    for other in {"de", "en"} - {locale}:
        assert foreign_on_page(html, locale, other) == [], other
