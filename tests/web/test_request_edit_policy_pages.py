"""Copying and changing a request on its pages under the funding policy: the category and
the urgency reason as filed, the category's checks and budget, the notice (default policy:
legal and health refused, 5 working days)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.requests.models import Request
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

#: Monday 14 December 09:00 in Beckum: two weeks ahead of "now", well within the notice.
TWO_WEEKS = datetime.fromisoformat("2026-12-14T09:00:00+01:00")
#: The edit form as the request filed at TWO_WEEKS stands (a phone job the office calls).
FORM = {
    "language": "Arabisch (ar)",
    "date": "2026-12-14",
    "time": "09:00",
    "duration": "90",
    "mode": "phone",
    "call_direction": "office_calls",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"funding_policy_path": None})


def save(web: TestClient, request_id: int, **fields: str) -> httpx.Response:
    page = web.get(f"/requests/{request_id}/edit")
    response: httpx.Response = web.post(
        f"/requests/{request_id}/edit", data={"csrf_token": csrf_of(page), **FORM, **fields}
    )
    return response


def stored(engine: Engine, request_id: int) -> Request:
    with Session(engine) as session:
        return get_row(session, Request, request_id)


def test_the_copy_form_keeps_the_category_and_the_urgency_reason(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    original = file_request(
        case_person, category="school_parents", urgency_reason="Zeugniskonferenz"
    )
    copy = signed_in(case_person).get(f"/requests/new?copy={original.id}")
    assert copy.status_code == 200
    assert '<option value="school_parents" selected>' in copy.text
    assert '<option value="authority" selected>' not in copy.text
    assert 'value="Zeugniskonferenz"' in copy.text


def test_the_edit_form_shows_the_category_and_the_urgency_reason_as_filed(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person, category="job_centre", urgency_reason="Frist läuft ab")
    page = signed_in(case_person).get(f"/requests/{filed.id}/edit")
    assert '<option value="job_centre" selected>' in page.text
    assert 'value="Frist läuft ab"' in page.text


def test_a_new_category_is_saved_and_the_budget_follows_it(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    filed = file_request(
        case_person, start=TWO_WEEKS, category="school_parents", call_direction="office_calls"
    )
    assert filed.funding_source == "state_programme"
    saved = save(
        signed_in(case_person), filed.id, category="job_centre", urgency_reason="Termin vom Amt"
    )
    assert saved.status_code == 303, saved.text
    changed = stored(engine, filed.id)
    assert changed.category == "job_centre" and changed.funding_source == "requester_pays"
    assert changed.urgency_reason == "Termin vom Amt"


def test_a_refused_category_is_refused_on_the_edit_page_with_its_next_step(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    filed = file_request(case_person, start=TWO_WEEKS, call_direction="office_calls")
    refused = save(signed_in(case_person), filed.id, category="legal")
    assert refused.status_code == 422
    assert 'id="category-error"' in refused.text and "Dolmetsch" in refused.text
    assert stored(engine, filed.id).category == "other"


def test_moving_a_request_inside_the_notice_asks_why_it_is_urgent(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    filed = file_request(case_person, start=TWO_WEEKS, call_direction="office_calls")
    web = signed_in(case_person)
    refused = save(web, filed.id, date="2026-12-01")
    assert refused.status_code == 422
    assert 'id="urgency_reason-error"' in refused.text and "5 Werktage" in refused.text
    assert stored(engine, filed.id).start == TWO_WEEKS
    saved = save(web, filed.id, date="2026-12-01", urgency_reason="Anhörung vorgezogen")
    assert saved.status_code == 303, saved.text
    moved = stored(engine, filed.id)
    assert moved.start.isoformat() == "2026-12-01T08:00:00+00:00"
    assert moved.urgency_reason == "Anhörung vorgezogen"
