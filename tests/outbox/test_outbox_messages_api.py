"""GET /api/v1/messages: the coordinator's view of the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch.clock import ManualClock
from dispatch.outbox.worker import OutboxWorker
from tests.conftest import Staff
from tests.notifications.provider_stand_ins import FakeTwilio
from tests.outbox.outbox_factories import mediator_row

URL = "/api/v1/messages"


@pytest.fixture
def outbox(
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
    caseworker_request: int,
) -> dict[str, int]:
    """Three messages a minute apart: a failed SMS (of the request), a sent email, a pending SMS."""
    fake_twilio.behaviour = "invalid_number"
    first = make_mediator(email=None)
    ids = {"failed_sms": enqueue_offer(first, request_id=caseworker_request)}
    worker.run_once()
    clock.advance(timedelta(minutes=1))
    ids["sent_email"] = enqueue_offer(make_mediator(), channel="email")
    worker.run_once()
    clock.advance(timedelta(minutes=1))
    ids["pending_sms"] = enqueue_offer(make_mediator(), key="reminder-like:1:sms")
    ids["mediator"] = first
    return ids


def test_a_caseworker_may_not_read_the_outbox(client: TestClient, caseworker: Staff) -> None:
    response = client.get(URL, headers=caseworker.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_without_a_token_the_outbox_is_closed(client: TestClient) -> None:
    assert client.get(URL).status_code == 401


def test_the_coordinator_sees_every_message_newest_first(
    client: TestClient,
    coordinator: Staff,
    engine: Engine,
    outbox: dict[str, int],
    caseworker_request: int,
) -> None:
    response = client.get(URL, headers=coordinator.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3 and (body["limit"], body["offset"]) == (50, 0)
    ids = [item["id"] for item in body["items"]]
    assert ids == [outbox["pending_sms"], outbox["sent_email"], outbox["failed_sms"]]
    failed = body["items"][2]
    phone = mediator_row(engine, outbox["mediator"]).phone
    assert phone is not None
    assert failed["recipient"] == phone[:3] + "•" * (len(phone) - 6) + phone[-3:]
    assert failed | {"recipient": None, "created_at": None} == failed | {
        "channel": "sms", "kind": "offer", "status": "failed", "attempts": 1,
        "error": "Twilio 21211: invalid 'To' phone number", "request_id": caseworker_request,
        "sent_at": None, "recipient": None, "created_at": None,
    }  # fmt: skip
    assert failed["created_at"].endswith("+01:00"), "times in the town's zone"
    email = body["items"][1]
    assert email["status"] == "sent" and email["recipient"].endswith("@example.org")
    assert email["sent_at"] is not None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed_sms"]),
        ("status=pending", ["pending_sms"]),
        ("channel=email", ["sent_email"]),
        ("channel=sms", ["pending_sms", "failed_sms"]),
        ("kind=offer&channel=sms&status=failed", ["failed_sms"]),
        ("kind=reminder_24h", []),
        ("request_id=REQUEST", ["failed_sms"]),
        ("limit=1&offset=1", ["sent_email"]),
        ("offset=5", []),
    ],
)
def test_filters_narrow_the_list(
    query: str,
    expected: list[str],
    client: TestClient,
    coordinator: Staff,
    outbox: dict[str, int],
    caseworker_request: int,
) -> None:
    response = client.get(
        f"{URL}?{query.replace('REQUEST', str(caseworker_request))}", headers=coordinator.headers
    )
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [outbox[name] for name in expected]
    if "limit" not in query and "offset" not in query:
        assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "status=",
        "channel=fax",
        "kind=DROP%20TABLE",
        "kind=%00",
        "kind=" + "a" * 61,
        "request_id=abc",
        "request_id=0",
        "request_id=99999999999999999999",
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=1e3",
        "offset=-1",
        "offset=10000000000000000000000",
    ],
)
def test_bad_query_values_are_a_4xx_never_a_500(
    query: str,
    client: TestClient,
    coordinator: Staff,
) -> None:
    response = client.get(f"{URL}?{query}", headers=coordinator.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]
