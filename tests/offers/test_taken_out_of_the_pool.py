"""A mediator the coordinator takes out of the pool (deactivated or paused) holds no offer open.

Their open offers are withdrawn and they are told so; a late click cannot take the job
any more; a wave left with no open offer goes on to the next candidates at once. The
jobs they already hold stay theirs, unless the coordinator asks for them to be released
(`release_jobs`): then those not yet started go to others as after a drop-out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from dispatch.clock import ManualClock
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


def hold_two_jobs(
    client: TestClient, caseworker: Staff, outbox: Outbox, clock: ManualClock
) -> tuple[int, int, int]:
    """One mediator holds Tuesday's job and one today at 10:00 that has started by now:
    (their id, Tuesday's request, today's request)."""
    tuesday = file_request(client, caseworker)
    _, holder = accept_first_offer(client, outbox, tuesday["id"])
    today = file_request(
        client,
        caseworker,
        start="2026-11-30T10:00:00+01:00",
        end="2026-11-30T11:00:00+01:00",
        broadcast=True,
    )
    (offer,) = [o for o in outbox.offers(today["id"]) if o.mediator_id == holder]
    accepted = client.post(f"/o/{token_of(outbox, offer.id)}/accept", follow_redirects=False)
    assert accepted.status_code == 303
    clock.advance(timedelta(hours=2, minutes=30))  # 10:30: today's job is on
    return holder, tuesday["id"], today["id"]


def patch(
    client: TestClient, coordinator: Staff, mediator_id: int, change: dict[str, object]
) -> Response:
    response: Response = client.patch(
        f"/api/v1/mediators/{mediator_id}", json=change, headers=coordinator.headers
    )
    return response


@pytest.mark.parametrize("change", [{"active": False}, {"paused": True}])
def test_taken_out_with_release_jobs_their_jobs_to_come_go_to_others(
    change: dict[str, bool],
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    holder, tuesday, today = hold_two_jobs(client, caseworker, outbox, clock)

    taken_out = patch(client, coordinator, holder, {**change, "release_jobs": True})

    assert taken_out.status_code == 200, taken_out.text
    assert taken_out.json()["jobs_held"] == 0
    released = view(client, coordinator, tuesday)
    assert released["status"] == "offered" and released["assignment"] is None
    again = [o for o in outbox.offers(tuesday) if o.wave > 1]
    assert again and {o.status for o in again} == {"pending"}
    assert holder not in {o.mediator_id for o in again}
    (told,) = outbox.messages("cancelled_mediator", "sms")
    assert (told.recipient_id, told.request_id) == (holder, tuesday)
    told_caseworker = outbox.messages("assignment_cancelled_caseworker")
    assert told_caseworker and {m.request_id for m in told_caseworker} == {tuesday}
    # The job under way stays as it is.
    running = view(client, coordinator, today)
    assert running["status"] == "assigned" and running["assignment"]["mediator_id"] == holder


def test_taken_out_without_release_jobs_they_keep_them_and_the_answer_says_how_many(
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    holder, tuesday, _ = hold_two_jobs(client, caseworker, outbox, clock)

    paused = patch(client, coordinator, holder, {"paused": True})

    assert paused.status_code == 200, paused.text
    assert paused.json()["jobs_held"] == 1  # Tuesday's; today's has started
    assert view(client, coordinator, tuesday)["status"] == "assigned"
    assert outbox.messages("cancelled_mediator") == []
    # Later the coordinator hears they are ill: the same change again, now releasing.
    again = patch(client, coordinator, holder, {"paused": True, "release_jobs": True})
    assert again.status_code == 200 and again.json()["jobs_held"] == 0
    assert view(client, coordinator, tuesday)["status"] == "offered"


@pytest.mark.parametrize(
    "change",
    [
        {"release_jobs": True},
        {"name": "Neu", "release_jobs": True},
        {"paused": False, "release_jobs": True},
    ],
)
def test_release_jobs_for_a_mediator_who_stays_in_the_pool_is_refused_and_changes_nothing(
    change: dict[str, object],
    client: TestClient,
    caseworker: Staff,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
    outbox: Outbox,
    clock: ManualClock,
) -> None:
    make_pool(5)
    holder, tuesday, _ = hold_two_jobs(client, caseworker, outbox, clock)

    refused = patch(client, coordinator, holder, change)

    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["release_jobs"]
    assert "stays in the pool" in refused.json()["detail"]
    shown = client.get(f"/api/v1/mediators/{holder}", headers=coordinator.headers).json()
    assert shown["name"] == "Mediator 1" and shown["paused"] is False
    assert view(client, coordinator, tuesday)["status"] == "assigned"


@pytest.mark.parametrize("value", ["maybe", None, [], {"a": 1}, 2])
def test_a_release_jobs_that_is_no_yes_or_no_is_refused(
    value: object,
    client: TestClient,
    coordinator: Staff,
    make_pool: Callable[..., list[int]],
) -> None:
    (mediator,) = make_pool(1)

    refused = patch(client, coordinator, mediator, {"paused": True, "release_jobs": value})

    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "release_jobs" and "valid boolean" in error["message"]
    shown = client.get(f"/api/v1/mediators/{mediator}", headers=coordinator.headers).json()
    assert shown["paused"] is False
