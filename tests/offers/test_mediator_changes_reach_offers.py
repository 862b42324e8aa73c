"""A change to a mediator's details withdraws the offers they no longer fit.

An offer was sent under the details the engine read then. When the coordinator
takes a language off, moves the end of their listing before the job, narrows
their hours, enters a holiday over it or lowers their allowance limit below what
the job pays, an offer still open must not be
accepted under the new details: it is withdrawn, the mediator is told, and a
wave left with none open goes on at once. A change that leaves them fit for the
job (a language more, a longer reach, a new e-mail address) withdraws nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import token_of, view
from tests.offers.test_lifecycle import file_request

#: The request is Tuesday 1 December, 09:00-10:30 (Berlin); each change leaves its
#: mediator unfit for it by one rule of the engine.
UNFIT: dict[str, dict[str, object]] = {
    "language": {"languages": [{"language": "ar", "level": "native"}]},
    "clearance": {"listed_until": "2026-11-30"},
    "availability": {"availability": [{"weekday": "tue", "start": "14:00", "end": "18:00"}]},
    "absence": {
        "absences": [{"start": "2026-12-01T00:00:00+01:00", "end": "2026-12-02T00:00:00+01:00"}]
    },
    # A paid job of 90 minutes does not fit under a monthly limit of 5 euros.
    "monthly limit": {"monthly_limit": "5.00"},
    "annual limit": {"annual_limit": "5.00"},
}


def patch(client: TestClient, coordinator: Staff, mediator_id: int, change: object) -> None:
    response = client.patch(
        f"/api/v1/mediators/{mediator_id}", json=change, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("rule", sorted(UNFIT))
def test_an_offer_they_no_longer_fit_is_withdrawn_and_they_are_told(
    rule: str,
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    offer, *others = outbox.offers(created["id"])

    patch(client, coordinator, offer.mediator_id, UNFIT[rule])

    (told,) = outbox.messages("offer_withdrawn", "sms")
    assert told.recipient_id == offer.mediator_id and "nicht mehr frei" in told.body
    click = client.post(f"/o/{token_of(outbox, offer.id)}/accept", follow_redirects=False)
    assert click.status_code != 303
    assert view(client, coordinator, created["id"])["status"] == "offered"
    after = {o.id: o.status for o in outbox.offers(created["id"])}
    assert after[offer.id] == "withdrawn"
    assert all(after[o.id] == "pending" for o in others)  # their wave goes on as it was


def test_a_change_that_leaves_them_fit_withdraws_nothing(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    offer = outbox.offers(created["id"])[0]

    patch(
        client,
        coordinator,
        offer.mediator_id,
        {
            "languages": [
                {"language": "ti", "level": "native"},
                {"language": "ar", "level": "basic"},
            ],
            "max_travel_km": 80,
            "listed_until": "2027-12-31",
            "email": "new@example.org",
        },
    )

    assert outbox.messages("offer_withdrawn") == []
    assert all(o.status == "pending" for o in outbox.offers(created["id"]))


def test_a_wave_left_with_no_open_offer_goes_on_at_once(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    first_wave = outbox.offers(created["id"])

    for offer in first_wave:
        patch(client, coordinator, offer.mediator_id, UNFIT["language"])

    second = [o for o in outbox.offers(created["id"]) if o.wave == 2]
    assert second and all(o.status == "pending" for o in second)
    assert not {o.mediator_id for o in second} & {o.mediator_id for o in first_wave}


def test_taking_them_out_of_the_pool_still_withdraws_every_offer_once(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    offer = outbox.offers(created["id"])[0]

    patch(client, coordinator, offer.mediator_id, {"paused": True, **UNFIT["language"]})

    (told,) = outbox.messages("offer_withdrawn", "sms")
    assert told.recipient_id == offer.mediator_id
