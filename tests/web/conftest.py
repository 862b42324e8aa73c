"""Fixtures for the web pages: a browser-like client over HTTPS, staff with passwords, seeded data.

The app's settings use an https PUBLIC_BASE_URL, so session cookies are
Secure; the client therefore speaks to https://testserver like a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators import service as mediators
from dispatch.mediators.schemas import MediatorCreate
from dispatch.places.models import Place
from dispatch.requests import service as requests
from dispatch.requests.models import Request
from dispatch.requests.schemas import RequestCreate
from dispatch.storage import unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Role, User
from tests.conftest import get_row, mediator_payload

PASSWORD = "korrekt-pferd-batterie"


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert match, "the page has a form with a CSRF token"
    return match[1]


@dataclass
class Person:
    id: int
    email: str
    organisation_id: int
    user: User


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def other_web(app: FastAPI) -> Iterator[TestClient]:
    """A second browser, with cookies of its own."""
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def make_person(engine: Engine, clock: ManualClock) -> Callable[..., Person]:
    counter = iter(range(1, 10_000))

    def make(
        role: str = "caseworker",
        organisation: str = "Jobcenter Kreis Warendorf",
        password: str | None = PASSWORD,
    ) -> Person:
        with unit_of_work(engine) as session:
            org = users.get_or_create_organisation(session, name=organisation, now=clock.now())
            user = users.create_user(
                session,
                email=f"{role}{next(counter)}@beckum.example",
                name=f"{role.title()} Test",
                role=Role(role),
                organisation=org,
                password=password,
                now=clock.now(),
            )
            return Person(id=user.id, email=user.email, organisation_id=org.id, user=user)

    return make


@pytest.fixture
def case_person(make_person: Callable[..., Person]) -> Person:
    return make_person("caseworker", "Jobcenter Kreis Warendorf")


@pytest.fixture
def coord_person(make_person: Callable[..., Person]) -> Person:
    return make_person("coordinator", "Stadt Beckum – Integrationsmanagement")


def sign_in(client: TestClient, person: Person, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    response: httpx.Response = client.post(
        "/login", data={"email": person.email, "password": password, "csrf_token": csrf_of(page)}
    )
    return response


@pytest.fixture
def signed_in(web: TestClient) -> Callable[[Person], TestClient]:
    def do(person: Person) -> TestClient:
        response = sign_in(web, person)
        assert response.status_code == 303, response.text
        return web

    return do


@pytest.fixture
def place(engine: Engine, clock: ManualClock) -> Place:
    with unit_of_work(engine) as session:
        found = Place(
            name="Rathaus Beckum",
            address="Weststraße 46",
            lat=51.7553,
            lon=8.0403,
            contact_hint="Bürgerbüro",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(found)
        session.flush()
        return found


@pytest.fixture
def add_mediator(engine: Engine, clock: ManualClock, settings: Settings) -> Callable[..., int]:
    phones = iter(range(10, 10_000))

    def add(**overrides: object) -> int:
        body = mediator_payload(phone=f"+49151123{next(phones):05d}", **overrides)
        with unit_of_work(engine) as session:
            return mediators.create_mediator(
                session,
                data=MediatorCreate.model_validate(body),
                actor=None,
                now=clock.now(),
                settings=settings,
            ).id

    return add


@pytest.fixture
def file_request(engine: Engine, clock: ManualClock) -> Callable[..., Request]:
    """A request filed through the service (no dispatch), for pages that list requests."""

    def file(
        person: Person, *, start: datetime | None = None, minutes: int = 90, **fields: object
    ) -> Request:
        start = start or clock.now() + timedelta(days=1, hours=1)
        body = {
            "language": "ar",
            "mode": "phone",
            "start": start,
            "end": start + timedelta(minutes=minutes),
            **fields,
        }
        with unit_of_work(engine) as session:
            created, _ = requests.create_request(
                session,
                data=RequestCreate.model_validate(body),
                actor=get_row(session, User, person.id),
                now=clock.now(),
            )
            return created

    return file


def update_row(engine: Engine, row: Request, **values: object) -> None:
    with Session(engine) as session:
        fresh = get_row(session, Request, row.id)
        for name, value in values.items():
            setattr(fresh, name, value)
        session.add(fresh)
        session.commit()
