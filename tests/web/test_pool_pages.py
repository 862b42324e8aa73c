"""The coordinator's pool pages: add and edit a mediator, absences, clearance, erasure,
the CSV upload with a preview, and the exports for German Excel."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.jobs.models import JobReport, ReportState
from dispatch.mediators.models import Absence, Mediator, MediatorLanguage
from dispatch.offers import flows as offer_flows
from dispatch.places.models import Place
from dispatch.requests.models import Mode
from dispatch.storage import unit_of_work
from dispatch.users.models import User
from dispatch.web import maps
from tests.allowances.factories import done_job
from tests.conftest import Staff, get_row
from tests.web.conftest import Person, csrf_of

NEW_MEDIATOR = {
    "name": "Helen Tekle",
    "phone": "+49 151 1234 0099",
    "email": "helen@example.org",
    "channels": ["sms"],
    "message_locale": "de",
    "gender": "f",
    "lang-0": "ti",
    "level-0": "native",
    "lang-1": "am",
    "level-1": "fluent",
    "german_level": "fluent",
    "qualifications": ["medical"],
    "home_lat": "51,7561",
    "home_lon": "8.0452",
    "travel_mode": "bike",
    "max_travel_km": "7,5",
    "max_hours_per_week": "10",
    "weekday-0": "1",
    "start-0": "08:00",
    "end-0": "16:00",
    "trained_on": "2026-09-12",
    "pledge_signed_on": "2026-09-12",
    "police_certificate_seen_on": "2026-09-20",
    "listed_until": "2027-09-30",
}


def post_form(web: TestClient, url: str, form_url: str, data: dict[str, object]) -> object:
    page = web.get(form_url)
    assert page.status_code == 200, page.text
    return web.post(url, data={"csrf_token": csrf_of(page), **data})


def test_a_coordinator_adds_a_mediator_with_two_languages_and_edits_the_phone(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    assert "Sprachmittler*in hinzufügen" in form.text
    created = web.post("/dashboard/pool/new", data={"csrf_token": csrf_of(form), **NEW_MEDIATOR})
    assert created.status_code == 303, created.text
    mediator_id = int(re.findall(r"/dashboard/pool/(\d+)", created.headers["location"])[0])
    with unit_of_work(engine) as session:
        mediator = get_row(session, Mediator, mediator_id)
        assert (mediator.phone, mediator.max_travel_km, mediator.home_lat) == (
            "+4915112340099",
            7.5,
            51.7561,
        )
        assert mediator.listed_until == date(2027, 9, 30)
        languages = session.exec(
            select(MediatorLanguage.language).where(MediatorLanguage.mediator_id == mediator_id)
        ).all()
        assert sorted(languages) == ["am", "ti"]
    page = web.get(f"/dashboard/pool/{mediator_id}?saved=created")
    assert "Tigrinya" in page.text and "freigegeben" in page.text
    edit = web.get(f"/dashboard/pool/{mediator_id}/edit")
    assert 'value="+4915112340099"' in edit.text
    changed = web.post(
        f"/dashboard/pool/{mediator_id}/edit",
        data={**NEW_MEDIATOR, "phone": "+49 151 1234 0100", "csrf_token": csrf_of(edit)},
    )
    assert changed.status_code == 303, changed.text
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).phone == "+4915112340100"


def test_the_mediator_page_counts_the_jobs_held_this_month_against_the_monthly_limit(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    file_request: Callable[..., Any],
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
) -> None:
    """The engine counts a held job at what it is expected to pay; the page says so, or the
    coordinator wonders why someone at 0 of 250 gets no offers."""
    mediator_id = add_mediator(name="Amina Haddad", monthly_limit="250")
    web = signed_in(coord_person)
    assert "von 250,00\xa0€ in diesem Monat</dd>" in web.get(f"/dashboard/pool/{mediator_id}").text
    job = file_request(case_person, start=clock.now() + timedelta(hours=2), minutes=180)
    with unit_of_work(engine) as session:
        offer_flows.assign_directly(
            session,
            request_id=job.id,
            mediator_id=mediator_id,
            actor=get_row(session, User, coord_person.id),
            now=clock.now(),
            settings=settings,
        )

    page = web.get(f"/dashboard/pool/{mediator_id}").text

    shown = re.search(r"0,00\xa0€ von 250,00\xa0€ in diesem Monat; mit den Einsätzen, die "
                      r"die Person hat, etwa (\d+),(\d\d)\xa0€", page)  # fmt: skip
    assert shown is not None, page
    assert Decimal(f"{shown[1]}.{shown[2]}") > 0


def test_a_monthly_limit_is_set_shown_changed_and_cleared_in_the_form(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    # The figure of the allowance rules is the hint (config/allowance.toml [monthly_limit]).
    assert "250,00\xa0€: SGB II § 11b" in form.text
    created = web.post(
        "/dashboard/pool/new",
        data={"csrf_token": csrf_of(form), **NEW_MEDIATOR, "monthly_limit": "250"},
    )
    assert created.status_code == 303, created.text
    mediator_id = int(re.findall(r"/dashboard/pool/(\d+)", created.headers["location"])[0])
    page = web.get(f"/dashboard/pool/{mediator_id}")
    assert "0,00\xa0€ von 250,00\xa0€ in diesem Monat" in page.text
    edit = web.get(f"/dashboard/pool/{mediator_id}/edit")
    assert 'name="monthly_limit" inputmode="decimal" maxlength="12" value="250"' in edit.text
    changed = web.post(
        f"/dashboard/pool/{mediator_id}/edit",
        data={**NEW_MEDIATOR, "monthly_limit": "199,50", "csrf_token": csrf_of(edit)},
    )
    assert changed.status_code == 303, changed.text
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).monthly_limit == Decimal("199.50")
    assert 'value="199.50"' in web.get(f"/dashboard/pool/{mediator_id}/edit").text
    refused = web.post(
        f"/dashboard/pool/{mediator_id}/edit",
        data={**NEW_MEDIATOR, "monthly_limit": "viel", "csrf_token": csrf_of(edit)},
    )
    assert refused.status_code == 422
    assert 'id="monthly_limit-error"' in refused.text and 'value="viel"' in refused.text
    cleared = web.post(
        f"/dashboard/pool/{mediator_id}/edit",
        data={**NEW_MEDIATOR, "monthly_limit": "", "csrf_token": csrf_of(edit)},
    )
    assert cleared.status_code == 303, cleared.text
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).monthly_limit is None
    assert "Monatsgrenze</dt>" not in web.get(f"/dashboard/pool/{mediator_id}").text


def test_a_number_already_in_the_pool_is_refused_beside_the_phone_naming_its_holder(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    first = web.post("/dashboard/pool/new", data={"csrf_token": csrf_of(form), **NEW_MEDIATOR})
    assert first.status_code == 303, first.text

    again = web.post(
        "/dashboard/pool/new",
        data={**NEW_MEDIATOR, "name": "Hiwet Tekle", "csrf_token": csrf_of(form)},
    )

    assert again.status_code == 422
    assert "Diese Nummer gehört schon Helen Tekle im Pool" in again.text
    assert 'value="Hiwet Tekle"' in again.text  # what was typed is kept


def test_bad_input_is_shown_beside_the_field_and_kept(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    refused = web.post(
        "/dashboard/pool/new",
        data={
            **NEW_MEDIATOR,
            "csrf_token": csrf_of(form),
            "phone": "0151 kaputt",
            "max_travel_km": "weit",
            "listed_until": "31.12.2027",
            "lang-1": "ti",
        },
    )
    assert refused.status_code == 422
    text = refused.text
    assert 'id="phone-error"' in text and "internationalen Format" in text
    assert 'id="max_travel_km-error"' in text
    assert 'id="listed_until-error"' in text
    assert 'value="0151 kaputt"' in text and 'value="weit"' in text
    # SMS without a phone number: the service's rule, beside the phone field too.
    no_phone = web.post(
        "/dashboard/pool/new",
        data={**NEW_MEDIATOR, "csrf_token": csrf_of(form), "phone": ""},
    )
    assert no_phone.status_code == 422
    assert "SMS ist gewählt" in no_phone.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).all() == []


def test_an_address_with_umlauts_is_taken_after_the_at_and_explained_before_it(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    refused = web.post(
        "/dashboard/pool/new",
        data={**NEW_MEDIATOR, "csrf_token": csrf_of(form), "email": "jörg@bäckerei-müller.de"},
    )
    assert refused.status_code == 422
    assert 'id="email-error"' in refused.text
    assert "vor dem @ nur lateinische Buchstaben ohne Akzente" in html.unescape(refused.text)
    assert 'value="jörg@bäckerei-müller.de"' in refused.text
    created = web.post(
        "/dashboard/pool/new",
        data={**NEW_MEDIATOR, "csrf_token": csrf_of(form), "email": "info@bäckerei-müller.de"},
    )
    assert created.status_code == 303, created.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator.email)).one() == "info@bäckerei-müller.de"


def test_a_home_at_0_0_or_hundreds_of_km_away_is_refused_beside_it(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    for lat, lon, words in (
        ("0", "0", "Breite 0, Länge 0 liegt im Golf von Guinea"),
        ("52,52", "13,40", "Dieser Punkt liegt 375 km vom Mittelpunkt des Pool-Gebiets entfernt"),
    ):
        refused = web.post(
            "/dashboard/pool/new",
            data={**NEW_MEDIATOR, "csrf_token": csrf_of(form), "home_lat": lat, "home_lon": lon},
        )
        assert refused.status_code == 422
        assert 'id="home-error"' in refused.text and words in refused.text
        assert f'value="{lat}"' in refused.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).all() == []


def test_a_clearance_day_in_the_future_is_refused_beside_it_and_kept(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    """Today is 30 November 2026: a certificate "seen" in 2062 is a typo for 2026."""
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    refused = web.post(
        "/dashboard/pool/new",
        data={
            **NEW_MEDIATOR,
            "csrf_token": csrf_of(form),
            "police_certificate_seen_on": "2062-09-20",
            "listed_until": "2030-09-30",
        },
    )
    assert refused.status_code == 422
    text = refused.text
    assert 'id="police_certificate_seen_on-error"' in text
    assert "Dieser Tag liegt in der Zukunft" in text
    assert 'value="2062-09-20"' in text and 'value="2030-09-30"' in text
    assert 'id="listed_until-error"' not in text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).all() == []


def test_an_absence_by_days_is_added_and_removed(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    mediator_id = add_mediator()
    url = f"/dashboard/pool/{mediator_id}"
    wrong = post_form(web, f"{url}/absences", url, {"first": "2026-12-26", "last": "2026-12-12"})
    assert getattr(wrong, "status_code", None) == 422
    added = post_form(web, f"{url}/absences", url, {"first": "2026-12-12", "last": "2026-12-26"})
    assert getattr(added, "status_code", None) == 303
    with unit_of_work(engine) as session:
        [absence] = session.exec(select(Absence).where(Absence.mediator_id == mediator_id)).all()
        assert absence.start == datetime.fromisoformat("2026-12-12T00:00:00+01:00")
        assert absence.end == datetime.fromisoformat("2026-12-27T00:00:00+01:00")
        absence_id = absence.id
    page = web.get(url)
    assert "12.12.2026 – 26.12.2026" in page.text
    removed = post_form(web, f"{url}/absences/{absence_id}/delete", url, {})
    assert getattr(removed, "status_code", None) == 303
    with unit_of_work(engine) as session:
        assert session.exec(select(Absence)).all() == []


def test_erasure_is_confirmed_first_and_then_done(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    mediator_id = add_mediator(name="Yonas Habte")
    confirm = web.get(f"/dashboard/pool/{mediator_id}/erase")
    assert "Yonas Habte" in confirm.text and "nicht rückgängig" in confirm.text
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).erased_at is None
    done = web.post(f"/dashboard/pool/{mediator_id}/erase", data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303
    with unit_of_work(engine) as session:
        erased = get_row(session, Mediator, mediator_id)
        assert erased.erased_at is not None and erased.phone is None
    assert web.get(f"/dashboard/pool/{mediator_id}").status_code == 404


CSV_GOOD = (
    "name,phone,languages,availability,trained_on,pledge_signed_on,"
    "police_certificate_seen_on,listed_until\n"
    "Helen Tekle,+4915112340001,ti:native; am:fluent,Di 08:00-16:00,"
    "2026-09-01,2026-09-01,2026-09-01,2027-09-01\n"
    "Yonas Habte,+4915112300010,ti:native,,,,,\n"
)


def test_csv_upload_previews_then_imports(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    add_mediator(name="Old Name")  # phone +4915112300010, as on the CSV's line 3
    page = web.get("/dashboard/pool/import")
    preview = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", ("\ufeff" + CSV_GOOD).encode(), "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    assert "1 werden hinzugefügt, 1 aktualisiert" in preview.text
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Mediator)).all()) == 1  # nothing written yet
    text = re.search(r'name="text" value="([^"]*)"', preview.text, re.S)
    assert text is not None
    done = web.post(
        "/dashboard/pool/import/confirm",
        data={"csrf_token": csrf_of(preview), "text": CSV_GOOD.replace("\n", "\r\n")},
    )
    assert done.status_code == 303, done.text
    with unit_of_work(engine) as session:
        names = sorted(m.name for m in session.exec(select(Mediator)))
        assert names == ["Helen Tekle", "Yonas Habte"]


def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_row(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/pool/import")
    bad = CSV_GOOD + "Kaputt,0151 nope,ti:native,,,,,\n"
    refused = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "Nichts wurde importiert" in refused.text
    assert "Zeile 4, Spalte phone: Bitte im internationalen Format" in refused.text
    forced = web.post(
        "/dashboard/pool/import/confirm", data={"csrf_token": csrf_of(page), "text": bad}
    )
    assert forced.status_code == 422
    unreadable = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", b"name,languages\n\x81\x8d,ti:native\n")},
    )
    assert unreadable.status_code == 422 and "CSV UTF-8" in unreadable.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).all() == []


@pytest.mark.parametrize(
    ("text", "named", "kept"),
    [
        pytest.param(
            "name,phone,email,languages\nJörg,,jörg@köln.de,ti:native\n"
            "Köln,,info@köln.de,ti:native\n",
            ["Zeile 2, Spalte email: Bitte schreiben Sie vor dem @ nur"],
            "Zeile 3",
            id="umlauts-before-the-at",
        ),
        pytest.param(
            "name,phone,languages,home_lat,home_lon\n"
            "Null,+4915112340091,ti:native,0,0\n"
            "Berlin,+4915112340092,ti:native,52.52,13.40\n"
            "Beckum,+4915112340093,ti:native,51.7561,8.0452\n",
            [
                "Zeile 2, Spalte home_lat, home_lon: Breite 0, Länge 0 liegt im Golf",
                "Zeile 3, Spalte home_lat, home_lon: Dieser Punkt liegt 375 km",
            ],
            "Zeile 4",
            id="home-at-0-0-or-far-away",
        ),
        pytest.param(
            "name,phone,languages,trained_on,listed_until\n"
            "Zukunft,+4915112340091,ti:native,2062-09-12,2027-09-30\n"
            "Heute,+4915112340092,ti:native,2026-11-30,2031-09-30\n",
            ["Zeile 2, Spalte trained_on: Dieser Tag liegt in der Zukunft"],
            "Zeile 3",
            id="clearance-day-in-the-future",
        ),
    ],
)
def test_a_csv_row_the_rules_refuse_is_named_with_the_reason_at_the_preview(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    text: str,
    named: list[str],
    kept: str,
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/pool/import")
    refused = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", text.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    errors = html.unescape(refused.text)
    for line in named:
        assert line in errors
    assert kept not in errors  # the good row is not named


def test_a_csv_as_german_excel_saves_it_is_previewed_and_imported(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    # Excel's plain "CSV" on a German Windows: semicolons, Windows-1252, CRLF.
    saved = "name;phone;languages\r\nJürgen Müller;+4915112340001;ti:native\r\n"
    web = signed_in(coord_person)
    page = web.get("/dashboard/pool/import")
    preview = web.post(
        "/dashboard/pool/import",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("pool.csv", saved.encode("cp1252"), "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    assert "Jürgen Müller" in preview.text and "1 werden hinzugefügt" in preview.text
    text = re.search(r'name="text" value="([^"]*)"', preview.text, re.S)
    assert text is not None
    done = web.post(
        "/dashboard/pool/import/confirm",
        data={"csrf_token": csrf_of(preview), "text": html.unescape(text[1])},
    )
    assert done.status_code == 303, done.text
    with unit_of_work(engine) as session:
        assert [m.name for m in session.exec(select(Mediator))] == ["Jürgen Müller"]


def test_filters_by_clearance_level_subject_and_area(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    place: Place,
) -> None:
    web = signed_in(coord_person)
    add_mediator(name="Cleared Native")
    add_mediator(
        name="Waiting Basic",
        languages=[{"language": "ar", "level": "basic"}],
        trained_on=None,
        qualifications=[],
        home={"lat": 50.94, "lon": 6.96},  # Cologne, 110 km away
    )

    def names(query: str) -> list[str]:
        page = web.get(f"/dashboard/pool?{query}")
        assert page.status_code == 200, page.text
        return sorted(re.findall(r'/dashboard/pool/\d+">([^<]+)</a>', page.text))

    assert names("") == ["Cleared Native", "Waiting Basic"]
    assert names("clearance=waiting") == ["Waiting Basic"]
    assert names("clearance=cleared") == ["Cleared Native"]
    assert names("language=ar&level=fluent") == ["Cleared Native"]
    assert names("qualification=medical") == ["Cleared Native"]
    assert names(f"near={place.id}&km=10") == ["Cleared Native"]
    assert web.get("/dashboard/pool?level=expert").status_code == 422


def test_pool_export_opens_in_german_excel(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
) -> None:
    web = signed_in(coord_person)
    add_mediator(name="=HYPERLINK(1)", max_travel_km=7.5)
    csv = web.get("/dashboard/pool/export.csv")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeffName;Telefon;")
    row = text.splitlines()[1].split(";")
    assert row[0] == "'=HYPERLINK(1)"
    assert "Arabisch (Muttersprache)" in row[3]
    assert "7,5" in row and "30.09.2027" in row
    xlsx = web.get("/dashboard/pool/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Name" and sheet["G2"].value == 7.5


def test_pool_xlsx_shows_names_and_phones_as_typed_without_apostrophes(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="=1+2")
    with unit_of_work(engine) as session:
        phone = get_row(session, Mediator, mediator_id).phone
    assert phone is not None and phone.startswith("+49")
    xlsx = signed_in(coord_person).get("/dashboard/pool/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    name = sheet.cell(2, header.index("Name") + 1)
    phone_cell = sheet.cell(2, header.index("Telefon") + 1)
    assert phone_cell.value == phone and phone_cell.data_type == "s"
    assert name.value == "=1+2" and name.data_type == "s"  # text, not a formula


def test_a_caseworker_gets_403_on_the_pool_pages(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    for url in ("/dashboard/pool", "/dashboard/pool/new", "/dashboard/pool/import"):
        assert web.get(url).status_code == 403


def test_a_click_on_the_map_sets_the_home_to_save(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    engine: Engine,
    settings: Settings,
) -> None:
    web = signed_in(coord_person)
    form = web.get("/dashboard/pool/new")
    assert 'type="image" name="map"' in form.text
    typed = {k: v for k, v in NEW_MEDIATOR.items() if k not in ("home_lat", "home_lon")}
    # The middle of the picture is the pool's centre: the form comes back with that point
    # (and without the address typed to find it), nothing saved yet.
    half = maps.area_map(settings).size // 2
    clicked = web.post(
        "/dashboard/pool/new",
        data={
            "csrf_token": csrf_of(form),
            **typed,
            "address": "Hinterm Bahnhof",
            "map.x": str(half),
            "map.y": str(half),
        },
    )
    assert clicked.status_code == 200, clicked.text
    assert "Der Punkt ist gesetzt" in clicked.text
    lat = re.findall(r'name="home_lat"[^>]*value="([^"]*)"', clicked.text)[0]
    lon = re.findall(r'name="home_lon"[^>]*value="([^"]*)"', clicked.text)[0]
    assert abs(float(lat) - settings.pool_centre_lat) < 0.01
    assert abs(float(lon) - settings.pool_centre_lon) < 0.01
    assert 'value="Hinterm Bahnhof"' not in clicked.text
    with unit_of_work(engine) as session:
        assert session.exec(select(Mediator)).first() is None

    saved = web.post(
        "/dashboard/pool/new",
        data={"csrf_token": csrf_of(clicked), **typed, "home_lat": lat, "home_lon": lon},
    )
    assert saved.status_code == 303, saved.text
    with unit_of_work(engine) as session:
        mediator = session.exec(select(Mediator)).one()
        assert (mediator.home_lat, mediator.home_lon) == (float(lat), float(lon))

    # A corner of the picture lies outside the pool's circle: refused beside the field.
    outside = web.post(
        "/dashboard/pool/new",
        data={"csrf_token": csrf_of(form), **typed, "map.x": "2", "map.y": "2"},
    )
    assert outside.status_code == 422
    assert "Bitte klicken Sie in den Kreis" in outside.text


def test_erasing_a_mediator_still_owed_money_warns_and_needs_the_box_ticked(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    web = signed_in(coord_person)
    mediator_id = add_mediator(name="Yonas Habte")
    caseworker = Staff(
        user_id=case_person.id, organisation_id=case_person.organisation_id, token=""
    )
    # Approved, not yet paid: 90 min by phone = 3 half hours x 7.50 = 22.50 EUR.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-11-03T09:00:00+01:00",
        end="2026-11-03T10:30:00+01:00",
        mode=Mode.phone,
    )
    # Done last week and reported, not yet confirmed.
    done_job(
        engine,
        caseworker=caseworker,
        mediator_id=mediator_id,
        start="2026-11-24T09:00:00+01:00",
        end="2026-11-24T10:00:00+01:00",
        mode=Mode.phone,
        state=ReportState.reported,
    )

    confirm = web.get(f"/dashboard/pool/{mediator_id}/erase")

    text = html.unescape(confirm.text)
    assert "Sprachpool schuldet Yonas Habte noch Geld" in text
    assert "22,50\xa0€ an genehmigten Aufwandsentschädigungen sind noch nicht ausgezahlt." in text
    assert "1 Einsatz hat stattgefunden" in text
    box = "Trotzdem löschen; die Aufwandsentschädigung von 22,50\xa0€ und die der offenen Einsätze"
    assert box in text
    refused = web.post(
        f"/dashboard/pool/{mediator_id}/erase", data={"csrf_token": csrf_of(confirm)}
    )
    assert refused.status_code == 422
    assert 'id="confirm_unpaid-error"' in refused.text
    assert "Setzen Sie das Häkchen" in html.unescape(refused.text)
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).erased_at is None

    # Meanwhile the reported job is approved: 60 min by phone, 15.00 EUR more. The yes
    # given to the page that showed 22,50 EUR does not cover it.
    with unit_of_work(engine) as session:
        report = session.exec(select(JobReport).where(JobReport.state == "reported")).one()
        report.state, report.approved_at = ReportState.approved, report.reported_at
        session.add(report)
    stale = web.post(
        f"/dashboard/pool/{mediator_id}/erase",
        data={"csrf_token": csrf_of(refused), "confirm_unpaid": "yes", "owed_euros": "22.50"},
    )
    assert stale.status_code == 422
    assert "hat sich geändert, seit die Seite geöffnet wurde" in html.unescape(stale.text)
    assert "37,50\xa0€" in stale.text
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).erased_at is None

    for mangled in ("viel", "NaN", "1e999999"):  # a tampered amount asks again, no 500
        asked = web.post(
            f"/dashboard/pool/{mediator_id}/erase",
            data={"csrf_token": csrf_of(stale), "confirm_unpaid": "yes", "owed_euros": mangled},
        )
        assert asked.status_code == 422, (mangled, asked.status_code)
    done = web.post(
        f"/dashboard/pool/{mediator_id}/erase",
        data={"csrf_token": csrf_of(stale), "confirm_unpaid": "yes", "owed_euros": "37.50"},
    )

    assert done.status_code == 303
    with unit_of_work(engine) as session:
        assert get_row(session, Mediator, mediator_id).erased_at is not None


def test_erasing_a_mediator_owed_nothing_shows_no_warning(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
) -> None:
    web = signed_in(coord_person)
    mediator_id = add_mediator(name="Yonas Habte")
    confirm = web.get(f"/dashboard/pool/{mediator_id}/erase")
    assert "schuldet" not in confirm.text and "confirm_unpaid" not in confirm.text
