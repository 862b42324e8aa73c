"""The audit log page: filter by record, person and period, or to one mediator's or one
request's history; actions in words; errors beside the filter fields."""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch import audit
from dispatch.auditing.views import ACTIONS
from dispatch.clock import ManualClock
from dispatch.jobs.models import ReportState
from dispatch.places.models import Place
from dispatch.requests.models import Request
from dispatch.storage import unit_of_work
from tests.allowances.factories import done_job
from tests.conftest import ROOT, Staff
from tests.web.conftest import Person, csrf_of


def test_the_page_shows_who_changed_a_place_and_filters(
    signed_in: Callable[[Person], TestClient], coord_person: Person, place: Place
) -> None:
    web = signed_in(coord_person)
    page = web.get(f"/dashboard/places/{place.id}")
    web.post(
        f"/dashboard/places/{place.id}/active",
        data={"csrf_token": csrf_of(page), "active": "false"},
    )
    log = web.get(f"/dashboard/audit?entity=place&entity_id={place.id}")
    assert log.status_code == 200
    assert "deaktiviert" in log.text and coord_person.user.name in log.text
    assert f'href="/dashboard/places/{place.id}"' in log.text
    assert "1 Ereignis" in log.text

    mine = web.get(f"/dashboard/audit?actor_id={coord_person.id}")
    assert "angemeldet" in mine.text  # the sign-in itself is in the log

    web.get("/lang/en")
    english = web.get(f"/dashboard/audit?entity=place&entity_id={place.id}")
    assert "deactivated" in english.text and "1 event" in english.text


