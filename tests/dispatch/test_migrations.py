"""The schema is managed by migrations; upgrading keeps the data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from dispatch.storage import alembic_config, current_revision, make_engine, migrate
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
