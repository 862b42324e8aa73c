"""Every sentence people read, in their language: one set of gettext catalogs.

The catalogs are ``locales/<locale>/LC_MESSAGES/messages.po``, extracted by
``pybabel`` from the Python code (``_``, ``N_``, ``ngettext``, ``pgettext``),
the Jinja templates of the pages and messages (``jinja2.ext.i18n``) and the
qualification names in ``config/languages.toml`` (see ``[tool.babel]`` in
pyproject.toml and the README, "Texts and languages").

The msgids are English, as usual with gettext: translators and their tools
expect it, plural forms are written the English way, and the API's English
messages are the msgids themselves; German is a full translation like the
others. ``.po`` files are compiled when a locale is first used (no ``.mo``
in the repository, so a catalog can never be newer than its binary).

A locale without a translation for some text falls back to German, the
pool's working language, before the English msgid; tests keep German and
English complete, and every mediator locale complete for what mediators see.

Dates, times, numbers and language names come from CLDR through Babel, in
the same locale as the words (`Translator`).
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from io import BytesIO
from typing import Any, Literal

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

from config import data as config_data

DOMAIN = "messages"
SOURCE_LOCALE = "en"
"""The language of the msgids."""
DEFAULT_LOCALE = "de"
"""The pool's working language: pages open in it, untranslated texts fall back to it."""
STAFF_LOCALES = ("de", "en")
"""Languages of the staff pages and of messages to staff."""
MEDIATOR_LOCALES = ("de", "en", "ar", "uk", "ru", "fa", "tr")
"""Languages of everything a mediator sees: the offer page, their own page, messages."""
LOCALES = MEDIATOR_LOCALES
ALIASES = {"prs": "fa"}
"""Dari speakers read the Farsi texts."""
RTL_LOCALES = frozenset({"ar", "fa"})
FORMAT_LOCALES = {"en": "en_GB"}
"""CLDR data used for formatting: English as read in Germany (24-hour clock, day first)."""
SHORT_DAY = {"de": "ccc dd.MM.", "en": "ccc d MMM", "ar": "dd.MM.", "fa": "dd.MM."}
"""CLDR patterns of the short day ("Di 01.12."): SMS count every character, and
Arabic and Farsi ones are UCS-2 (67 a segment), so those leave out the weekday."""
SHORT_DAY_DEFAULT = "ccc dd.MM."

Direction = Literal["ltr", "rtl"]


