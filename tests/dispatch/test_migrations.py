"""The schema is managed by migrations; upgrading keeps the data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.deadlines.models import Deadline
from dispatch.requests.models import Mode, Request, RequestDeadlineKind
from dispatch.storage import alembic_config, current_revision, make_engine, migrate
from dispatch.users.models import Organisation, Role, User
from tests.conftest import drop_postgres_schema, fresh_postgres_schema_url, require_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    require_postgres()
    url, schema = fresh_postgres_schema_url()
    yield url
    drop_postgres_schema(schema)


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_empty_database_migrates_to_the_models(empty_database: str) -> None:
    migrate(empty_database)
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    assert current_revision(engine) == revisions()[-1]
    # alembic check raises when the models and the migrations disagree.
    command.check(alembic_config(empty_database))
    migrate(empty_database)  # a second run is a no-op
    engine.dispose()


def test_upgrade_from_every_older_revision_keeps_the_data(empty_database: str) -> None:
    older = revisions()[:-1]
    assert older, "there is at least one older revision to upgrade from"
    migrate(empty_database, older[0])
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO organisation (name, created_at)"
                " VALUES ('Jobcenter', '2026-11-01 09:00:00+00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO mediator (name, phone, travel_mode, qualifications, channels,"
                " message_locale, active, paused, created_at, updated_at)"
                " VALUES ('Helen Tekle', '+4915112340027', 'car', '[]', '[\"sms\"]',"
                " 'de', true, false, '2026-11-01 09:00:00+00', '2026-11-01 09:00:00+00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO mediator_language (mediator_id, language, level)"
                " VALUES (1, 'ti', 'native')"
            )
        )
    for revision in older[1:] + ["heads"]:
        migrate(empty_database, revision)
    with engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT name FROM organisation")).scalar_one() == "Jobcenter"
        )
        assert connection.execute(sa.text("SELECT name, phone FROM mediator")).one() == (
            "Helen Tekle",
            "+4915112340027",
        )
        assert (
            connection.execute(sa.text("SELECT language FROM mediator_language")).scalar_one()
            == "ti"
        )
    assert current_revision(engine) == revisions()[-1]
    engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO mediator_language (mediator_id, language, level)"
                " VALUES (999, 'ti', 'native')"
            )
        )
    engine.dispose()


def test_requests_filed_before_the_erasure_deadline_get_one_on_upgrade(
    empty_database: str,
) -> None:
    """A request filed before 0009addr had no erasure deadline; upgrading gives it one."""
    migrate(empty_database, "0009series")  # the schema of the models, before the backfill
    engine = make_engine(empty_database, poolclass=sa.pool.NullPool)
    filed = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        organisation = Organisation(name="Jobcenter", created_at=filed)
        session.add(organisation)
        session.flush()
        user = User(
            organisation_id=organisation.id,
            email="cw@example.org",
            name="Caseworker",
            role=Role.caseworker,
            created_at=filed,
        )
        session.add(user)
        session.flush()
        ends = [filed + timedelta(days=7, hours=1), filed + timedelta(days=9, hours=2)]
        requests = [
            Request(
                organisation_id=organisation.id,
                created_by_user_id=user.id,
                language="ti",
                start=end - timedelta(hours=1),
                end=end,
                mode=Mode.phone,
                contact_name="Frau A.",
                created_at=filed,
                updated_at=filed,
            )
            for end in ends
        ]
        session.add_all(requests)
        session.flush()
        # The second one already has its deadline (filed after 0009addr): it is left alone.
        kept_due = ends[1] + timedelta(days=30)
        session.add(
            Deadline(
                kind=RequestDeadlineKind.erase_data,
                subject_id=requests[1].id,
                due_at=kept_due,
                created_at=filed,
            )
        )
        session.commit()
        ids = [request.id for request in requests]

    migrate(empty_database)

    with Session(engine) as session:
        deadlines = {
            deadline.subject_id: deadline
            for deadline in session.exec(
                select(Deadline).where(Deadline.kind == RequestDeadlineKind.erase_data)
            )
        }
    assert set(deadlines) == set(ids)
    days = Settings().request_data_days
    assert deadlines[ids[0]].due_at == ends[0] + timedelta(days=days)
    assert deadlines[ids[0]].done_at is None
    assert deadlines[ids[1]].due_at == kept_due
    engine.dispose()
