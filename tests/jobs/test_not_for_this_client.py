"""Conflict of interest: after a job the caseworker or the mediator marks "not again for this
client", and the engine leaves that mediator out of the client's later requests (reason code
`not_for_this_client`); erasing the client reference erases the marks. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.requests.models import ClientExclusion, Request
from dispatch.series.models import Series
from tests.conftest import Staff, request_payload
from tests.jobs.conftest import CLIENT_REF, Job
from tests.offers.conftest import LINK, Outbox


def marks(engine: Engine) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        return [
            (m.client_ref, m.mediator_id, m.marked_by)
            for m in session.exec(select(ClientExclusion).order_by(col(ClientExclusion.id)))
        ]


def file_for(
    client: TestClient, caseworker: Staff, client_ref: str | None, **fields: object
) -> dict[str, Any]:
    """Tuesday 8 December, 09:00-10:00, by phone: both mediators are free."""
    response = client.post(
        "/api/v1/requests",
        json=request_payload(
            start="2026-12-08T09:00:00+01:00",
            end="2026-12-08T10:00:00+01:00",
            category="school_parents",
            urgency_reason="hearing moved",
            client_ref=client_ref,
            **fields,
        ),
        headers=caseworker.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def offered_to(outbox: Outbox, request_id: int) -> set[int]:
    return {offer.mediator_id for offer in outbox.offers(request_id)}


def test_the_caseworker_marks_and_the_mediator_is_left_out_for_that_client_only(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    coordinator: Staff,
    outbox: Outbox,
    engine: Engine,
) -> None:
    marked = client.post(
        f"/api/v1/requests/{job_over.request_id}/not-for-this-client", headers=caseworker.headers
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["mediator_id"] == job_over.mediator_id
    assert marked.json()["marked_by"] == "caseworker"
    again = client.post(
        f"/api/v1/requests/{job_over.request_id}/not-for-this-client", headers=caseworker.headers
    )
    assert again.json()["id"] == marked.json()["id"]  # marking twice keeps one mark

    same_client = file_for(client, caseworker, CLIENT_REF)
    other_client = file_for(client, caseworker, "JC-2026-0999")

    assert job_over.mediator_id not in offered_to(outbox, same_client["id"])
    assert offered_to(outbox, same_client["id"])  # the other mediator is asked
    assert job_over.mediator_id in offered_to(outbox, other_client["id"])
    ranking = client.get(
        f"/api/v1/requests/{same_client['id']}/candidates", headers=coordinator.headers
    ).json()
    (left_out,) = [e for e in ranking["excluded"] if e["mediator_id"] == job_over.mediator_id]
    assert [r["code"] for r in left_out["reasons"]] == ["not_for_this_client"]
    assert left_out["reasons"][0]["message"] == "marked “not again for this client”"


def test_the_mediator_marks_it_on_their_report_link(
    client: TestClient, job_over: Job, engine: Engine
) -> None:
    page = client.get(f"/o/{job_over.report_token}")
    assert 'action="/o/' in page.text and "/not-for-client" in page.text

    answer = client.post(f"/o/{job_over.report_token}/not-for-client", follow_redirects=False)

    assert answer.status_code == 303
    assert marks(engine) == [(CLIENT_REF, job_over.mediator_id, "mediator")]
    after = client.get(f"/o/{job_over.report_token}")
    assert 'id="not-for-client" role="status"' in after.text
    assert "/not-for-client" not in after.text.split('id="not-for-client"')[1][:200]


def test_a_request_without_a_reference_or_before_its_start_cannot_be_marked(
    client: TestClient, caseworker: Staff, engine: Engine, job_over: Job
) -> None:
    later = file_for(client, caseworker, CLIENT_REF)
    no_reference = file_for(client, caseworker, None)
    for request_id in (later["id"], no_reference["id"]):
        refused = client.post(
            f"/api/v1/requests/{request_id}/not-for-this-client", headers=caseworker.headers
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "not_markable"
    assert marks(engine) == []


def test_erasing_the_client_reference_erases_its_marks(
    client: TestClient,
    job_over: Job,
    caseworker: Staff,
    other_caseworker: Staff,
    engine: Engine,
) -> None:
    client.post(
        f"/api/v1/requests/{job_over.request_id}/not-for-this-client", headers=caseworker.headers
    )
    elsewhere = client.post(
        "/api/v1/clients/erase", json={"client_ref": CLIENT_REF}, headers=other_caseworker.headers
    )
    assert elsewhere.json() == {"requests": 0}
    assert len(marks(engine)) == 1  # another organisation's reference is another client

    erased = client.post(
        "/api/v1/clients/erase", json={"client_ref": CLIENT_REF}, headers=caseworker.headers
    )

    assert erased.status_code == 200, erased.text
    assert erased.json() == {"requests": 1}
    assert marks(engine) == []
    with Session(engine) as session:
        assert session.get(Request, job_over.request_id).client_ref is None  # type: ignore[union-attr]


def test_erasing_the_mediator_erases_their_marks(
    client: TestClient, job_over: Job, caseworker: Staff, coordinator: Staff, engine: Engine
) -> None:
    client.post(
        f"/api/v1/requests/{job_over.request_id}/not-for-this-client", headers=caseworker.headers
    )
    # The job is over and not yet reported: its allowance is open, so erasing needs a second yes.
    erased = client.delete(
        f"/api/v1/mediators/{job_over.mediator_id}",
        params={"confirm_unpaid": "true"},
        headers=coordinator.headers,
    )
    assert erased.status_code == 200, erased.text
    assert marks(engine) == []


def test_the_offer_says_the_mediator_must_not_know_the_family_without_naming_anyone(
    client: TestClient, job_over: Job, caseworker: Staff, outbox: Outbox
) -> None:
    filed = file_for(client, caseworker, "JC-2026-0999", unknown_to_client=True)
    assert filed["unknown_to_client"] is True
    latest = LINK.search(outbox.messages("offer", "sms")[-1].body)  # the new request's offer
    assert latest is not None
    page = client.get(f"/o/{latest[1]}")
    assert 'id="unknown-to-client"' in page.text
    assert "JC-2026-0999" not in page.text


def test_erasing_the_client_reference_reaches_the_sent_e_mails_and_the_series(
    client: TestClient, job_over: Job, caseworker: Staff, outbox: Outbox, engine: Engine
) -> None:
    """The caseworker's e-mails named the reference, and a series keeps its terms: both lose it."""
    series = client.post(
        "/api/v1/series",
        json=request_payload(
            start="2027-01-12T09:00:00+01:00",
            end="2027-01-12T10:00:00+01:00",
            client_ref=CLIENT_REF,
            interval_weeks=1,
            until="2027-01-26",
        ),
        headers=caseworker.headers,
    )
    assert series.status_code == 201, series.text

    def naming_it() -> list[str]:
        return [
            m.kind
            for m in outbox.messages()
            if CLIENT_REF in " ".join(filter(None, [m.subject, m.body, m.html]))
        ]

    assert naming_it(), "the caseworker's e-mails name the reference"

    erased = client.post(
        "/api/v1/clients/erase", json={"client_ref": CLIENT_REF}, headers=caseworker.headers
    )

    assert erased.status_code == 200, erased.text
    assert erased.json() == {"requests": 4}  # the job and the series' three occurrences
    assert naming_it() == []
    with Session(engine) as session:
        stored = session.get(Series, series.json()["id"])
        assert stored is not None and stored.template.get("client_ref") is None
    shown = client.get(f"/api/v1/series/{series.json()['id']}", headers=caseworker.headers)
    assert CLIENT_REF not in shown.text
