"""A busy or unreachable database is the service's trouble, not the caller's: 503, try again.

When a filing waits longer for its writer's turn than the service allows, a
pooled connection is not to be had, or PostgreSQL is down, the caller is
told so in a sentence, with `Retry-After`, and that nothing was saved; a
person on the web pages reads it in their language. Before, each of these
answered 500 "something went wrong on our side" (or the error page saying
the fault was logged), which tells a caseworker neither what happened to
the request nor what to do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col

from config.settings import Settings
from dispatch import storage
from dispatch.app import create_app
from dispatch.clock import ManualClock
from dispatch.errors import RETRY_AFTER_S
from dispatch.requests.models import Request
from dispatch.storage import make_engine
from dispatch.users.models import Role, User
from dispatch.web.auth import SESSION_COOKIE
from dispatch.web.rendering import LANG_COOKIE
from tests.conftest import NOW, Staff, request_payload, wait_until


@contextmanager
def writers_held(engine: Engine) -> Iterator[None]:
    """Every writer's turn on `engine`'s database taken, as by filings that do not end."""
    sqlite = storage.sqlite_write_lock(engine)
    if sqlite is not None:
        assert sqlite.acquire(timeout=5)
        try:
            yield
        finally:
            sqlite.release()
        return
    slots = storage.postgres_writers(engine)
    assert slots is not None
    for _ in range(storage.POSTGRES_WRITERS):
        assert slots.acquire(timeout=5)
    try:
        yield
    finally:
        for _ in range(storage.POSTGRES_WRITERS):
            slots.release()


def requests_on_file(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(Request)) or 0)


def test_a_filing_that_gets_no_writer_turn_is_told_to_try_again_and_nothing_is_kept(
    client: TestClient,
    engine: Engine,
    caseworker: Staff,
    place_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage, "WRITER_WAIT_S", 0.3)
    body = request_payload(place_id=place_id)

    with writers_held(engine):
        refused = client.post("/api/v1/requests", json=body, headers=caseworker.headers)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert refused.json()["code"] == "unavailable"
    assert "nothing was saved" in refused.json()["detail"]
    assert requests_on_file(engine) == 0

    filed = client.post("/api/v1/requests", json=body, headers=caseworker.headers)
    assert filed.status_code == 201, filed.text
    assert requests_on_file(engine) == 1


def test_a_read_without_a_pooled_connection_is_told_to_try_again(
    settings: Settings, engine: Engine, clock: ManualClock, caseworker: Staff
) -> None:
    # One connection, taken by someone else; the request waits a tenth of a second for it.
    tight = make_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    app = create_app(settings, engine=tight, clock=clock, run_migrations=False)
    try:
        with TestClient(app, raise_server_exceptions=False) as client, tight.connect():
            answer = client.get("/api/v1/requests", headers=caseworker.headers)
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == str(RETRY_AFTER_S)
            assert answer.json()["code"] == "unavailable"
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/api/v1/requests", headers=caseworker.headers).status_code == 200
    finally:
        tight.dispose()


@pytest.fixture
def app_without_database(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    """The app pointed at a PostgreSQL that is not there (nothing listens on port 9)."""
    down = settings.model_copy(
        update={"database_url": "postgresql+psycopg://sprachpool@127.0.0.1:9/sprachpool"}
    )
    engine = make_engine(down.database_url, connect_args={"connect_timeout": 2})
    yield create_app(down, engine=engine, clock=clock, run_migrations=False)
    engine.dispose()


def test_the_api_says_the_database_cannot_be_reached(app_without_database: FastAPI) -> None:
    with TestClient(app_without_database, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/requests", headers={"Authorization": "Bearer x" * 3})

    assert answer.status_code == 503
    assert answer.json() == {
        "detail": "The service is busy or cannot reach its database just now; "
        "nothing was saved. Please try again in a minute.",
        "code": "unavailable",
        "errors": [],
    }


@pytest.mark.parametrize(
    ("lang", "title", "advice"),
    [
        ("de", "Sprachpool ist gerade ausgelastet", "Es wurde nichts gespeichert."),
        ("en", "Sprachpool is busy just now", "Nothing was saved."),
    ],
)
def test_a_page_says_so_in_the_readers_language(
    app_without_database: FastAPI, lang: str, title: str, advice: str
) -> None:
    with TestClient(
        app_without_database, base_url="https://testserver", raise_server_exceptions=False
    ) as browser:
        browser.cookies.set(SESSION_COOKIE, "a-session-from-before")
        browser.cookies.set(LANG_COOKIE, lang)
        page = browser.get("/requests")

    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert title in page.text
    assert advice in page.text


def inserts_waiting_on_a_lock(engine: Engine) -> int:
    """PostgreSQL sessions whose INSERT into "user" waits for another transaction's lock."""
    with engine.connect() as connection:
        return int(
            connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'INSERT INTO \"user\"%'"
                )
            )
            or 0
        )


def test_two_coordinators_adding_one_address_at_once_the_second_hears_409(
    client: TestClient, engine: Engine, coordinator: Staff, caseworker: Staff
) -> None:
    """The flow checks that the address is free, then inserts; in between another saved it.

    In other letters, too: the database keeps one account per address lower-cased
    (`User.email_key`); before, both accounts were made.

    On PostgreSQL the other unit of work is held open with the row inserted, so the
    check sees nothing and the insert waits on the unique index until it commits.
    SQLite takes its writer's turn before the check, so the race cannot happen there.
    """
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the check and the insert are not split")
    email = "zugleich@jobcenter.example"
    other = engine.connect()
    other.execute(
        sa.insert(User).values(
            email="Zugleich@Jobcenter.example",  # the same address in other letters
            email_key=email,
            name="Erste",
            role=Role.caseworker,
            organisation_id=caseworker.organisation_id,
            locale="de",
            active=True,
            failed_logins=0,
            created_at=NOW,
        )
    )
    answers: list[httpx.Response] = []
    posting = threading.Thread(
        target=lambda: answers.append(
            client.post(
                "/api/v1/users",
                json={"email": email, "name": "Zweite", "role": "caseworker", "invite": False},
                headers=coordinator.headers,
            )
        )
    )
    posting.start()
    # Let the other commit only once the POST's insert waits for it on the index: had
    # it committed earlier, the POST's lookup would find the account (email_taken).
    wait_until(lambda: inserts_waiting_on_a_lock(engine) == 1, seconds=20)
    other.commit()
    other.close()
    posting.join(timeout=30)

    [answer] = answers
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "conflict"
    assert "nothing was saved" in answer.json()["detail"]
    with engine.connect() as connection:
        names = connection.scalars(
            sa.select(col(User.name)).where(col(User.email_key) == email)
        ).all()
    assert names == ["Erste"]