def test_bad_filters_are_shown_beside_their_fields(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    page = web.get("/dashboard/audit?entity=raumschiff&entity_id=abc&from=2026-13-01")
    assert page.status_code == 422
    for name in ("entity", "entity_id", "from"):
        assert f'id="{name}-error"' in page.text
    assert 'value="abc"' in page.text
    order = web.get("/dashboard/audit?from=2026-12-05&to=2026-12-01")
    assert order.status_code == 422 and 'id="to-error"' in order.text


def test_a_caseworker_may_not_read_the_log(
    signed_in: Callable[[Person], TestClient], case_person: Person
) -> None:
    assert signed_in(case_person).get("/dashboard/audit").status_code == 403


def _event(engine: Engine, at: datetime, action: str, entity: str, entity_id: int) -> None:
    with unit_of_work(engine) as session:
        audit.record(
            session,
            at=at,
            actor_kind="mediator" if entity == "assignment" else "system",
            actor_id=None,
            action=action,
            entity=entity,
            entity_id=entity_id,
        )


def test_a_mediators_history_shows_their_events_only_in_words(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    web = signed_in(coord_person)
    yonas = add_mediator(name="Yonas Habte")  # "added"
    helen = add_mediator(name="Helen Tekle")
    caseworker = Staff(
        user_id=case_person.id, organisation_id=case_person.organisation_id, token=""
    )
    _, his_job = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=yonas,
        start="2026-11-03T09:00:00+01:00",
        end="2026-11-03T10:00:00+01:00",
    )
    _, her_job = done_job(
        engine,
        caseworker=caseworker,
        mediator_id=helen,
        start="2026-11-04T09:00:00+01:00",
        end="2026-11-04T10:00:00+01:00",
    )
    _event(engine, clock.now(), "assignment.report", "assignment", his_job)
    _event(engine, clock.now(), "assignment.no_show", "assignment", her_job)
    for mediator_id in (yonas, helen):
        page = web.get(f"/dashboard/pool/{mediator_id}")
        assert f'href="/dashboard/audit?mediator_id={mediator_id}"' in page.text
        web.post(
            f"/dashboard/pool/{mediator_id}/pause",
            data={"csrf_token": csrf_of(page), "paused": "true"},
        )

    log = web.get(f"/dashboard/audit?mediator_id={yonas}")

    assert log.status_code == 200, log.text
    text = html.unescape(log.text)
    assert "Verlauf von Yonas Habte" in text
    assert "3 Ereignisse" in text
    assert "angelegt" in text and "geändert" in text and "Stunden gemeldet" in text
    assert "Nichterscheinen" not in text  # Helen's no-show is hers
    assert "mediator.update" not in text and "assignment.report" not in text  # words, not codes


def test_a_requests_history_is_linked_from_its_page(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    web = signed_in(coord_person)
    mine, other = file_request(case_person), file_request(case_person)
    page = web.get(f"/dashboard/requests/{mine.id}")
    assert f'href="/dashboard/audit?request_id={mine.id}"' in page.text

    log = web.get(f"/dashboard/audit?request_id={mine.id}")

    assert log.status_code == 200, log.text
    assert f"Verlauf der Anfrage {mine.id}" in log.text
    assert "1 Ereignis" in log.text and "gestellt" in log.text
    assert f'href="/dashboard/requests/{other.id}"' not in log.text


def test_a_history_keeps_its_filter_from_page_to_page(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    add_mediator: Callable[..., int],
    engine: Engine,
    clock: ManualClock,
) -> None:
    web = signed_in(coord_person)
    yonas = add_mediator(name="Yonas Habte")
    add_mediator(name="Helen Tekle")
    for minutes in range(55):
        _event(
            engine, clock.now() + timedelta(minutes=minutes), "mediator.update", "mediator", yonas
        )

    first = web.get(f"/dashboard/audit?mediator_id={yonas}")

    assert "56 Ereignisse" in first.text  # added, and changed 55 times
    assert f'href="/dashboard/audit?mediator_id={yonas}&amp;page=2"' in first.text
    second = web.get(f"/dashboard/audit?mediator_id={yonas}&page=2")
    assert "Seite 2 von 2" in second.text and "Verlauf von Yonas Habte" in second.text


def test_a_history_of_nobody_or_of_a_word_is_refused_beside_its_field(
    signed_in: Callable[[Person], TestClient], coord_person: Person
) -> None:
    web = signed_in(coord_person)
    for query, field, message in (
        ("mediator_id=abc", "mediator_id", "Bitte geben Sie eine Datensatznummer an"),
        ("mediator_id=99999", "mediator_id", "Es gibt keine Sprachmittlung mit der Nr. 99999."),
        ("request_id=99999", "request_id", "Es gibt keine Anfrage mit der Nr. 99999."),
        ("request_id=-3", "request_id", "Bitte geben Sie eine Datensatznummer an"),
    ):
        page = web.get(f"/dashboard/audit?{query}")
        assert page.status_code == 422, query
        assert f'id="{field}-error"' in page.text and message in html.unescape(page.text)
    web.get("/lang/en")
    english = web.get("/dashboard/audit?mediator_id=99999")
    assert english.status_code == 422
    assert "There is no mediator with id 99999." in english.text


#: Actions the service writes from a pattern (an f-string), and what the pattern becomes.
ACTION_FAMILIES = {
    "job_report.": [f"job_report.{state}" for state in ReportState if state != "reported"],
    "mediator.": ["mediator.create", "mediator.update"],
}


def recorded_actions() -> set[str]:
    """Every action code the service writes to the audit log (the `action=` of its calls)."""
    found: set[str] = set()
    for path in (ROOT / "dispatch").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                for part in ast.walk(keyword.value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        if re.fullmatch(r"[a-z_]+\.[a-z_]+", part.value):
                            found.add(part.value)
                    elif isinstance(part, ast.JoinedStr):
                        head = part.values[0]
                        assert isinstance(head, ast.Constant), f"{path}: {ast.unparse(part)}"
                        assert head.value in ACTION_FAMILIES, f"{path}: {ast.unparse(part)}"
                        found.update(ACTION_FAMILIES[head.value])
    return found


def test_every_action_the_service_records_is_shown_in_words() -> None:
    recorded = recorded_actions()
    assert {"mediator.erase", "offer.accept", "job_report.approved"} <= recorded
    assert sorted(recorded - set(ACTIONS)) == []
