"""The request form: checked by the API's own schema, each error beside the field its
location names, said in the reader's language by the error's code."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import locales
from dispatch.validation import MAX_ID, calendar_day, clock_time, whole_number
from dispatch.web import forms

BERLIN = ZoneInfo("Europe/Berlin")
GOOD = {
    "language": "Tigrinya (ti)",
    "date": "2026-12-01",
    "time": "09:00",
    "duration": "90",
    "mode": "phone",
}


def errors_in(language: str, **typed: str) -> dict[str, str]:
    form, data = forms.parse_request_form({**GOOD, **typed}, tz=BERLIN)
    assert data is None
    t = locales.translator(language)
    return {name: t.text(message) for name, message in form.errors.items()}


def test_a_good_form_becomes_the_apis_body() -> None:
    form, data = forms.parse_request_form(GOOD, tz=BERLIN)
    assert form.errors == {} and data is not None
    assert (data.language, data.start.isoformat()) == ("ti", "2026-12-01T09:00:00+01:00")


def test_the_family_checkbox_is_kept_and_goes_into_a_change_too() -> None:
    form, data = forms.parse_request_form({**GOOD, "unknown_to_client": "1"}, tz=BERLIN)
    assert data is not None and data.unknown_to_client
    assert form.values["unknown_to_client"] == "1"
    assert forms.change_from(data).unknown_to_client is True
    _, unticked = forms.parse_request_form(GOOD, tz=BERLIN)
    assert unticked is not None and not unticked.unknown_to_client


def test_a_line_break_in_the_contact_is_shown_beside_it_by_its_code() -> None:
    errors = errors_in("de", contact_name="Frau Peters\nRaum 1")
    assert errors == {"contact_name": "Bitte ohne Steuerzeichen und Zeilenumbrüche."}
    assert errors_in("en", contact_name="Frau Peters\nRaum 1") == {
        "contact_name": "Please leave out control characters and line breaks."
    }


def test_the_limit_the_schema_names_is_in_the_message() -> None:
    errors = errors_in("de", notes="x" * 1001)
    assert errors == {"notes": "Das ist zu lang: höchstens 1000 Zeichen."}


@pytest.mark.parametrize(
    ("location", "code", "field"),
    [
        (("contact_phone",), "phone_format", "contact_phone"),
        # The point is never typed: an error of it belongs beside the address.
        (("location", "lon"), "less_than_equal", "address"),
        (("location",), "missing", "address"),
        (("start",), "timezone_missing", "date"),
        ((), "end_before_start", "duration"),
        ((), "place_or_location_required", "place"),
        ((), "some_new_rule", "form"),
    ],
)
def test_an_error_goes_where_its_location_or_code_says(
    location: tuple[str, ...], code: str, field: str
) -> None:
    assert forms.form_field(location, code) == field


@pytest.mark.parametrize(
    ("typed", "number"),
    [("90", 90), ("0", 0), ("007", 7), ("²", None), ("1²", None), ("١٢", None), ("１２", None)]
    + [("-1", None), (" 1", None), ("1_0", None), ("", None), ("9" * 30, None)],
)
def test_a_whole_number_is_ascii_digits_within_the_id_range(typed: str, number: int | None) -> None:
    assert whole_number(typed) == number
    assert whole_number(str(MAX_ID)) == MAX_ID and whole_number(str(MAX_ID + 1)) is None


@pytest.mark.parametrize(
    ("typed", "moment"),
    [("09:30", time(9, 30)), ("9:30", time(9, 30)), (" 9.30 ", time(9, 30))]
    + [("15.45", time(15, 45)), ("15,45", time(15, 45)), ("0930", time(9, 30))]
    + [("00:00", time(0, 0)), ("23:59", time(23, 59)), ("24:00", None), ("9:60", None)]
    + [("9", None), ("930", None), ("9:3", None), ("09:30:00", None), ("٠٩:٣٠", None)],
)
def test_a_time_is_read_as_people_type_it_without_a_time_picker(
    typed: str, moment: time | None
) -> None:
    """A browser with no time picker shows a text box; ISO read "15.45" as 15:00."""
    assert clock_time(typed) == moment


def test_a_time_typed_with_a_point_files_the_request_at_that_time() -> None:
    form, data = forms.parse_request_form({**GOOD, "time": "9.30"}, tz=BERLIN)
    assert form.errors == {} and data is not None
    assert data.start.isoformat() == "2026-12-01T09:30:00+01:00"


@pytest.mark.parametrize(
    ("typed", "day"),
    [("2026-12-03", date(2026, 12, 3)), ("03.12.2026", date(2026, 12, 3))]
    + [(" 3.12.2026 ", date(2026, 12, 3)), ("29.02.2028", date(2028, 2, 29))]
    + [("29.02.2027", None), ("03.12.26", None), ("3.12.", None), ("12/03/2026", None)]
    + [("32.12.2026", None), ("٠٣.١٢.٢٠٢٦", None), ("", None)],
)
def test_a_day_is_read_as_people_type_it_without_a_date_picker(
    typed: str, day: date | None
) -> None:
    """A browser with no date picker shows a text box, and a German types 03.12.2026."""
    assert calendar_day(typed) == day


def test_a_day_typed_the_german_way_files_the_request_and_its_repeats() -> None:
    typed = {**GOOD, "date": "1.12.2026", "repeat_weeks": "1", "until": "15.12.2026"}
    form, data = forms.parse_request_form(typed, tz=BERLIN)
    assert form.errors == {} and data is not None
    assert data.start.isoformat() == "2026-12-01T09:00:00+01:00"
    assert forms.repeat_of(form) == (1, date(2026, 12, 15))


@pytest.mark.parametrize("typed", ["9" * 30, "²", "1²"])
def test_a_duration_that_is_no_choice_is_marked_not_computed(typed: str) -> None:
    # Thirty nines went into a timedelta and overflowed; "²" passed isdigit and broke int.
    assert errors_in("en", duration=typed) == {"duration": "Please pick a duration from the list."}


def test_a_time_the_clocks_skip_is_refused_beside_the_time() -> None:
    """28 March 2027: the clocks in Berlin go from 02:00 straight to 03:00."""
    errors = errors_in("de", date="2027-03-28", time="02:30", duration="60")
    assert list(errors) == ["time"]
    assert "gibt es an diesem Tag nicht" in errors["time"]


@pytest.mark.parametrize(
    ("day", "at", "start", "end"),
    [
        # Summer time starts at 02:00: an hour from 01:30 ends at 03:30 on the clock.
        ("2027-03-28", "01:30", "2027-03-28T01:30:00+01:00", "2027-03-28T03:30:00+02:00"),
        # 02:00-03:00 comes twice on 31 October; the first (summer time) is meant.
        ("2027-10-31", "02:30", "2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"),
    ],
)
def test_an_hour_across_the_clock_change_is_an_hour(
    day: str, at: str, start: str, end: str
) -> None:
    form, data = forms.parse_request_form(
        {**GOOD, "date": day, "time": at, "duration": "60"}, tz=BERLIN
    )
    assert form.errors == {} and data is not None
    assert (data.start.isoformat(), data.end.isoformat()) == (start, end)
    assert data.end.astimezone(UTC) - data.start.astimezone(UTC) == timedelta(hours=1)


@pytest.mark.parametrize("typed", ["", "25:00", "9"])
def test_a_wrong_time_marks_the_time_only_not_the_valid_date(typed: str) -> None:
    assert list(errors_in("de", time=typed)) == ["time"]
