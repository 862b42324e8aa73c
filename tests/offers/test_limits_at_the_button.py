"""An allowance limit holds at the offer's button, not only when offers go out.

Each of two offers may fit what is left under a mediator's monthly limit when
it is sent, but not both: once one is taken, the other would go over it. A
mediator on Bürgergeld who asked for the limit must not lose benefits because
they said yes twice. The second offer's page says why they cannot take it, its
button refuses, and a JA by SMS is answered with the reason, not with "no
longer open" (the job is still open for others).
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
from tests.offers.test_changes_reach_the_caseworker import token_of, view
from tests.offers.test_lifecycle import file_request
from tests.offers.test_sms_replies import AUTH_TOKEN, code_for, sms


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"twilio_auth_token": SecretStr(AUTH_TOKEN)})


def phone_of(outbox: Outbox, offer_id: int | None) -> str:
    """The number the offer's SMS went to."""
    phone = next(m.recipient for m in outbox.messages("offer", "sms") if m.offer_id == offer_id)
    assert phone is not None
    return phone


def test_the_second_yes_that_would_go_over_a_monthly_limit_is_refused_with_the_reason(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    # A 90-minute job is expected to pay 22.50 euros: one fits under 30 euros, two do not.
    (mediator,) = make_pool(1, monthly_limit="30.00")
    tuesday = file_request(client, caseworker)
    thursday = file_request(
        client, caseworker, start="2026-12-03T09:00:00+01:00", end="2026-12-03T10:30:00+01:00"
    )
    (first,) = outbox.offers(tuesday["id"])
    (second,) = outbox.offers(thursday["id"])
    assert first.mediator_id == second.mediator_id == mediator
    page = client.get(f"/o/{token_of(outbox, second.id)}")
    assert "Zusagen" in page.text  # alone, Thursday's job fits

    taken = client.post(f"/o/{token_of(outbox, first.id)}/accept", follow_redirects=False)
    assert taken.status_code == 303

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


def test_a_yes_by_sms_to_a_job_that_clashes_with_one_held_says_so(
    client: TestClient,
    caseworker: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(1)
    morning = file_request(client, caseworker)
    overlapping = file_request(
        client, caseworker, start="2026-12-01T09:30:00+01:00", end="2026-12-01T10:30:00+01:00"
    )
    (first,) = outbox.offers(morning["id"])
    (second,) = outbox.offers(overlapping["id"])
    assert client.post(f"/o/{token_of(outbox, first.id)}/accept").status_code == 200

    phone = phone_of(outbox, second.id)
    status, reply = sms(client, phone, f"JA {code_for(outbox, phone, second.id)}")
    assert status == 200
    assert "können Sie nicht annehmen" in reply and "schon einen Einsatz" in reply
