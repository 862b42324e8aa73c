"""A mediator the coordinator takes out of the pool (deactivated or paused) holds no offer open.

Their open offers are withdrawn and they are told so; a late click cannot take the job
any more; a wave left with no open offer goes on to the next candidates at once. The
jobs they already hold stay theirs (the coordinator frees those on purpose).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Staff
from tests.offers.conftest import Outbox
from tests.offers.test_changes_reach_the_caseworker import accept_first_offer, token_of, view
from tests.offers.test_lifecycle import file_request


def take_out(client: TestClient, coordinator: Staff, mediator_id: int, **change: bool) -> None:
    response = client.patch(
        f"/api/v1/mediators/{mediator_id}", json=change, headers=coordinator.headers
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("change", [{"active": False}, {"paused": True}])
def test_their_open_offer_is_withdrawn_they_are_told_and_a_late_click_takes_nothing(
    change: dict[str, bool],
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    created = file_request(client, caseworker)
    offer = outbox.offers(created["id"])[0]

    take_out(client, coordinator, offer.mediator_id, **change)

    (told,) = outbox.messages("offer_withdrawn", "sms")
    assert told.recipient_id == offer.mediator_id and "nicht mehr frei" in told.body
    click = client.post(f"/o/{token_of(outbox, offer.id)}/accept", follow_redirects=False)
    assert click.status_code != 303
    assert view(client, coordinator, created["id"])["status"] == "offered"
    others = [o for o in outbox.offers(created["id"]) if o.id != offer.id]
    assert all(o.status == "pending" for o in others)  # their wave goes on as it was


def test_a_wave_left_with_no_open_offer_goes_to_the_next_at_once(
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
        take_out(client, coordinator, offer.mediator_id, active=False)

    second = [o for o in outbox.offers(created["id"]) if o.wave == 2]
    assert second and all(o.status == "pending" for o in second)
    assert not {o.mediator_id for o in second} & {o.mediator_id for o in first_wave}


def test_the_jobs_they_hold_stay_theirs_and_other_changes_withdraw_nothing(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
) -> None:
    make_pool(5)
    held = file_request(client, caseworker)
    _, holder = accept_first_offer(client, outbox, held["id"])
    later = file_request(
        client, caseworker, start="2026-12-01T14:00:00+01:00", end="2026-12-01T15:00:00+01:00"
    )
    asked = {o.mediator_id for o in outbox.offers(later["id"])}
    someone = next(iter(asked))

    take_out(client, coordinator, someone, night_messages=True)
    assert [m for m in outbox.messages("offer_withdrawn") if m.request_id == later["id"]] == []
    take_out(client, coordinator, holder, active=False)

    assert view(client, coordinator, held["id"])["status"] == "assigned"
    assert outbox.messages("cancelled_mediator") == []
