"""Shared fixtures: a real database per backend, the real app, a manual clock.

Every API test runs on SQLite and on PostgreSQL. PostgreSQL is the one the
machine runs (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test);
when it is missing the PostgreSQL half is skipped with a reason, except in
CI (CI=true), where it fails: CI must prove both backends.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.storage import make_engine, migrate, unit_of_work
from dispatch.tables import metadata
from dispatch.users import service as users
from dispatch.users.models import Role
from tests.geocoder_stand_in import (  # noqa: F401 - fixtures are found by name
    _nominatim_server,
    fake_nominatim,
    geocoding_settings,
)

T = TypeVar("T")

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday 30 November 2026, 08:00 in Beckum: "now" for every test.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

ROOT = Path(__file__).resolve().parent.parent
#: Where browser tests put their screenshots unless told otherwise: ignored by git,
#: so running the tests leaves the tree clean.
DEFAULT_SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
_screenshots = DEFAULT_SCREENSHOTS
SCREENSHOTS_ENV = "SPRACHPOOL_TEST_SCREENSHOTS"
#: The funding policy of tests about other things: every category, no minimum notice.
OPEN_FUNDING_POLICY = ROOT / "tests" / "funding_open.toml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wall-clock",
        metavar="ISO",
        default=None,
        help="run the suite with the wall clock set to this moment (e.g. "
        "2026-11-29T23:30:00+01:00), in pytest and in the Python processes it starts; "
        "proves that no test depends on the hour",
    )
    parser.addoption(
        "--screenshots-to",
        metavar="DIR",
        default=None,
        help="write the browser tests' screenshots here; "
        "'docs/screenshots' refreshes the README's pictures",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _screenshots
    chosen = config.getoption("--screenshots-to")
    _screenshots = Path(chosen).resolve() if chosen else DEFAULT_SCREENSHOTS
    # Pytest loads this file as `conftest`, tests import it as `tests.conftest`: two
    # modules, so the choice travels by the environment, which both see.
    os.environ[SCREENSHOTS_ENV] = str(_screenshots)
    wall_clock = config.getoption("--wall-clock")
    if wall_clock:
        _travel_to(wall_clock)


def _travel_to(moment: str) -> None:
    """Shift the wall clock (not the monotonic one) here and in Python subprocesses."""
    import time

    import time_machine

    destination = datetime.fromisoformat(moment)
    if destination.tzinfo is None:
        raise pytest.UsageError("--wall-clock needs an offset, e.g. 2026-11-29T23:30:00+01:00")
    os.environ["SPRACHPOOL_TEST_WALL_CLOCK"] = f"{moment}@{time.time()}"
    helper = str(ROOT / "tests" / "wall_clock")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (helper, os.environ.get("PYTHONPATH")) if part
    )
    time_machine.travel(destination, tick=True).start()


def screenshots_dir() -> Path:
    """The folder for this run's screenshots (created on first use)."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or _screenshots)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def get_row(session: Session, model: type[T], row_id: int) -> T:
    """A row the test knows is there; fails the test, not the type checker, if it is not."""
    row = session.get(model, row_id)
    assert row is not None, f"there is no {model.__name__} {row_id}"
    return row


def wait_until(condition: Callable[[], bool], *, seconds: float = 5.0) -> None:
    """Poll `condition` until it holds; fail the test when it has not after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.001)


def postgres_available(url: str = POSTGRES_URL) -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = make_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        first_line = str(exc).splitlines()[0]
        return f"PostgreSQL at {url} is not reachable: {exc.__class__.__name__}: {first_line}"


def require_postgres() -> None:
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} — CI must test PostgreSQL too (.ci/run starts it)")
    pytest.skip(reason)


def fresh_postgres_schema_url() -> tuple[str, str]:
    """A URL whose connections use a new, empty schema of the test database."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = make_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(schema: str) -> None:
    engine = make_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend, shared by the session; tables are emptied per test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'sprachpool.db'}"
        migrate(url)
        yield url
        return
    require_postgres()
    url, schema = fresh_postgres_schema_url()
    migrate(url)
    yield url
    drop_postgres_schema(schema)


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def engine(database_url: str, _engines: dict[str, Engine]) -> Iterator[Engine]:
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = make_engine(database_url)
    _empty(engine)
    yield engine


def _empty(engine: Engine) -> None:
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(sa.text(f'DELETE FROM "{name}"'))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment="test",
        secret_key=SecretStr("test-secret-" + "x" * 40),
        public_base_url="https://sprachpool.test",
        run_background_jobs=False,
        funding_policy_path=OPEN_FUNDING_POLICY,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: ManualClock) -> FastAPI:
    return create_app(settings, engine=engine, clock=clock, run_migrations=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Staff:
    """A signed-in user as the API sees them."""

    user_id: int
    organisation_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_staff(engine: Engine, clock: ManualClock) -> Callable[..., Staff]:
    counter = iter(range(1, 10_000))

    def make(role: str = "caseworker", organisation: str = "Jobcenter Kreis Warendorf") -> Staff:
        with unit_of_work(engine) as session:
            org = users.get_or_create_organisation(session, name=organisation, now=clock.now())
            user = users.create_user(
                session,
                email=f"{role}{next(counter)}@example.org",
                name=f"{role} test",
                role=Role(role),
                organisation=org,
                now=clock.now(),
            )
            token = users.issue_token(session, user=user, now=clock.now())
            return Staff(user_id=user.id, organisation_id=org.id, token=token)

    return make


@pytest.fixture
def coordinator(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("coordinator", "Stadt Beckum – Integrationsmanagement")


@pytest.fixture
def caseworker(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("caseworker", "Jobcenter Kreis Warendorf")


@pytest.fixture
def other_caseworker(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("caseworker", "Stadt Beckum – Sozialamt")


CLEARED: dict[str, object] = {
    "trained_on": "2026-09-12",
    "pledge_signed_on": "2026-09-12",
    "police_certificate_seen_on": "2026-09-20",
    "listed_until": "2027-09-30",
}
"""A clearance valid from before the tests' "now" to well after it."""


def mediator_payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Amina Haddad",
        "phone": "+4915112340001",
        "email": "amina@example.org",
        "languages": [{"language": "ar", "level": "native"}, {"language": "de", "level": "fluent"}],
        "german_level": "fluent",
        "gender": "f",
        "home": {"lat": 51.7561, "lon": 8.0452},
        "travel_mode": "bike",
        "max_travel_km": 8,
        "max_hours_per_week": 10,
        "qualifications": ["medical"],
        "channels": ["sms", "email"],
        "message_locale": "ar",
        "availability": [{"weekday": "mon", "start": "08:00", "end": "16:00"}],
        "consent_at": "2026-10-01T10:00:00+02:00",
        # Cleared (SPEC "Clearance"), so tests about other rules get offers.
        **CLEARED,
    }
    body.update(overrides)
    return body


def request_payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "language": "ti",
        "start": "2026-12-01T09:00:00+01:00",
        "end": "2026-12-01T10:30:00+01:00",
        "mode": "phone",
    }
    body.update(overrides)
    return body


@pytest.fixture
def place_id(client: TestClient, coordinator: Staff) -> int:
    response = client.post(
        "/api/v1/places",
        json={"name": "Jobcenter Beckum", "address": "Hühlstraße 8", "lat": 51.7571, "lon": 8.0458},
        headers=coordinator.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
