"""Bad input gets a 4xx with a message naming the field; nothing gives a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Staff, mediator_payload, request_payload


def error_fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"language": "klingon"}, "language", "not a configured language"),
        ({"language": ""}, "language", "not a configured language"),
        ({"end": "2026-12-01T08:00:00+01:00"}, "body", "end must be after start"),
        (
            {"start": "2026-11-29T09:00:00+01:00", "end": "2026-11-29T10:00:00+01:00"},
            "start",
            "in the past",
        ),
        ({"end": "2026-12-01T18:00:00+01:00"}, "end", "at most 8 hours"),
        ({"mode": "in_person"}, "body", "needs a place_id, an address or a location"),
        ({"mode": "telepathy"}, "mode", "in_person"),
        ({"start": "2026-12-01T09:00:00"}, "start", "timezone offset"),
        ({"start": 1764576000}, "start", "ISO 8601"),
        ({"start": "next tuesday"}, "start", "datetime"),
        ({"contact_phone": "0151 2345678"}, "contact_phone", "E.164"),
        ({"mode": "in_person", "place_id": 999}, "place_id", "no place with id 999"),
        ({"mode": "in_person", "place_id": 99999999999999}, "place_id", "less than or equal"),
        (
            {"mode": "in_person", "location": {"lat": 91, "lon": 8}},
            "location.lat",
            "less than or equal to 90",
        ),
        ({"client_ref": "Familie Haile"}, "client_ref", "pattern"),
        ({"gender": {"value": "x"}}, "gender.value", "'f'"),
        ({"qualification": "astrology"}, "qualification", "not a known qualification"),
        ({"priority": 0}, "priority", "greater than or equal to 1"),
        ({"notes": "a\x00b"}, "notes", "control characters"),
        ({"contact_name": "x" * 201}, "contact_name", "at most 200"),
        (
            {"start": "2028-12-01T09:00:00+01:00", "end": "2028-12-01T10:00:00+01:00"},
            "start",
            "365 days",
        ),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_bad_request_fields_are_named(
    client: TestClient, caseworker: Staff, overrides: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(
        "/api/v1/requests", json=request_payload(**overrides), headers=caseworker.headers
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in error_fields(response), body
    assert words in body["detail"] + " ".join(e["message"] for e in body["errors"]), body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"languages": []}, "languages"),
        ({"languages": [{"language": "ar", "level": "expert"}]}, "languages.0.level"),
        ({"languages": [{"language": "xx", "level": "native"}]}, "languages.0.language"),
        (
            {"availability": [{"weekday": "funday", "start": "08:00", "end": "12:00"}]},
            "availability.0.weekday",
        ),
        (
            {"availability": [{"weekday": "mon", "start": "12:00", "end": "08:00"}]},
            "availability.0",
        ),
        (
            {"availability": [{"weekday": "mon", "start": "25:00", "end": "26:00"}]},
            "availability.0",
        ),
        ({"email": "not-an-email"}, "email"),
        ({"home": {"lat": "NaN", "lon": 8}}, "home.lat"),
        ({"max_travel_km": -5}, "max_travel_km"),
        ({"travel_mode": "rocket"}, "travel_mode"),
        ({"name": "   "}, "name"),
        ({"name": "Ali\nBaba"}, "name"),
    ],
)
def test_bad_mediator_fields_are_named(
    client: TestClient, coordinator: Staff, overrides: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/v1/mediators", json=mediator_payload(**overrides), headers=coordinator.headers
    )
    assert response.status_code == 422, response.text
    assert field in error_fields(response), response.json()


@pytest.mark.parametrize("address", ["info@bäckerei-müller.de", "kontakt@köln.de"])
def test_an_address_with_umlauts_in_its_domain_is_kept_as_typed(
    client: TestClient, coordinator: Staff, caseworker: Staff, address: str
) -> None:
    mediator = client.post(
        "/api/v1/mediators", json=mediator_payload(email=address), headers=coordinator.headers
    )
    assert mediator.status_code == 201, mediator.text
    assert mediator.json()["email"] == address
    staff = client.post(
        "/api/v1/users",
        json={"email": address, "name": "Bäckerei Müller", "role": "caseworker"},
        headers=coordinator.headers,
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["email"] == address


def test_an_address_with_umlauts_before_the_at_is_refused_saying_why(
    client: TestClient, coordinator: Staff
) -> None:
    response = client.post(
        "/api/v1/mediators",
        json=mediator_payload(email="jörg@example.de"),
        headers=coordinator.headers,
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "email"
    assert "before the @" in error["message"] and "cannot be delivered" in error["message"]


@pytest.mark.parametrize(
    "address", ["info@bäckerei..de", "info@-köln.de", "info@köln", "info@☃.de"]
)
def test_an_address_whose_domain_has_no_ascii_form_is_refused(
    client: TestClient, coordinator: Staff, address: str
) -> None:
    response = client.post(
        "/api/v1/mediators", json=mediator_payload(email=address), headers=coordinator.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "email", "message": "is not a valid email address"}
    ]


def test_sms_channel_without_phone_is_refused(client: TestClient, coordinator: Staff) -> None:
    response = client.post(
        "/api/v1/mediators",
        json=mediator_payload(phone=None, channels=["sms"]),
        headers=coordinator.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "phone", "message": "SMS is a preferred channel, but there is no phone number."}
    ]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 422),
        (b"", "application/json", 422),
        (b"[]", "application/json", 422),
        (b"null", "application/json", 422),
        (b'"text"', "application/json", 422),
        (b"\xff\xfe\x00garbage", "application/json", 422),
        (b"language=ar", "application/x-www-form-urlencoded", 422),
        (json.dumps({"language": "ar" * 10}).encode(), "application/json", 422),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", 400),
        (b"x" * 300_000, "application/json", 413),
    ],
)
def test_malformed_bodies_get_a_4xx(
    client: TestClient, caseworker: Staff, content: bytes, content_type: str, status: int
) -> None:
    response = client.post(
        "/api/v1/requests",
        content=content,
        headers={**caseworker.headers, "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requests/0",
        "/api/v1/requests/-1",
        "/api/v1/requests/abc",
        "/api/v1/requests/99999999999999999999999",
        "/api/v1/requests/1e3",
        "/api/v1/mediators/%00",
        "/api/v1/places/2147483648",
    ],
)
def test_bad_ids_in_paths_get_a_4xx(client: TestClient, coordinator: Staff, path: str) -> None:
    response = client.get(path, headers=coordinator.headers)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"language": "zz"},
        {"from": "yesterday"},
        {"from": "2026-12-01T00:00:00"},
        {"limit": 0},
        {"limit": 100000},
        {"offset": -1},
        {"language": "a\x00"},
        {"organisation_id": "x"},
    ],
)
def test_bad_list_filters_get_a_4xx(
    client: TestClient, caseworker: Staff, params: dict[str, Any]
) -> None:
    response = client.get("/api/v1/requests", params=params, headers=caseworker.headers)
    assert response.status_code == 422, response.text


def test_idempotency_key_must_be_printable(client: TestClient, caseworker: Staff) -> None:
    response = client.post(
        "/api/v1/requests",
        json=request_payload(),
        headers={**caseworker.headers, "Idempotency-Key": "x" * 300},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_unknown_address_and_wrong_method_are_json(client: TestClient, caseworker: Staff) -> None:
    missing = client.get("/api/v1/nothing-here", headers=caseworker.headers)
    assert missing.status_code == 404 and missing.json()["detail"]
    wrong = client.put("/api/v1/requests", headers=caseworker.headers)
    assert wrong.status_code == 405 and wrong.json()["detail"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
request_fields = st.sampled_from(
    list(
        request_payload(
            place_id=1,
            location={},
            gender={},
            client_ref="",
            contact_phone="",
            priority=1,
            notes="",
        ).keys()
    )
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(request_fields, json_values, max_size=4))
def test_no_request_body_gives_a_server_error(
    client: TestClient, caseworker: Staff, changes: dict[str, Any]
) -> None:
    response = client.post(
        "/api/v1/requests", json=request_payload(**changes), headers=caseworker.headers
    )
    assert response.status_code < 500, (changes, response.text)


mediator_fields = st.sampled_from(list(mediator_payload().keys()))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(mediator_fields, json_values, max_size=4))
def test_no_mediator_body_gives_a_server_error(
    client: TestClient, coordinator: Staff, changes: dict[str, Any]
) -> None:
    response = client.post(
        "/api/v1/mediators", json=mediator_payload(**changes), headers=coordinator.headers
    )
    assert response.status_code < 500, (changes, response.text)
    patched = client.patch("/api/v1/mediators/1", json=changes, headers=coordinator.headers)
    assert patched.status_code < 500, (changes, patched.text)
