"""A job taken rules out the mediator's other offers it clashes with or leaves no room for.

Each of two offers may fit what is left under a mediator's monthly limit when
it is sent, but not both: once one is taken, the other would go over it. A
mediator on Bürgergeld who asked for the limit must not lose benefits because
they said yes twice. So a yes withdraws their other open offers that the job
it took rules out (an overlap, no time to travel, no room under a limit): their
waves go on at once, and the mediator hears those are no longer open.

An offer can still stay open when the job that rules it out came another way
(the coordinator gave it to them directly): then its page says why they cannot
take it, its button refuses, and a JA by SMS is answered with the reason, not
with "no longer open" (the job is still open for others).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from config.settings import Settings
from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_busy_mediators import assign
from tests.offers.test_changes_reach_the_caseworker import token_of, view
from tests.offers.test_lifecycle import file_request
from tests.offers.test_sms_replies import AUTH_TOKEN, code_for, sms

THURSDAY = {"start": "2026-12-03T09:00:00+01:00", "end": "2026-12-03T10:30:00+01:00"}
#: Tuesday, overlapping the default request (Tuesday 09:00-10:30).
TUESDAY_LATER = {"start": "2026-12-01T09:30:00+01:00", "end": "2026-12-01T11:00:00+01:00"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"twilio_auth_token": SecretStr(AUTH_TOKEN)})


def phone_of(outbox: Outbox, offer_id: int | None) -> str:
    """The number the offer's SMS went to."""
    phone = next(m.recipient for m in outbox.messages("offer", "sms") if m.offer_id == offer_id)
    assert phone is not None
    return phone


@pytest.mark.parametrize(
    ("limit", "other"), [("30.00", THURSDAY), (None, TUESDAY_LATER)], ids=["limit", "overlap"]
)
def test_a_yes_withdraws_their_other_offers_the_job_rules_out_and_says_so(
    limit: str | None,
    other: dict[str, str],
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    # A 90-minute job is expected to pay 22.50 euros: one fits under 30 euros, two do not.
    (mediator,) = make_pool(1, monthly_limit=limit)
    tuesday = file_request(client, caseworker)
    ruled_out = file_request(client, caseworker, **other)
    (first,) = outbox.offers(tuesday["id"])
    (second,) = outbox.offers(ruled_out["id"])
    assert "Zusagen" in client.get(f"/o/{token_of(outbox, second.id)}").text  # alone, it fits

    taken = client.post(f"/o/{token_of(outbox, first.id)}/accept", follow_redirects=False)
    assert taken.status_code == 303

    (after,) = outbox.offers(ruled_out["id"])
    assert after.status == "withdrawn"
    (told,) = outbox.messages("offer_withdrawn", "sms")
    assert told.recipient_id == mediator and "nicht mehr frei" in told.body
    assert client.get(f"/o/{token_of(outbox, second.id)}").status_code == 410
    # Their wave went on at once; with nobody else in the pool, the job is still sought.
    assert view(client, coordinator, ruled_out["id"])["status"] != "assigned"


def test_an_offer_a_direct_assignment_left_no_room_for_is_refused_with_the_reason(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    (mediator,) = make_pool(1, monthly_limit="30.00")
    tuesday = file_request(client, caseworker)
    thursday = file_request(client, caseworker, **THURSDAY)
    (second,) = outbox.offers(thursday["id"])

    # The coordinator gives them Tuesday's job directly (an override weighs no limit).
    assign(client, coordinator, tuesday["id"], mediator)

    page = client.get(f"/o/{token_of(outbox, second.id)}")
    text = html.unescape(page.text).replace("\xa0", " ")  # Babel puts a no-break space before €
    assert page.status_code == 200
    assert "Dieser Einsatz bringt voraussichtlich etwa 22,50 €" in text
    assert "über Ihre Monatsgrenze (noch 7,50 € frei)" in text
    assert "Zusagen" not in text and "Absagen" in text
    refused = client.post(f"/o/{token_of(outbox, second.id)}/accept", follow_redirects=False)
    assert refused.status_code == 409
    assert "Über Ihrer Grenze" in html.unescape(refused.text)
    phone = phone_of(outbox, second.id)
    status, reply = sms(client, phone, f"JA {code_for(outbox, phone, second.id)}")
    assert status == 200
    assert "können Sie nicht annehmen" in reply and "über Ihre Grenze" in reply
    assert view(client, coordinator, thursday["id"])["status"] == "offered"


def test_a_yes_by_sms_to_a_job_a_direct_assignment_clashes_with_says_so(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    (mediator,) = make_pool(1)
    morning = file_request(client, caseworker)
    overlapping = file_request(client, caseworker, **TUESDAY_LATER)
    (second,) = outbox.offers(overlapping["id"])
    assign(client, coordinator, morning["id"], mediator)

    phone = phone_of(outbox, second.id)
    status, reply = sms(client, phone, f"JA {code_for(outbox, phone, second.id)}")
    assert status == 200
    assert "können Sie nicht annehmen" in reply and "schon einen Einsatz" in reply
