"""The request list finds requests again: search by case reference, filters (status, language,
period, caseworker) and pages over the whole history; bad filters are 422 beside the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.requests.models import Request
from dispatch.web import forms
from tests.web.conftest import Person, update_row


def listed(page_text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="row-\w+" id="request-(\d+)"', page_text)]


def move_back(engine: Engine, row: Request, days: int) -> None:
    """Put a request `days` into the past (the service files only future ones)."""
    update_row(
        engine, row, start=row.start - timedelta(days=days), end=row.end - timedelta(days=days)
    )


def test_search_by_reference_reaches_the_whole_history(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    old = file_request(case_person, client_ref="JC-2026-0417")
    move_back(engine, old, 200)
    upcoming = file_request(case_person, client_ref="jc-2026-0417", language="fa")
    file_request(case_person, client_ref="JC-2026-0999")
    web = signed_in(case_person)

    assert listed(web.get("/requests?show=all&q=2026-0417").text) == [upcoming.id, old.id]
    assert listed(web.get("/requests?show=past&q=0417").text) == [old.id]
    assert listed(web.get("/requests?q=0417").text) == [upcoming.id]
    assert listed(web.get("/requests?show=all&q=0417&language=fa").text) == [upcoming.id]
    page = web.get("/requests?show=all&q=0417&status=cancelled")
    assert listed(page.text) == [] and "Keine Anfrage passt zu diesen Filtern." in page.text


def test_period_and_caseworker_filters(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
    file_request: Callable[..., Request],
    clock: ManualClock,
) -> None:
    colleague = make_person("caseworker", "Jobcenter Kreis Warendorf")
    mine = file_request(case_person, start=clock.now() + timedelta(days=3))
    theirs = file_request(colleague, start=clock.now() + timedelta(days=10))
    web = signed_in(case_person)

    assert listed(web.get(f"/requests?caseworker={colleague.id}").text) == [theirs.id]
    assert listed(web.get(f"/requests?caseworker={case_person.id}").text) == [mine.id]
    assert listed(web.get("/requests?from=2026-12-03&to=2026-12-03").text) == [mine.id]
    assert listed(web.get("/requests?from=2026-12-04").text) == [theirs.id]


def test_pages_go_through_every_request_once(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forms, "LIST_PAGE_SIZE", 2)
    start = clock.now() + timedelta(days=2)
    made = [file_request(case_person, start=start).id for _ in range(3)]  # one start, id decides
    made.append(file_request(case_person, start=start + timedelta(days=1)).id)
    made.append(file_request(case_person, start=start - timedelta(days=1)).id)
    web = signed_in(case_person)

    first = web.get("/requests")
    assert "Seite 1 von 3" in first.text and 'rel="next"' in first.text
    pages = [listed(first.text)] + [listed(web.get(f"/requests?page={n}").text) for n in (2, 3)]
    assert [n for page in pages for n in page] == [made[4], *made[:3], made[3]]
    assert 'rel="next"' not in web.get("/requests?page=3").text


def test_bad_filters_are_422_beside_their_fields_and_keep_what_was_typed(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    make_person: Callable[..., Person],
) -> None:
    stranger = make_person("caseworker", "Stadt Beckum – Sozialamt")
    web = signed_in(case_person)

    page = web.get(
        f"/requests?q=M%C3%BCller&status=lost&language=xx&from=2026-13-01"
        f"&caseworker={stranger.id}&page=0"
    )

    assert page.status_code == 422
    for field in ("q", "status", "language", "from", "caseworker", "page"):
        assert f'id="{field}-error"' in page.text, field
    assert 'value="Müller"' in page.text
    assert "Bitte wählen Sie eine Person aus der Liste." in page.text
    far = web.get("/requests?from=0001-01-01&to=9999-12-31")
    assert far.status_code == 422 and 'id="from-error"' in far.text and 'id="to-error"' in far.text
    order = web.get("/requests?from=2026-12-05&to=2026-12-04")
    assert order.status_code == 422 and 'id="to-error"' in order.text
