"""The coordinator's allowance pages and the funders' report page (German first)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from dispatch.requests.models import Mode
from tests.allowances.factories import done_job
from tests.conftest import Staff
from tests.web.conftest import Person, csrf_of


def _october_job(engine: Engine, case_person: Person, mediator_id: int) -> None:
    # 09:00-10:10 in person, 20 km by car (30 min travel): 70 + 30 = 100 min ->
    # 4 started half hours x 7.50 = 30.00 + 20 km x 0.30 = 6.00 = 36.00 EUR.
    done_job(
        engine,
        caseworker=Staff(case_person.id, case_person.organisation_id, ""),
        mediator_id=mediator_id,
        start="2026-10-14T09:00:00+02:00",
        end="2026-10-14T10:10:00+02:00",
        km="20",
    )
    # 45 min by phone: 2 half hours = 15.00 EUR.
    done_job(
        engine,
        caseworker=Staff(case_person.id, case_person.organisation_id, ""),
        mediator_id=mediator_id,
        start="2026-10-28T14:00:00+01:00",
        end="2026-10-28T14:45:00+01:00",
        mode=Mode.phone,
        funding_source="municipal",
    )


def test_month_page_pays_and_freezes(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)
    web = signed_in(coord_person)
    page = web.get("/dashboard/allowances?month=2026-10")
    assert page.status_code == 200
    assert "Amina Haddad" in page.text
    # 36,00 € + 15,00 € = 51,00 € in German.
    assert "51,00\xa0€" in page.text and "state: 36,00\xa0€" in page.text
    assert "51,00\xa0€ als ausgezahlt markieren" in page.text
    assert "den Regeln „Sprachpool-Standard (nach Bielefeld)“" in page.text  # in German
    paid = web.post("/dashboard/allowances/2026-10/paid", data={"csrf_token": csrf_of(page)})
    assert paid.status_code == 303
    after = web.get(paid.headers["location"])
    assert "als ausgezahlt markiert" in after.text
    assert "als ausgezahlt markieren" not in after.text
    # Paying again without anything open: a page that says so, nothing written.
    again = web.post("/dashboard/allowances/2026-10/paid", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409
    assert "alle freigegebenen Einsätze sind ausgezahlt" in again.text


def test_the_running_month_is_a_preview_without_paying_or_exports(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    done_job(  # 45 min by phone on 3 November: 2 half hours = 15.00 EUR
        engine,
        caseworker=Staff(case_person.id, case_person.organisation_id, ""),
        mediator_id=mediator_id,
        start="2026-11-03T14:00:00+01:00",
        end="2026-11-03T14:45:00+01:00",
        mode=Mode.phone,
    )
    web = signed_in(coord_person)
    page = web.get("/dashboard/allowances?month=2026-11")  # today is 30 November
    assert page.status_code == 200, page.text
    assert "Amina Haddad" in page.text and "15,00\xa0€" in page.text
    assert "Vorschau der bisher freigegebenen Einsätze" in page.text
    assert "ab Dienstag, 1. Dezember 2026" in page.text
    assert "als ausgezahlt markieren" not in page.text and "export.csv" not in page.text
    assert "/dashboard/allowances/2026-11/mediators/" not in page.text
    paying = web.post("/dashboard/allowances/2026-11/paid", data={"csrf_token": csrf_of(page)})
    assert paying.status_code == 422  # still refused by the service


def test_a_month_to_come_is_shown_beside_the_field(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/allowances?month=2026-12")
    assert page.status_code == 422
    assert 'id="month-error"' in page.text and "noch nicht vorbei" in page.text
    assert 'value="2026-12"' in page.text
    default = web.get("/dashboard/allowances")
    assert default.status_code == 200 and 'value="2026-10"' in default.text


def test_month_outside_the_calendar_is_shown_beside_the_field_in_the_pages_language(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    for month in ("0000-01", "9999-12"):
        page = web.get(f"/dashboard/allowances?month={month}")
        assert page.status_code == 422
        assert 'id="month-error"' in page.text
        assert "Bitte einen Monat von 1900-01 bis 2199-12 angeben." in page.text
    web.get("/lang/en")
    english = web.get("/dashboard/allowances?month=9999-12")
    assert english.status_code == 422
    assert "Give a month from 1900-01 to 2199-12." in english.text


def test_statement_or_payment_of_a_month_outside_the_calendar_is_an_error_page(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/allowances/9999-12/mediators/1")
    assert page.status_code == 422
    assert "Bitte einen Monat von 1900-01 bis 2199-12 angeben." in page.text
    form = web.get("/dashboard/allowances?month=2026-10")
    paid = web.post("/dashboard/allowances/0000-01/paid", data={"csrf_token": csrf_of(form)})
    assert paid.status_code == 422
    assert "Bitte einen Monat von 1900-01 bis 2199-12 angeben." in paid.text


def test_printable_statement_for_signature(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/allowances/2026-10/mediators/{mediator_id}")
    assert page.status_code == 200
    assert "Abrechnung der Aufwandsentschädigung" in page.text
    assert "Unterschrift der Sprachmittlerin" in page.text
    assert "51,00\xa0€" in page.text and "36,00\xa0€" in page.text
    assert "Sprachpool-Standard (nach Bielefeld)" in page.text
    web.get("/lang/en")
    english = web.get(f"/dashboard/allowances/2026-10/mediators/{mediator_id}")
    assert "Sprachpool default (after Bielefeld)" in english.text
    missing = web.get("/dashboard/allowances/2026-10/mediators/999999")
    assert missing.status_code == 404


def test_funders_page_with_charts(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)
    page = signed_in(coord_person).get("/dashboard/reports/funders?from=2026-10-01&to=2026-10-31")
    assert page.status_code == 200
    assert "Förderbericht" in page.text
    assert page.text.count("<svg") >= 3
    # 2 jobs, 51,00 € together: 25,50 € a job.
    assert "25,50\xa0€" in page.text


def _download_links(page: httpx.Response) -> list[str]:
    """Every link on the page that downloads a file, as the browser follows it."""
    return [
        href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)" download', page.text)
    ]


def test_month_page_download_buttons_give_the_files_to_the_signed_in_coordinator(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)
    web = signed_in(coord_person)  # a browser: a session cookie, no bearer token
    page = web.get("/dashboard/allowances?month=2026-10")
    csv_link, xlsx_link = _download_links(page)
    assert csv_link == "/dashboard/allowances/export.csv?month=2026-10"
    assert xlsx_link == "/dashboard/allowances/export.xlsx?month=2026-10"

    as_csv = web.get(csv_link)
    assert as_csv.status_code == 200, as_csv.text
    assert "sprachpool-allowances-2026-10.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Monat" and rows[0][2] == "Name"
    assert [row[2] for row in rows[1:]] == ["Amina Haddad", "Amina Haddad"]

    as_xlsx = web.get(xlsx_link)
    assert as_xlsx.status_code == 200, as_xlsx.text
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Monat" and sheet["C2"].value == "Amina Haddad"


def test_funders_page_csv_button_gives_the_file_to_the_signed_in_coordinator(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)
    web = signed_in(coord_person)
    page = web.get("/dashboard/reports/funders?from=2026-10-01&to=2026-10-31")
    [link] = _download_links(page)
    assert link == "/dashboard/reports/funders.csv?from=2026-10-01&to=2026-10-31"
    download = web.get(link)
    assert download.status_code == 200, download.text
    assert "sprachpool-funders-2026-10-01-2026-10-31.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Bereich"
    # The total row: 2 jobs, 51,00 EUR.
    assert rows[1][3] == "2" and rows[1][5] == "51,00"


def test_no_coordinator_page_links_to_the_token_only_api(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    for url in ("/dashboard/allowances?month=2026-10", "/dashboard/reports/funders"):
        page = web.get(url)
        assert page.status_code == 200
        assert 'href="/api/' not in page.text, url


def test_caseworkers_and_strangers_do_not_download_allowances(
    signed_in: Callable[[Person], TestClient], case_person: Person, web: TestClient
) -> None:
    downloads = (
        "/dashboard/allowances/export.csv?month=2026-10",
        "/dashboard/allowances/export.xlsx?month=2026-10",
        "/dashboard/reports/funders.csv",
    )
    for url in downloads:
        stranger = web.get(url, follow_redirects=False)
        assert stranger.status_code == 303 and stranger.headers["location"].startswith("/login")
    caseworker = signed_in(case_person)
    for url in downloads:
        assert caseworker.get(url).status_code == 403, url


def test_caseworkers_do_not_see_allowances(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    web = signed_in(case_person)
    assert web.get("/dashboard/allowances?month=2026-10").status_code in (403, 404)
    assert web.get("/dashboard/reports/funders").status_code in (403, 404)


def test_dashboard_card_per_funding_source(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    done_job(
        engine,
        caseworker=Staff(case_person.id, case_person.organisation_id, ""),
        mediator_id=mediator_id,
        start="2026-10-28T14:00:00+01:00",
        end="2026-10-28T14:45:00+01:00",
        mode=Mode.phone,
        funding_source="municipal",
    )
    page = signed_in(coord_person).get("/dashboard")
    assert page.status_code == 200
    card = page.text[page.text.index('id="budget-municipal"') :]
    # The tests' policy: 20.000 € a year; 45 min by phone = 2 half hours = 15,00 € spent.
    assert "Kommunaler Haushalt" in card
    assert "20.000,00\xa0€" in card and "15,00\xa0€" in card


def test_an_erased_mediator_s_unpaid_allowance_shows_apart_and_is_not_offered_for_paying(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    mediator_id = add_mediator(name="Amina Haddad", travel_mode="car")
    _october_job(engine, case_person, mediator_id)  # 51,00 € approved, not paid
    web = signed_in(coord_person)
    erase_page = web.get(f"/dashboard/pool/{mediator_id}/erase")
    shown = re.search(r'name="owed_euros" value="([^"]+)"', erase_page.text)
    assert shown is not None
    erased = web.post(
        f"/dashboard/pool/{mediator_id}/erase",
        data={
            "csrf_token": csrf_of(erase_page),
            "confirm_unpaid": "yes",
            "owed_euros": shown.group(1),
        },
    )
    assert erased.status_code == 303, erased.text
    page = web.get("/dashboard/allowances?month=2026-10")
    assert "51,00\xa0€ nicht ausgezahlt: gelöscht" in page.text
    assert "als ausgezahlt markieren" not in page.text


def test_the_month_and_its_statement_show_a_mediators_own_monthly_limit(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
) -> None:
    limited = add_mediator(name="Amina Haddad", travel_mode="car", monthly_limit="250")
    unlimited = add_mediator(name="Omar Said", travel_mode="car", email="omar@example.org")
    for mediator_id in (limited, unlimited):
        _october_job(engine, case_person, mediator_id)
    web = signed_in(coord_person)
    page = web.get("/dashboard/allowances?month=2026-10")
    # Only the one with a limit: 51,00 € of 250,00 € in October.
    assert page.text.count("Monatsgrenze: 250,00\xa0€ – erreicht: 51,00\xa0€") == 1
    statement = web.get(f"/dashboard/allowances/2026-10/mediators/{limited}")
    assert "Monatsgrenze: 250,00\xa0€ – erreicht: 51,00\xa0€" in statement.text
    other = web.get(f"/dashboard/allowances/2026-10/mediators/{unlimited}")
    assert "Monatsgrenze" not in other.text
    web.get("/lang/en")
    english = web.get(f"/dashboard/allowances/2026-10/mediators/{limited}")
    assert "Monthly limit: €250.00 – reached: €51.00" in english.text
    api = web.get("/dashboard/allowances?month=2026-10")
    assert "Monthly limit: €250.00 – reached: €51.00" in api.text
