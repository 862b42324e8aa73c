"""The funding policy on the coordinator's pages: filing against it with a reason, and
charging a request to another funding source (default policy: legal and health refused,
5 working days' notice)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.audit import AuditEvent
from dispatch.requests.models import Request
from tests.conftest import get_row
from tests.web.conftest import Person, csrf_of

#: Tuesday 1 December, tomorrow: shorter than the policy's notice.
TOMORROW = {
    "language": "Tigrinya (ti)",
    "date": "2026-12-01",
    "time": "09:00",
    "duration": "60",
    "mode": "phone",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"funding_policy_path": None})


def post_form(web: TestClient, **fields: str) -> httpx.Response:
    page = web.get("/requests/new")
    response: httpx.Response = web.post(
        "/requests/new", data={"csrf_token": csrf_of(page), **fields}
    )
    return response


def stored_requests(engine: Engine) -> list[Request]:
    with Session(engine) as session:
        return list(session.exec(select(Request).order_by(col(Request.id))))


def test_coordinator_files_a_refused_category_at_short_notice_with_a_reason(
    signed_in: Callable[[Person], TestClient], coord_person: Person, engine: Engine
) -> None:
    web = signed_in(coord_person)
    form = web.get("/requests/new")
    assert 'id="override_reason"' in form.text and "nur Koordination" in form.text
    refused = post_form(web, **TOMORROW, category="legal")
    assert refused.status_code == 422
    assert 'id="category-error"' in refused.text
    assert "professionelle" in refused.text or "Dolmetsch" in refused.text
    short = post_form(web, **TOMORROW, category="authority")
    assert short.status_code == 422 and 'id="urgency_reason-error"' in short.text
    assert stored_requests(engine) == []
    reason = "Gericht bestellt keinen Dolmetscher; Absprache mit dem Amt"
    filed = post_form(
        web, **TOMORROW, category="legal", override_reason=reason, funding_source="municipal"
    )
    assert filed.status_code == 303, filed.text
    [stored] = stored_requests(engine)
    assert stored.category == "legal" and stored.policy_override_reason == reason
    assert stored.funding_source == "municipal"
    detail = web.get(f"/dashboard/requests/{stored.id}")
    assert "Gegen die Förderregeln aufgenommen" in detail.text and reason in detail.text
    assert "Kommunaler Haushalt" in detail.text


def test_a_caseworker_sees_no_override_and_cannot_send_one(
    signed_in: Callable[[Person], TestClient], case_person: Person, engine: Engine
) -> None:
    web = signed_in(case_person)
    assert 'id="override_reason"' not in web.get("/requests/new").text
    refused = post_form(web, **TOMORROW, category="legal", override_reason="bitte")
    assert refused.status_code == 422
    assert stored_requests(engine) == []


def test_coordinator_changes_the_funding_source_with_a_reason_beside_the_fields(
    signed_in: Callable[[Person], TestClient],
    coord_person: Person,
    case_person: Person,
    file_request: Callable[..., Request],
    engine: Engine,
) -> None:
    filed = file_request(case_person, category="authority", urgency_reason="Frist läuft ab")
    assert filed.funding_source == "state_programme"
    web = signed_in(coord_person)
    url = f"/dashboard/requests/{filed.id}"
    page = web.get(url)
    assert "Einsatzbereich" in page.text and "Landesförderung" in page.text
    assert "Frist läuft ab" in page.text
    no_reason = web.post(
        f"{url}/funding-source", data={"csrf_token": csrf_of(page), "funding_source": "municipal"}
    )
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text and "Bitte begründen Sie" in no_reason.text
    assert '<option value="municipal" selected>' in no_reason.text  # what was chosen stays
    unknown = web.post(
        f"{url}/funding-source",
        data={"csrf_token": csrf_of(page), "funding_source": "lottery", "reason": "Spende"},
    )
    assert unknown.status_code == 422 and 'id="funding_source-error"' in unknown.text
    assert 'value="Spende"' in unknown.text
    reason = "Kreis übernimmt laut Vereinbarung"
    done = web.post(
        f"{url}/funding-source",
        data={"csrf_token": csrf_of(page), "funding_source": "municipal", "reason": reason},
    )
    assert done.status_code == 303 and done.headers["location"] == f"{url}?charged=1"
    shown = web.get(done.headers["location"])
    assert "Die Förderquelle ist geändert" in shown.text and "Kommunaler Haushalt" in shown.text
    with Session(engine) as session:
        assert get_row(session, Request, filed.id).funding_source == "municipal"
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "request.funding_source")
        ).one()
    assert event.actor_id == coord_person.id
    assert event.details == {"from": "state_programme", "to": "municipal", "reason": reason}


def test_a_caseworker_may_not_change_the_funding_source(
    signed_in: Callable[[Person], TestClient],
    case_person: Person,
    file_request: Callable[..., Request],
) -> None:
    filed = file_request(case_person, category="authority", urgency_reason="Frist läuft ab")
    web = signed_in(case_person)
    page = web.get("/requests/new")
    answer = web.post(
        f"/dashboard/requests/{filed.id}/funding-source",
        data={"csrf_token": csrf_of(page), "funding_source": "municipal", "reason": "x"},
    )
    assert answer.status_code == 403
