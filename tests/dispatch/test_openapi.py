"""The OpenAPI schema tells the truth: every error is declared with the body it really has.

Schemathesis generates requests for every operation from /openapi.json and
sends them to the app with a coordinator's and with a caseworker's token;
no answer may be a server error or differ from what the schema declares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.errors import ErrorBody
from dispatch.storage import make_engine, unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Role
from tests.conftest import NOW, Staff, _empty, request_payload

#: Bounded and seeded, so a run is the same every time and stays short.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261130,
        "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)


def _schema_of_the_app() -> schemathesis.BaseSchema:
    """The app's schema, read at collection time; every test then calls its own app."""
    app_settings = Settings(
        database_url="sqlite://",
        environment="test",
        secret_key=SecretStr("schema-" + "x" * 40),
        run_background_jobs=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(app_settings, run_migrations=False)
    return schemathesis.openapi.from_dict(app.openapi(), config=CONFIG)


schema = _schema_of_the_app()


@dataclass
class Service:
    """One app and database per backend for the whole run, so examples build on each other."""

    app: FastAPI
    coordinator: Staff
    caseworker: Staff


@pytest.fixture(scope="module")
def service(database_url: str, _engines: dict[str, Engine]) -> Service:
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    _empty(engine)
    clock = ManualClock(NOW)
    staff = {}
    with unit_of_work(engine) as session:
        for role, organisation in (
            ("coordinator", "Stadt Beckum – Integrationsmanagement"),
            ("caseworker", "Jobcenter Kreis Warendorf"),
        ):
            org = users.get_or_create_organisation(session, name=organisation, now=NOW)
            user = users.create_user(
                session,
                email=f"{role}@example.org",
                name=role,
                role=Role(role),
                organisation=org,
                now=NOW,
            )
            token = users.issue_token(session, user=user, now=NOW)
            staff[role] = Staff(user_id=user.id, organisation_id=org.id, token=token)
    app_settings = Settings(
        database_url=database_url,
        environment="test",
        secret_key=SecretStr("test-secret-" + "x" * 40),
        public_base_url="https://sprachpool.test",
        run_background_jobs=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(app_settings, engine=engine, clock=clock, run_migrations=False)
    return Service(app, staff["coordinator"], staff["caseworker"])


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None)
def test_every_answer_to_a_coordinator_is_declared(
    case: schemathesis.Case[Any], service: Service
) -> None:
    case.call_and_validate(headers=service.coordinator.headers, app=service.app)


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None)
def test_every_answer_to_a_caseworker_is_declared(
    case: schemathesis.Case[Any], service: Service
) -> None:
    case.call_and_validate(headers=service.caseworker.headers, app=service.app)


def test_every_error_is_declared_with_the_error_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"detail", "code", "errors"}
    errors: dict[str, set[str]] = {}
    unavailable: dict[str, bool] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared: dict[str, Any] = operation["responses"]
            for status, answer in declared.items():
                if status.startswith(("4", "5")):
                    schema_ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert schema_ref == "#/components/schemas/ErrorBody", (method, path, status)
            errors[f"{method.upper()} {path}"] = {s for s in declared if s.startswith("4")}
            unavailable[f"{method.upper()} {path}"] = "503" in declared
    # Every operation that reads the database may find it busy; the health check reads none.
    assert {name for name, busy in unavailable.items() if not busy} == {"GET /health"}
    assert errors["GET /api/v1/languages"] == {"401"}
    assert errors["POST /api/v1/requests"] == {"400", "401", "409", "413", "422"}
    assert errors["GET /api/v1/requests/{request_id}"] == {"401", "404", "422"}
    # Every write may lose a race at the database (409, errors.RACED_MESSAGE).
    assert errors["PATCH /api/v1/mediators/{mediator_id}"] == {
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    }
    assert errors["POST /api/v1/optimize"] == {"400", "401", "403", "404", "409", "413", "422"}
    assert errors["POST /webhooks/twilio/status"] == {"400", "403", "409", "413"}
    assert errors["GET /health"] == set()


def _check_declared(document: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The answer's status is declared for the operation, and its body fits the declaration."""
    declared = document["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in declared, (method, path, response.status_code)
    schema[path][method.upper()].validate_response(response)
    assert ErrorBody.model_validate_json(response.content).detail


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_answers_without_a_token_are_declared(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    secured = [(m, p) for m, p, op in _operations(document) if op.get("security")]
    assert len(secured) > 20
    for method, path in secured:
        response = client.request(method, path.replace("_id}", "").replace("{", "1"))
        assert response.status_code == 401, (method, path, response.text)
        _check_declared(document, method, path, response)


def test_answers_refusing_a_caseworker_are_declared(client: TestClient, caseworker: Staff) -> None:
    document = client.get("/openapi.json").json()
    refused = 0
    for method, path, _operation in _operations(document):
        if path.startswith("/webhooks/"):
            continue
        address = path.replace("_id}", "").replace("{", "1")
        response = client.request(method, address, headers=caseworker.headers)
        if response.status_code == 403:
            refused += 1
            _check_declared(document, method, path, response)
    assert refused >= 15


def test_other_error_answers_are_declared_with_their_body(
    client: TestClient, coordinator: Staff
) -> None:
    document = client.get("/openapi.json").json()
    requests = "/api/v1/requests"
    headers = {**coordinator.headers, "Idempotency-Key": "k-1"}
    filed = client.post(requests, json=request_payload(), headers=headers)
    assert filed.status_code == 201, filed.text
    answers = [
        ("GET", "/api/v1/requests/{request_id}", client.get(f"{requests}/999", headers=headers)),
        (
            "POST",
            requests,
            client.post(
                requests,
                json=request_payload(mode="video", call_direction="office_calls"),
                headers=headers,
            ),
        ),
        ("POST", requests, client.post(requests, json=request_payload(start="x"), headers=headers)),
        (
            "POST",
            requests,
            client.post(
                requests,
                content=b'{"a":' * 5000 + b"1" + b"}" * 5000,
                headers={**headers, "Content-Type": "application/json"},
            ),
        ),
        (
            "POST",
            requests,
            client.post(
                requests,
                content=b"x" * 300_000,
                headers={**headers, "Content-Type": "application/json"},
            ),
        ),
        ("POST", "/webhooks/twilio/status", client.post("/webhooks/twilio/status")),
    ]
    assert sorted(response.status_code for _, _, response in answers) == [
        400,
        403,
        404,
        409,
        413,
        422,
    ]
    for method, path, response in answers:
        _check_declared(document, method, path, response)
