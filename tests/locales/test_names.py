"""Language names from CLDR, with config/languages.toml where CLDR has none or the wrong one;
dates and numbers as each language writes them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

import locales
from config import data as config_data


@pytest.mark.parametrize("locale", locales.LOCALES)
def test_every_served_language_has_a_name_in_every_page_and_message_language(
    locale: str,
) -> None:
    unnamed = [
        tag
        for tag in config_data.languages()
        if locales.language_name(tag, locale).casefold() in ("", tag)
    ]
    assert unnamed == []


@pytest.mark.parametrize(
    ("locale", "tigrinya", "dari", "kurmanji"),
    [
        ("de", "Tigrinya", "Dari", "Kurdisch (Kurmandschi)"),
        ("en", "Tigrinya", "Dari", "Kurdish (Kurmanji)"),
        ("ar", "التغرينية", "الدارية", "الكردية (الكرمانجية)"),
        ("uk", "тигринья", "дарі", "курдська (курманджі)"),
        ("ru", "тигринья", "дари", "курдский (курманджи)"),
        ("fa", "تیگرینیایی", "دری", "کردی (کرمانجی)"),
        ("tr", "Tigrinya dili", "Darice", "Kürtçe (Kurmanci)"),
    ],
)
def test_tigrinya_dari_and_kurmanji_are_named_right(
    locale: str, tigrinya: str, dari: str, kurmanji: str
) -> None:
    """CLDR names Tigrinya but has no Dari or Kurmanji: those come from languages.toml."""
    assert locales.language_name("ti", locale) == tigrinya
    assert locales.language_name("prs", locale) == dari
    assert locales.language_name("kmr", locale) == kurmanji


def test_the_toml_overrides_cldr_where_people_say_it_otherwise() -> None:
    assert locales.language_name("ckb", "de") == "Kurdisch (Sorani)"  # CLDR: Zentralkurdisch
    assert locales.language_name("fa", "de") == "Persisch (Farsi)"
    assert locales.language_name("fa", "ar") == "الفارسية"  # no override: CLDR's


def test_an_unknown_tag_stays_a_tag() -> None:
    assert locales.language_name("xx", "de") == "xx"


@pytest.mark.parametrize(
    ("locale", "day", "time", "number", "money"),
    [
        ("de", "Di 01.12.", "09:05", "1.234,5", "840,00\xa0€"),
        ("en", "Tue 1 Dec", "09:05", "1,234.5", "€840.00"),
        ("tr", "Sal 01.12.", "09:05", "1.234,5", "€840,00"),
        ("ar", "01.12.", "09:05", "1,234.5", "\u200f840.00\xa0€"),
    ],
)
def test_dates_times_numbers_and_money_as_the_language_writes_them(
    locale: str, day: str, time: str, number: str, money: str
) -> None:
    t = locales.translator(locale)
    moment = datetime(2026, 12, 1, 9, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert t.day(date(2026, 12, 1)) == day
    assert t.time(moment) == time
    assert t.number(1234.5) == number
    assert t.currency(840) == money


@pytest.mark.parametrize(("asked", "used"), [("de-DE", "de"), ("prs", "fa"), ("so", "de")])
def test_locales_resolve_to_what_is_translated(asked: str, used: str) -> None:
    assert locales.resolve(asked) == used


def test_arabic_and_farsi_read_right_to_left() -> None:
    directions = {locale: locales.translator(locale).direction for locale in locales.LOCALES}
    assert {locale for locale, d in directions.items() if d == "rtl"} == {"ar", "fa"}
