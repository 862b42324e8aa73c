"""Every change that affects a caseworker reaches them, in their language (issue 11).

Un-assignment, re-assignment, an override that replaces the mediator, a
mediator giving the job back, nobody found and a cancellation by the
coordinator each send the caseworker an email; the mediator who lost the job
no longer shows as accepted, is not proposed or offered it again, and their
link says what happened. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.outbox.models import Message
from dispatch.users.models import User
from tests.conftest import Staff, get_row
from tests.offers.conftest import LINK, Outbox
from tests.offers.test_lifecycle import file_request


def caseworker_mail(outbox: Outbox, kind: str) -> list[Message]:
    return [m for m in outbox.messages(kind, "email") if m.recipient_kind == "user"]


def email_of(engine: Engine, staff: Staff) -> str:
    with Session(engine) as session:
        return get_row(session, User, staff.user_id).email


def token_of(outbox: Outbox, offer_id: int | None) -> str:
    """The link token in the offer's SMS."""
    (sms,) = [m for m in outbox.messages("offer", "sms") if m.offer_id == offer_id]
    match = LINK.search(sms.body)
    assert match
    return match.group(1)


def accept_first_offer(client: TestClient, outbox: Outbox, request_id: int) -> tuple[str, int]:
    """The first mediator offered the request accepts by link: (their token, their id)."""
    offer = outbox.offers(request_id)[0]
    token = token_of(outbox, offer.id)
    assert client.post(f"/o/{token}/accept", follow_redirects=False).status_code == 303
    return token, offer.mediator_id


