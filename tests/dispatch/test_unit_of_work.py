"""One unit of work per request: the session dependency commits, routes never do.

Probe routes are added to the real app, so the dependency, the error handlers
and the database are the real ones; they run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.deps import SessionDep
from dispatch.errors import Conflict
from dispatch.users.models import Organisation
from tests.conftest import NOW, ROOT


def organisation_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT name FROM organisation")).scalars())


@pytest.fixture
def probes(app: FastAPI) -> FastAPI:
    """Routes that write one organisation and then succeed, refuse or break."""

    @app.post("/api/v1/probe/write")
    def write(session: SessionDep) -> dict[str, int]:
        organisation = Organisation(name="Written", created_at=NOW)
        session.add(organisation)
        session.flush()
        return {"id": organisation.id}

    @app.post("/api/v1/probe/write-then-refuse")
    def write_then_refuse(session: SessionDep) -> None:
        session.add(Organisation(name="Refused", created_at=NOW))
        session.flush()
        raise Conflict("refused after writing")

    @app.post("/api/v1/probe/write-then-break")
    def write_then_break(session: SessionDep) -> None:
        session.add(Organisation(name="Broken", created_at=NOW))
        session.flush()
        raise RuntimeError("a bug after writing")

    @app.post("/api/v1/probe/commit-fails")
    def commit_fails(session: SessionDep) -> dict[str, str]:
        # Two rows with one unique name, not flushed: the commit itself fails.
        session.add(Organisation(name="Twice", created_at=NOW))
        session.add(Organisation(name="Twice", created_at=NOW))
        return {"status": "done"}

    return app


@pytest.fixture
def probe_client(probes: FastAPI) -> Iterator[TestClient]:
    with TestClient(probes, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def commits(engine: Engine) -> Iterator[list[str]]:
    """Every commit on the engine's connections while the test runs."""
    seen: list[str] = []

    def count(_connection: sa.Connection) -> None:
        seen.append("commit")

    event.listen(engine, "commit", count)
    yield seen
    event.remove(engine, "commit", count)


def test_a_successful_route_commits_once(
    probe_client: TestClient, engine: Engine, commits: list[str]
) -> None:
    response = probe_client.post("/api/v1/probe/write")

    assert response.status_code == 200
    assert len(commits) == 1
    assert organisation_names(engine) == ["Written"]


def test_a_route_that_refuses_leaves_nothing_written(
    probe_client: TestClient, engine: Engine, commits: list[str]
) -> None:
    response = probe_client.post("/api/v1/probe/write-then-refuse")

    assert response.status_code == 409
    assert response.json()["detail"] == "refused after writing"
    assert organisation_names(engine) == []
    assert commits == []


def test_a_route_that_breaks_leaves_nothing_written(
    probe_client: TestClient, engine: Engine, commits: list[str]
) -> None:
    response = probe_client.post("/api/v1/probe/write-then-break")

    assert response.status_code == 500
    assert organisation_names(engine) == []
    assert commits == []


def test_a_commit_that_fails_is_an_error_response_not_a_success(
    probe_client: TestClient, engine: Engine
) -> None:
    """The commit runs before the response is sent, so its failure is what the client sees."""
    response = probe_client.post("/api/v1/probe/commit-fails")

    assert response.status_code >= 400
    assert "done" not in response.text
    assert organisation_names(engine) == []


def test_the_session_is_usable_until_the_route_returns(
    probe_client: TestClient, engine: Engine
) -> None:
    """The route reads its own writes (flushed, not yet committed) and returns their ids."""
    first = probe_client.post("/api/v1/probe/write").json()["id"]

    with Session(engine) as session:
        assert session.get(Organisation, first) is not None


def test_no_route_or_service_commits() -> None:
    """Only the unit of work (and the token lookup's own short session) commits."""
    allowed = {
        ROOT / "dispatch" / "storage.py",  # unit_of_work
        ROOT / "dispatch" / "deps.py",  # the API token's last use, in its own session
    }
    committing = []
    for path in sorted((ROOT / "dispatch").rglob("*.py")):
        if path in allowed or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                committing.append(f"{Path(path).relative_to(ROOT)}:{node.lineno}")
    assert committing == []


def test_rows_built_without_their_constructor_work_in_a_fresh_process(tmp_path: Path) -> None:
    """`new_row`, `loaded_row` and `insert_row` before any ORM query (the server's first
    request authenticates with a plain SELECT): the models' mappers are made ready first."""
    script = tmp_path / "fresh.py"
    script.write_text(
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from dispatch.storage import loaded_row, new_row\n"
        "from dispatch.users.models import Organisation, User\n"
        "now = datetime(2026, 1, 1, tzinfo=UTC)\n"
        "user = loaded_row(User, id=7, organisation_id=1, email='a@example.org', name='A',\n"
        "    role='caseworker', locale='de', password_hash=None, active=True,\n"
        "    failed_logins=0, locked_until=None, created_at=now)\n"
        "organisation = new_row(Organisation, name='New', created_at=now)\n"
        "print(user.id, user.email, organisation.kind, organisation.id)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["7", "a@example.org", "public", "None"]
