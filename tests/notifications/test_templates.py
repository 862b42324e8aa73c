"""Templates: every kind renders in every locale with exactly its fields, and SMS stay short."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from babel.dates import get_day_names

import locales
from notifications.segments import sms_segments
from notifications.templates import (
    FORBIDDEN_SMS_FIELDS,
    MEDIATOR_LOCALES,
    MIN_KEPT,
    SPECS,
    STAFF_LOCALES,
    TemplateError,
    TemplateSpec,
    render,
    resolve_locale,
)
from tests.catalog_texts import foreign_texts

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
END = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LONG_LINK = "https://sprachpool.beckum.de/o/AbCdEfGhJk12"
LONG_PLACE = "Städtisches Klinikum Beckum, Haus B"

# Realistic and long values for every field any template declares.
SAMPLE: dict[str, Any] = {
    "language": "Ukrainisch",
    "start": START,
    "end": END,
    "expires_at": START,
    "mode": "in_person",
    "place": LONG_PLACE,
    "address": "Elisabethstraße 12, 59269 Beckum",
    "subject": "psychosocial",
    "link": LONG_LINK,
    "request_link": "https://sprachpool.beckum.de/requests/1234",
    "code": "K7Q2X9",
    "notes": "Bitte am Empfang melden.",
    "organisation": "Jobcenter Kreis Warendorf",
    "recipient_name": "Olena Kovalenko",
    "contact_name": "Frau Schulte",
    "contact_phone": "+49 2521 29-1234",
    "mediator_name": "Olena Kovalenko",
    "mediator_phone": "+49 170 1234567",
    "event_uid": "assignment-42@sprachpool",
    "reason": "no candidates left",
    "cancelled_by": "Olena Kovalenko",
    "valid_minutes": 15,
    "valid_hours": 48,
    "role": "caseworker",
    "login": "https://sprachpool.beckum.de/login",
    "inviter_name": "Petra Schulte-Großekathöfer",
    "replaces": True,
    "dropped_out": True,
    "reminder": True,
    "actual_start": START,
    "actual_end": END,
    "outcome": "client_no_show",
    "confirm_link": LONG_LINK.replace("/o/", "/c/"),
    "late": True,
    "changed": ["language", "place", "time"],
    "call_direction": "mediator_calls",
    "request_number": 4711,
    "client_ref": "JC-2026-0417",
    "connection": "https://meet.example/sprachpool-4711",
    "next_step": "professional_interpreter",
    "contact": "Dolmetscherdienst Münsterland, 0251 987650",
    "changed_by": "Petra Schulte-Großekathöfer",
    "after_change": True,
    "news": "released",
    "open_offers": 2,
    "unknown_to_client": True,
    "dispute_reason": "Sie kam erst um 09:30",
    "from_name": "Jens Brüggemann-Özdemir",
    "why": "place_moved",
    "forwarded_for": "Jana Brüggemann",
    "name": "Jana Brüggemann",
    "requests": 6,
    "euros": Decimal("1234.50"),
    "open_jobs": 2,
    "jobs_to_come": 3,
    "series": 2,
    "starts": [START, START + timedelta(days=7)],
    "ends": [END, END + timedelta(days=7)],
    "event_uids": ["assignment-42@sprachpool", "assignment-43@sprachpool"],
}

ALL = sorted(SPECS.values(), key=lambda spec: (spec.kind, spec.channel))


def spec_locales() -> list[tuple[TemplateSpec, str]]:
    return [(spec, locale) for spec in ALL for locale in spec.locales]


def ids(pair: tuple[TemplateSpec, str]) -> str:
    spec, locale = pair
    return f"{spec.kind}-{spec.channel}-{locale}"


def required_fields(spec: TemplateSpec) -> dict[str, Any]:
    return {name: SAMPLE[name] for name in spec.required}


def all_fields(spec: TemplateSpec) -> dict[str, Any]:
    return {name: SAMPLE[name] for name in spec.required | spec.optional}


@pytest.mark.parametrize("pair", spec_locales(), ids=ids)
def test_every_template_renders_with_its_required_fields_alone(
    pair: tuple[TemplateSpec, str],
) -> None:
    spec, locale = pair

    message = render(spec.kind, spec.channel, locale, **required_fields(spec))

    assert message.locale == locale
    assert message.body and "{{" not in message.body and "{%" not in message.body
    if spec.channel == "email":
        assert message.subject and "\n" not in message.subject
        assert message.html and f'lang="{locale}"' in message.html


@pytest.mark.parametrize("pair", spec_locales(), ids=ids)
def test_every_message_is_all_in_the_readers_language(pair: tuple[TemplateSpec, str]) -> None:
    """No sentence falls back to German or to the English msgid (values aside)."""
    spec, locale = pair
    fields = all_fields(spec)
    if "language" in fields:
        fields["language"] = "ti"  # a tag: named in the reader's language
    if "reason" in fields:
        fields["reason"] = "nobody_in_pool"  # a code: said in the reader's language

    message = render(spec.kind, spec.channel, locale, **fields)

    text = f"{message.subject or ''}\n{message.body}"
    for other in {"de", "en"} - {locale}:
        assert [f.text for f in foreign_texts(locale, other) if f.pattern.search(text)] == []
    if "language" in fields:
        assert locales.language_name("ti", locale) in text


@pytest.mark.parametrize("pair", spec_locales(), ids=ids)
def test_no_two_sentences_run_together(pair: tuple[TemplateSpec, str]) -> None:
    """A sentence that ends where the next begins ("anfragen.Eingeladen von") is a
    template whose tags ate the line break between them."""
    spec, locale = pair
    fields = all_fields(spec)
    for omitted in (frozenset[str](), spec.optional):
        shown = {name: value for name, value in fields.items() if name not in omitted}
        body = render(spec.kind, spec.channel, locale, **shown).body
        assert re.findall(r"\w[.!?:][A-ZÄÖÜÇŞİĞА-ЯЁІЇЄҐ][a-zäöüßçşığа-яёіїєґ]", body) == [], body


@pytest.mark.parametrize("pair", spec_locales(), ids=ids)
def test_every_template_renders_with_all_its_fields_and_shows_them(
    pair: tuple[TemplateSpec, str],
) -> None:
    spec, locale = pair

    message = render(spec.kind, spec.channel, locale, **all_fields(spec))

    for name in ("link", "code", "request_link", "mediator_phone"):
        if name in spec.required:
            assert str(SAMPLE[name]) in message.body


@pytest.mark.parametrize("spec", ALL, ids=lambda spec: f"{spec.kind}-{spec.channel}")
def test_a_missing_field_is_refused(spec: TemplateSpec) -> None:
    for name in spec.required:
        fields = required_fields(spec)
        del fields[name]
        with pytest.raises(TemplateError, match=f"missing.*{name}"):
            render(spec.kind, spec.channel, "de", **fields)


@pytest.mark.parametrize("spec", ALL, ids=lambda spec: f"{spec.kind}-{spec.channel}")
def test_an_unexpected_field_is_refused(spec: TemplateSpec) -> None:
    with pytest.raises(TemplateError, match="unexpected.*favourite_colour"):
        render(spec.kind, spec.channel, "de", favourite_colour="blue", **required_fields(spec))


SMS_SPECS = [spec for spec in ALL if spec.channel == "sms"]


@pytest.mark.parametrize("spec", SMS_SPECS, ids=lambda spec: spec.kind)
def test_no_sms_template_declares_a_client_or_notes_field(spec: TemplateSpec) -> None:
    declared = spec.required | spec.optional
    assert not declared & FORBIDDEN_SMS_FIELDS
    assert not any("client" in name or "note" in name for name in declared)


@pytest.mark.parametrize("spec", SMS_SPECS, ids=lambda spec: spec.kind)
@pytest.mark.parametrize("field", sorted(FORBIDDEN_SMS_FIELDS))
def test_no_sms_template_accepts_a_client_name_or_notes(spec: TemplateSpec, field: str) -> None:
    with pytest.raises(TemplateError, match="unexpected"):
        forbidden: dict[str, Any] = {field: "Fatima Beispiel"}
        render(spec.kind, spec.channel, "de", **forbidden, **all_fields(spec))


OFFER_LIKE = [spec for spec in SMS_SPECS if spec.max_segments]


@pytest.mark.parametrize(
    "pair",
    [(spec, locale) for spec in OFFER_LIKE for locale in spec.locales],
    ids=ids,
)
def test_sms_keep_their_segment_budget_with_a_long_link_and_place(
    pair: tuple[TemplateSpec, str],
) -> None:
    spec, locale = pair

    text = render(spec.kind, "sms", locale, **all_fields(spec)).body

    encoding, segments = sms_segments(text)
    assert segments <= (spec.max_segments or 0), f"{encoding} {segments}: {text}"
    for name in ("link", "code"):
        if name in spec.required:
            assert str(SAMPLE[name]) in text  # never cut


@pytest.mark.parametrize("locale", ["de", "en", "tr"])
def test_german_english_and_turkish_offer_sms_are_gsm7_and_keep_the_whole_place(
    locale: str,
) -> None:
    text = render("offer", "sms", locale, **all_fields(SPECS["offer", "sms"])).body

    assert sms_segments(text) == ("GSM-7", 2)
    assert LONG_PLACE in text


@pytest.mark.parametrize("locale", ["ar", "uk", "ru", "fa"])
def test_ucs2_offer_sms_shorten_the_place_no_further_than_needed(locale: str) -> None:
    text = render("offer", "sms", locale, **all_fields(SPECS["offer", "sms"])).body

    assert sms_segments(text).encoding == "UCS-2"
    assert LONG_PLACE[: MIN_KEPT - 1] in text


@pytest.mark.parametrize("locale", ["de", "en", "tr", "ar", "uk", "ru", "fa"])
def test_every_offer_sms_says_how_to_decline_by_reply(locale: str) -> None:
    """A mediator who cannot come should say so, not stay silent until the wave runs out:
    the SMS names the NEIN reply in every language, within its two segments (the UCS-2
    ones as "JA/NEIN <code>", the room for a second code is not there)."""
    text = render("offer", "sms", locale, **all_fields(SPECS["offer", "sms"])).body

    code = re.escape(str(SAMPLE["code"]))
    assert re.search(rf"\bJA\b(/NEIN)? {code}", text), text
    assert re.search(rf"\bNEIN {code}", text), text
    assert sms_segments(text)[1] <= 2


def test_short_place_names_are_never_shortened() -> None:
    fields = all_fields(SPECS["offer", "sms"]) | {"place": "Rathaus"}
    for locale in MEDIATOR_LOCALES:
        assert "Rathaus" in render("offer", "sms", locale, **fields).body


def test_the_german_offer_sms_reads_as_expected() -> None:
    text = render("offer", "sms", "de", **all_fields(SPECS["offer", "sms"])).body

    assert text == (
        "Sprachpool: Einsatz Ukrainisch, Di 01.12. 09:00-10:30, vor Ort: "
        "Städtisches Klinikum Beckum, Haus B (Psychosozial). "
        "Zusagen: https://sprachpool.beckum.de/o/AbCdEfGhJk12 oder SMS JA K7Q2X9. "
        "Absagen: NEIN K7Q2X9"
    )


def test_times_are_shown_in_berlin_time_across_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    fields = required_fields(SPECS["reminder_2h", "sms"]) | {"start": summer}

    assert "09:00" in render("reminder_2h", "sms", "de", **fields).body


def test_naive_datetimes_are_refused() -> None:
    fields = required_fields(SPECS["reminder_2h", "sms"]) | {"start": datetime(2026, 7, 1, 9)}

    with pytest.raises(TemplateError, match="timezone-aware"):
        render("reminder_2h", "sms", "de", **fields)


def test_turkish_sms_use_gsm7_spelling_but_emails_keep_turkish_letters() -> None:
    sms = render("offer_withdrawn", "sms", "tr", language="Arapça", start=START).body
    mail = render("offer_withdrawn", "email", "tr", language="Arapça", start=START)

    assert "Tesekkürler" in sms and "ş" not in sms
    assert sms_segments(sms).encoding == "GSM-7"
    assert "Teşekkürler" not in sms and "teşekkürler" in mail.body.lower()


@pytest.mark.parametrize(
    ("asked", "audience", "used"),
    [
        ("de-DE", "mediator", "de"),
        ("uk_UA", "mediator", "uk"),
        ("prs", "mediator", "fa"),
        ("fa-AF", "mediator", "fa"),
        ("ti", "mediator", "de"),
        (None, "mediator", "de"),
        ("EN", "caseworker", "en"),
        ("ar", "coordinator", "de"),  # staff messages exist in German and English only
    ],
)
def test_locale_fallback(asked: str | None, audience: Any, used: str) -> None:
    assert resolve_locale(asked, audience) == used


def test_dari_speakers_get_the_farsi_text() -> None:
    fields = required_fields(SPECS["sms_paused", "sms"])
    assert render("sms_paused", "sms", "prs", **fields) == render(
        "sms_paused", "sms", "fa", **fields
    )


def test_an_unknown_locale_gets_simple_german() -> None:
    message = render("sms_decline_ok", "sms", "so")
    assert message.locale == "de"
    assert message.body == (
        "Sprachpool: Danke, Sie haben abgesagt. "
        "Zu diesem Einsatz bekommen Sie keine Nachrichten mehr."
    )


def test_arabic_and_farsi_emails_are_right_to_left() -> None:
    fields = required_fields(SPECS["offer_withdrawn", "email"])
    for locale in ("ar", "fa"):
        assert 'dir="rtl"' in (render("offer_withdrawn", "email", locale, **fields).html or "")
    assert 'dir="ltr"' in (render("offer_withdrawn", "email", "de", **fields).html or "")


def test_html_part_escapes_values_and_links_urls() -> None:
    fields = required_fields(SPECS["offer", "email"]) | {"organisation": "<b>Amt</b> & Co"}

    html = render("offer", "email", "de", **fields).html or ""

    assert "&lt;b&gt;Amt&lt;/b&gt; &amp; Co" in html
    assert f'<a href="{LONG_LINK}">{LONG_LINK}</a>' in html


def test_the_mediator_confirmation_email_carries_the_calendar_invitation() -> None:
    fields = all_fields(SPECS["assignment_confirmed_mediator", "email"])
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    message = render("assignment_confirmed_mediator", "email", "uk", now=now, **fields)

    [ics] = message.attachments
    assert ics.filename.endswith(".ics")
    assert ics.content_type.startswith("text/calendar; method=REQUEST")
    text = ics.data.decode("utf-8").replace("\r\n ", "")
    assert "UID:assignment-42@sprachpool" in text
    assert "DTSTART:20261201T080000Z" in text
    assert "DTSTAMP:20261130T120000Z" in text


def test_the_cancellation_email_withdraws_the_same_calendar_event() -> None:
    fields = required_fields(SPECS["cancelled_mediator", "email"])

    [ics] = render("cancelled_mediator", "email", "de", **fields).attachments

    text = ics.data.decode("utf-8")
    assert "METHOD:CANCEL" in text and "SEQUENCE:1" in text
    assert "UID:assignment-42@sprachpool" in text


def test_the_caseworker_confirmation_names_the_mediator_and_phone() -> None:
    fields = required_fields(SPECS["assignment_confirmed_caseworker", "email"])

    body = render("assignment_confirmed_caseworker", "email", "de", **fields).body

    assert "Olena Kovalenko" in body and "+49 170 1234567" in body


def test_the_unfilled_notice_suggests_phone_video_or_a_professional_service() -> None:
    fields = required_fields(SPECS["request_unfilled_caseworker", "email"])

    body = render("request_unfilled_caseworker", "email", "de", **fields).body

    assert "Telefon oder Video" in body and "professionellen Dolmetschdienst" in body


def test_the_24h_reminder_asks_to_reconfirm_by_link_or_reply() -> None:
    fields = required_fields(SPECS["reminder_24h", "sms"])

    body = render("reminder_24h", "sms", "de", **fields).body

    assert LONG_LINK in body and "JA K7Q2X9" in body


def test_mediator_messages_exist_in_every_mediator_locale_and_staff_ones_in_de_en() -> None:
    kinds = {
        "offer", "offer_withdrawn", "assignment_confirmed_mediator",
        "assignment_confirmed_caseworker", "reminder_24h", "reminder_2h", "cancelled_mediator",
        "request_unfilled_caseworker", "request_at_risk_caseworker",
        "assignment_cancelled_caseworker",
        "request_cancelled_caseworker", "alert_unfilled_coordinator",
        "alert_late_cancellation_coordinator", "alert_at_risk_coordinator", "completion_request",
        "sms_help", "sms_paused", "sms_resumed", "sms_accept_ok", "sms_decline_ok",
        "sms_unknown_code", "sms_cannot_take", "signin_link", "staff_invitation",
        "job_confirmation_caseworker",
        "request_changed_mediator", "released_after_change_mediator",
        "request_changed_caseworker", "sms_give_back", "sms_which_offer",
        "job_rejected_mediator", "alert_disputed_coordinator", "no_show_mediator",
        "alert_no_show_coordinator", "series_cancelled_mediator", "series_cancelled_caseworker",
        "requests_handed_over_caseworker", "staff_erasure_waiting_coordinator",
        "mediator_erasure_waiting_coordinator",
    }  # fmt: skip
    assert {spec.kind for spec in ALL} == kinds
    for spec in ALL:
        expected = MEDIATOR_LOCALES if spec.audience == "mediator" else STAFF_LOCALES
        assert spec.locales == expected
    assert {"offer"} <= {s.kind for s in ALL if s.channel == "sms"}
    assert {"offer"} <= {s.kind for s in ALL if s.channel == "email"}


def test_an_unknown_kind_or_channel_is_refused() -> None:
    with pytest.raises(TemplateError):
        render("birthday_greeting", "sms", "de")
    with pytest.raises(TemplateError):
        render("assignment_confirmed_caseworker", "sms", "de")


@pytest.mark.parametrize("locale", ["ru", "uk"])
def test_the_offer_s_deadline_never_puts_a_weekday_after_a_preposition_that_needs_its_genitive(
    locale: str,
) -> None:
    """ "до среда" is wrong (до takes the genitive, "до среды"); the weekday as CLDR gives it is
    in the nominative, so the sentence says "до 08:00 (среда, ...)" instead."""
    spec = SPECS[("offer", "email")]
    weekdays = get_day_names("wide", locale=locale).values()
    for day in range(7):
        expires = datetime(2026, 11, 30, 7, 0, tzinfo=UTC) + timedelta(days=day)
        body = render("offer", "email", locale, **{**all_fields(spec), "expires_at": expires}).body
        assert not any(f"до {weekday}" in body for weekday in weekdays), body


@pytest.mark.parametrize("locale", SPECS["series_cancelled_mediator", "sms"].locales)
def test_a_cancelled_half_year_series_fits_two_sms_segments_naming_its_first_and_last_day(
    locale: str,
) -> None:
    # 26 weekly dates listed one by one made a 442-character SMS (seven UCS-2 segments in
    # Ukrainian); from four dates on the SMS names the count, the first and the last day
    # (the email lists every date).
    starts = [START + timedelta(days=7 * week) for week in range(26)]
    fields = {**all_fields(SPECS["series_cancelled_mediator", "sms"]), "starts": starts}
    text = render("series_cancelled_mediator", "sms", locale, **fields).body
    assert sms_segments(text)[1] <= 2, text
    translate = locales.translator(locale)
    assert translate.day(starts[0]) in text and translate.day(starts[-1]) in text
    assert "26" in locales.western_digits(text)


FORWARDABLE = [spec for spec in ALL if "forwarded_for" in spec.optional]
#: How a German text speaks to the one whose request it is.
ADDRESSING_THE_REQUESTER = re.compile(
    r"Ihre Anfrage|Ihrer Anfrage|Ihre Serie|Ihrer Serie|Ihrer Änderung|Ihnen bestätigt"
    r"|von Ihnen angefragt"
)


@pytest.mark.parametrize("every_field", [False, True], ids=["required", "all"])
@pytest.mark.parametrize("spec", FORWARDABLE, ids=lambda spec: spec.kind)
def test_a_forwarded_copy_speaks_of_the_leaver_s_request_not_of_the_reader_s(
    spec: TemplateSpec, every_field: bool
) -> None:
    fields = all_fields(spec) if every_field else required_fields(spec)
    fields["forwarded_for"] = "Jana Brüggemann"

    message = render(spec.kind, "email", "de", **fields)

    assert ADDRESSING_THE_REQUESTER.findall(f"{message.subject}\n{message.body}") == []
    assert message.subject and message.subject.endswith("(Anfrage von Jana Brüggemann)")
    assert message.body.startswith("Sie erhalten diese Nachricht, weil Jana Brüggemann")
    english = render(spec.kind, "email", "en", **fields)
    assert "your request" not in english.body.lower()
    assert english.subject and english.subject.endswith("(Jana Brüggemann's request)")


@pytest.mark.parametrize("spec", FORWARDABLE, ids=lambda spec: spec.kind)
def test_the_caseworker_s_own_message_still_says_ihre_anfrage(spec: TemplateSpec) -> None:
    fields = required_fields(spec)

    message = render(spec.kind, "email", "de", **fields)

    assert "Ihre Anfrage" in message.body
    assert "Anfrage von" not in f"{message.subject}\n{message.body}"
    assert "Sie erhalten diese Nachricht" not in message.body


def test_the_forwarded_cancellation_reads_as_expected() -> None:
    message = render(
        "request_cancelled_caseworker", "email", "de",
        **required_fields(SPECS["request_cancelled_caseworker", "email"]),
        forwarded_for="Jana Brüggemann",
    )  # fmt: skip

    assert "die Koordination hat die Anfrage von Jana Brüggemann storniert" in message.body


@pytest.mark.parametrize("locale", sorted(MEDIATOR_LOCALES))
@pytest.mark.parametrize("why", [None, "coordination", "place_moved", "place_moved_busy"])
def test_a_release_after_a_change_says_why_in_the_mediator_s_language(
    locale: str, why: str | None
) -> None:
    """Each reason reads in the mediator's own words, and each reads differently."""
    spec = SPECS[("released_after_change_mediator", "email")]
    fields = {**all_fields(spec), "language": "ti", "why": why}

    body = render(spec.kind, spec.channel, locale, **fields).body

    for other in {"de", "en"} - {locale}:
        assert [f.text for f in foreign_texts(locale, other) if f.pattern.search(body)] == []
    others = {
        render(spec.kind, spec.channel, locale, **{**fields, "why": reason}).body
        for reason in (None, "coordination", "place_moved", "place_moved_busy")
        if reason != why
    }
    assert body not in others