def view(client: TestClient, staff: Staff, request_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/requests/{request_id}", headers=staff.headers)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def test_unassigning_tells_the_caseworker_and_the_removed_mediator_is_out_of_the_running(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    token, holder = accept_first_offer(client, outbox, created["id"])
    assignment_id = view(client, coordinator, created["id"])["assignment"]["id"]

    freed = client.post(
        f"/api/v1/assignments/{assignment_id}/cancel",
        json={"reason": "Koordination plant um"},
        headers=coordinator.headers,
    )

    assert freed.status_code == 200, freed.text
    assert freed.json()["status"] == "offered"
    told = caseworker_mail(outbox, "assignment_cancelled_caseworker")
    assert [m.recipient for m in told] == [email_of(engine, caseworker)]
    assert "kommt leider nicht" in told[0].body and "neue Bestätigung" in told[0].body
    assert f"Mediator {holder}" not in told[0].body  # nobody is named
    offers = view(client, coordinator, created["id"])["offers"]
    assert [o["status"] for o in offers if o["mediator_id"] == holder] == ["revoked"]
    assert "accepted" not in {o["status"] for o in offers}
    assert holder not in {o.mediator_id for o in outbox.offers(created["id"]) if o.wave == 2}
    ranking = client.get(
        f"/api/v1/requests/{created['id']}/candidates", headers=coordinator.headers
    ).json()
    assert holder not in [c["mediator_id"] for c in ranking["candidates"]]
    (excluded,) = [e for e in ranking["excluded"] if e["mediator_id"] == holder]
    assert [r["code"] for r in excluded["reasons"]] == ["taken_back"]
    page = client.get(f"/o/{token}")
    assert page.status_code == 410
    assert "Die Koordination hat Ihnen diesen Einsatz wieder abgenommen" in page.text
    assert "Zusagen" not in page.text and "zurückgeben" not in page.text


def test_the_next_mediator_is_confirmed_to_the_caseworker_as_a_change(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    _, first = accept_first_offer(client, outbox, created["id"])
    assignment_id = view(client, coordinator, created["id"])["assignment"]["id"]
    client.post(f"/api/v1/assignments/{assignment_id}/cancel", headers=coordinator.headers)
    second_wave = [o for o in outbox.offers(created["id"]) if o.wave == 2]
    new_token = token_of(outbox, second_wave[0].id)

    assert client.post(f"/o/{new_token}/accept", follow_redirects=False).status_code == 303

    confirmations = caseworker_mail(outbox, "assignment_confirmed_caseworker")
    assert len(confirmations) == 2
    latest = confirmations[-1]
    assert latest.subject is not None and latest.subject.startswith("Neue Sprachmittlung")
    assert "ersetzt die frühere" in latest.body
    assert f"Mediator {second_wave[0].mediator_id}" in latest.body
    assert f"Mediator {first}\n" not in latest.body
    assert "ersetzt" not in confirmations[0].body


def test_an_override_replacing_the_mediator_tells_the_caseworker_once_and_the_old_one_why(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    pool = make_pool(5)
    created = file_request(client, caseworker)
    token, holder = accept_first_offer(client, outbox, created["id"])
    chosen = next(m for m in pool if m != holder)

    response = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": chosen, "reason": "kennt die Familie"},
        headers=coordinator.headers,
    )

    assert response.status_code == 200, response.text
    confirmations = caseworker_mail(outbox, "assignment_confirmed_caseworker")
    assert len(confirmations) == 2
    assert "ersetzt die frühere" in confirmations[-1].body
    assert f"Mediator {chosen}" in confirmations[-1].body
    assert caseworker_mail(outbox, "assignment_cancelled_caseworker") == []  # one message, not two
    statuses = {o["mediator_id"]: o["status"] for o in response.json()["offers"] if o["wave"] <= 1}
    assert statuses[holder] == "revoked"
    assert len(outbox.messages("cancelled_mediator", "sms")) == 1  # the one replaced is told
    page = client.get(f"/o/{token}")
    assert page.status_code == 410 and "wieder abgenommen" in page.text


def test_a_mediator_giving_the_job_back_tells_the_caseworker(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    token, holder = accept_first_offer(client, outbox, created["id"])

    gave_back = client.post(
        f"/o/{token}/cancel", data={"reason": "", "sure": "yes"}, follow_redirects=False
    )

    assert gave_back.status_code == 303
    assert len(caseworker_mail(outbox, "assignment_cancelled_caseworker")) == 1
    offers = view(client, coordinator, created["id"])["offers"]
    assert [o["status"] for o in offers if o["mediator_id"] == holder] == ["returned"]
    page = client.get(f"/o/{token}")
    assert page.status_code == 410 and "Einsatz abgegeben" in page.text
    ranking = client.get(
        f"/api/v1/requests/{created['id']}/candidates", headers=coordinator.headers
    ).json()
    assert holder not in [c["mediator_id"] for c in ranking["candidates"]]


def test_a_job_given_back_is_offered_again_to_those_who_lost_it_to_the_first_yes(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    """Their offers were withdrawn when the first one accepted; they never said no."""
    make_pool(2)
    created = file_request(client, caseworker)
    token, holder = accept_first_offer(client, outbox, created["id"])
    (other,) = {o.mediator_id for o in outbox.offers(created["id"])} - {holder}

    client.post(f"/o/{token}/cancel", data={"reason": "", "sure": "yes"}, follow_redirects=False)

    shown = view(client, coordinator, created["id"])
    assert shown["status"] == "offered"
    asked_again = [o for o in shown["offers"] if o["status"] == "pending"]
    assert [o["mediator_id"] for o in asked_again] == [other]
    assert caseworker_mail(outbox, "request_unfilled_caseworker") == []


def test_running_out_after_a_drop_out_is_told_in_one_message_each_time(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    first, second = make_pool(2)
    created = file_request(client, caseworker)  # both are asked in the first wave
    offers = outbox.offers(created["id"])
    declined = client.post(f"/o/{token_of(outbox, offers[1].id)}/decline", data={})
    assert declined.status_code in (200, 303)
    _, holder = accept_first_offer(client, outbox, created["id"])
    other = second if holder == first else first
    assignment_id = view(client, coordinator, created["id"])["assignment"]["id"]

    freed = client.post(f"/api/v1/assignments/{assignment_id}/cancel", headers=coordinator.headers)

    assert freed.json()["status"] == "unfilled"
    unfilled = caseworker_mail(outbox, "request_unfilled_caseworker")
    assert len(unfilled) == 1 and "kommt leider nicht" in unfilled[0].body
    assert caseworker_mail(outbox, "assignment_cancelled_caseworker") == []
    # The coordinator places the other one, then frees them too: told again.
    assigned = client.post(
        f"/api/v1/requests/{created['id']}/assign",
        json={"mediator_id": other},
        headers=coordinator.headers,
    )
    assert assigned.status_code == 200, assigned.text
    again = assigned.json()["assignment"]["id"]
    client.post(f"/api/v1/assignments/{again}/cancel", headers=coordinator.headers)
    assert len(caseworker_mail(outbox, "request_unfilled_caseworker")) == 2
    assert len(outbox.messages("alert_unfilled_coordinator", "email")) == 2


def test_a_caseworker_reads_every_change_in_their_language(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    engine: Engine,
) -> None:
    with Session(engine) as session:
        user = session.get(User, caseworker.user_id)
        assert user is not None
        user.locale = "en"
        session.add(user)
        session.commit()
    make_pool(5)
    created = file_request(client, caseworker)
    accept_first_offer(client, outbox, created["id"])
    assignment_id = view(client, coordinator, created["id"])["assignment"]["id"]

    client.post(f"/api/v1/assignments/{assignment_id}/cancel", headers=coordinator.headers)

    (confirmed,) = caseworker_mail(outbox, "assignment_confirmed_caseworker")
    (told,) = caseworker_mail(outbox, "assignment_cancelled_caseworker")
    assert confirmed.locale == told.locale == "en"
    assert "is not coming" in told.body and "Language: Tigrinya" in told.body
    assert confirmed.subject is not None and confirmed.subject.startswith("Mediator confirmed")
    cancelled = client.post(
        f"/api/v1/requests/{created['id']}/cancel",
        json={"reason": "Termin entfällt"},
        headers=coordinator.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    (cancel_notice,) = caseworker_mail(outbox, "request_cancelled_caseworker")
    assert cancel_notice.locale == "en" and "cancelled your request" in cancel_notice.body
    assert "Termin entfällt" in cancel_notice.body


def test_a_caseworker_cancelling_their_own_request_gets_no_mail_about_it(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(3)
    created = file_request(client, caseworker)
    token, _ = accept_first_offer(client, outbox, created["id"])

    cancelled = client.post(f"/api/v1/requests/{created['id']}/cancel", headers=caseworker.headers)

    assert cancelled.status_code == 200
    assert caseworker_mail(outbox, "request_cancelled_caseworker") == []
    assert {o.status for o in outbox.offers(created["id"])} == {"withdrawn"}
    page = client.get(f"/o/{token}")
    assert page.status_code == 410 and "zurückgezogen" in page.text