def N_(message: str) -> str:
    """Mark a text for extraction where it is declared; it is translated where it is shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """`N_` for a text with a plural: shown through ``ngettext`` with its ``num``."""
    return singular, plural


@dataclass(frozen=True)
class Text:
    """A text to show later, in the reader's language: an ``N_``-marked msgid and its values.

    For code that decides what to say before it knows who reads it (a form
    error, a reason): the page or message translates it.
    """

    msgid: str
    params: Mapping[str, Any] | None = None


def _language_of(tag: str) -> str:
    """``de-DE`` → ``de``, ``uk_UA`` → ``uk``, ``prs`` → ``fa``: the catalog a tag reads."""
    base = tag.replace("_", "-").split("-")[0].strip().lower()
    return ALIASES.get(base, base)


def resolve(locale: str | None, available: tuple[str, ...] = LOCALES) -> str:
    """``de-DE`` → ``de``, ``prs`` → ``fa``; anything not in `available` → German."""
    base = _language_of(locale or "")
    return base if base in available else DEFAULT_LOCALE


#: How much of an Accept-Language header is looked at: browsers send a handful of ranges.
ACCEPT_LANGUAGE_MOST_RANGES = 20
ACCEPT_LANGUAGE_MOST_CHARS = 500


def from_accept_language(header: str | None, available: tuple[str, ...]) -> str | None:
    """The first of `available` a browser's Accept-Language asks for, by its weights; else None.

    For a page that cannot tell whose it is (a mediator's link that no longer
    works): a phone set to Arabic sends ``ar``, and the page can answer in
    Arabic. Ranges are read as `resolve` reads a locale (``uk-UA`` is ``uk``,
    ``prs`` is ``fa``); ``*``, a weight of 0 and anything malformed ask for
    nothing. Only the header's start is read, so a hostile one costs nothing.
    """
    wanted: list[tuple[float, int, str]] = []
    ranges = (header or "")[:ACCEPT_LANGUAGE_MOST_CHARS].split(",")
    for order, part in enumerate(ranges[:ACCEPT_LANGUAGE_MOST_RANGES]):
        tag, _, params = part.partition(";")
        weight = 1.0
        name, _, value = params.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                continue
            if not 0.0 < weight <= 1.0:  # also nan
                continue
        base = _language_of(tag)
        if base in available:
            wanted.append((-weight, order, base))
    return min(wanted)[2] if wanted else None


@cache
def catalog_text(locale: str) -> bytes:
    """The ``.po`` file of a locale, as shipped in the package."""
    path = resources.files(__name__).joinpath(f"{locale}/LC_MESSAGES/{DOMAIN}.po")
    return path.read_bytes()


@cache
def translations(locale: str) -> gettext_module.GNUTranslations:
    """The compiled catalog of a locale (fuzzy entries left out), with German behind it."""
    if locale not in LOCALES:
        raise KeyError(f"no catalog for locale {locale!r}; there are {', '.join(LOCALES)}")
    catalog = read_po(BytesIO(catalog_text(locale)), locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    found = gettext_module.GNUTranslations(compiled)
    if locale not in (DEFAULT_LOCALE, SOURCE_LOCALE):
        found.add_fallback(translations(DEFAULT_LOCALE))
    return found


def language_name(tag: str, locale: str) -> str:
    """A language's name in `locale`: languages.toml's override, else CLDR, else the tag."""
    served = config_data.languages().get(tag.lower())
    if served is not None and locale in served.names:
        return served.names[locale]
    found = _cldr_locale(locale).languages.get(tag.lower().replace("-", "_"))
    return found if found else tag


@cache
def western_digits(text: str) -> str:
    """Digits of any script as 0-9 (Arabic ١٢, Persian ۱۲, full-width １２ as 12).

    A mediator whose phone writes Arabic or Persian types their SMS reply code
    and the numbers of their report in those digits; the parsers read them
    after this. Everything that is not a digit stays as it is.
    """
    return "".join(str(unicodedata.digit(char)) if char.isdigit() else char for char in text)


def _cldr_locale(locale: str) -> Locale:
    return Locale.parse(FORMAT_LOCALES.get(locale, locale))


def _format(template: str, params: Mapping[str, Any]) -> str:
    return template % params if params else template


@dataclass(frozen=True)
class Translator:
    """Texts, dates, numbers and names in one locale.

    Texts with parameters are %-templates (``"Request no. %(n)s is saved."``),
    filled after translation, so a translation may move a parameter.
    """

    locale: str

    @cached_property
    def _translations(self) -> gettext_module.GNUTranslations:
        return translations(self.locale)

    @property
    def cldr(self) -> Locale:
        return _cldr_locale(self.locale)

    @property
    def direction(self) -> Direction:
        return "rtl" if self.locale in RTL_LOCALES else "ltr"

    # --- words ---------------------------------------------------------------

    def gettext(self, message: str, /, **params: Any) -> str:
        return _format(self._translations.gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form for `n` (also given to the template as ``%(num)s``)."""
        params.setdefault("num", n)
        return _format(self._translations.ngettext(singular, plural, n), params)

    def pgettext(self, context: str, message: str, /, **params: Any) -> str:
        return _format(self._translations.pgettext(context, message), params)

    def text(self, text: Text | str) -> str:
        """A `Text` (or a bare msgid) in this locale."""
        if isinstance(text, str):
            return self.gettext(text)
        return self.gettext(text.msgid, **(text.params or {}))

    def one_of(self, choices: Sequence[str]) -> str:
        """Choices as this locale lists alternatives: "basic, fluent oder native"."""
        return format_list(list(choices), style="or", locale=self.cldr)

    def language(self, tag: str | None) -> str:
        return language_name(tag, self.locale) if tag else "–"

    def qualification(self, tag: str | None) -> str:
        if not tag:
            return "–"
        found = config_data.qualifications().get(tag)
        return self.gettext(found.name) if found else tag

    # --- dates, times, numbers ---------------------------------------------

    def date(self, value: dt.date | dt.datetime, format: str = "medium") -> str:
        """A date in CLDR's `format` (short, medium, long, full) or a pattern."""
        return format_date(value, format, locale=self.cldr)

    def day(self, value: dt.date | dt.datetime) -> str:
        """Weekday and day, short: "Di 01.12.", "Tue 1 Dec" (see SHORT_DAY)."""
        return format_date(value, SHORT_DAY.get(self.locale, SHORT_DAY_DEFAULT), locale=self.cldr)

    def time(self, value: dt.time | dt.datetime) -> str:
        """Hours and minutes, as the locale writes them (24-hour clock in German and English)."""
        return format_time(value, "HH:mm", locale=self.cldr)

    def weekday(self, index: int, width: Literal["wide", "abbreviated"] = "wide") -> str:
        """Monday is 0, as in `date.weekday()`."""
        return str(get_day_names(width, context="stand-alone", locale=self.cldr)[index])

    def number(self, value: float, digits: int = 1) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, pattern, locale=self.cldr)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.cldr)

    def currency(self, amount: float | Decimal, currency: str = "EUR") -> str:
        return format_currency(amount, currency, locale=self.cldr)

    def unit(
        self, value: float, unit: str, length: Literal["short", "long", "narrow"] = "short"
    ) -> str:
        """A measure with its unit, e.g. ``unit(30, "duration-minute")`` → "30 Min."."""
        return format_unit(value, unit, length=length, locale=self.cldr)


def jinja_environment(locale: str, **options: Any) -> jinja2.Environment:
    """A Jinja environment whose ``_``, ``ngettext`` and ``pgettext`` speak `locale`.

    New-style gettext: ``{{ _("Request no. %(n)s", n=7) }}`` fills the values after
    translating (and escapes them where the environment autoescapes).
    """
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], **options)
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


@cache
def translator(locale: str | None, available: tuple[str, ...] = LOCALES) -> Translator:
    """The translator for a (possibly unresolved) locale."""
    return Translator(resolve(locale, available))
