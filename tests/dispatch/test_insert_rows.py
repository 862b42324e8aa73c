"""Several new rows in one INSERT, each object then the session's row with its own id.

A wave's offers go in this way: the ORM's flush sent one INSERT per offer on
SQLite, which cannot return several new ids in the order the rows were given.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dispatch.storage import insert_rows_with_ids, new_row, unit_of_work
from dispatch.users.models import Organisation
from tests.conftest import NOW

NAMES = ["Jobcenter", "Rathaus", "Schule am Markt", "Kreishaus"]


def ids_by_name(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            row.name: row.id
            for row in connection.execute(sa.text("SELECT name, id FROM organisation"))
        }


def test_each_row_gets_its_own_id_from_one_insert(engine: Engine) -> None:
    inserts: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).startswith("INSERT"):
            inserts.append(str(args[2]))

    rows = [new_row(Organisation, name=name, created_at=NOW) for name in NAMES]
    event.listen(engine, "before_cursor_execute", count)
    try:
        with unit_of_work(engine) as session:
            insert_rows_with_ids(session, rows, match="name")
            assert all(session.get(Organisation, row.id) is row for row in rows)
            rows[1].name = "Rathaus Beckum"  # the session's row: a change is an UPDATE
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1, inserts
    stored = ids_by_name(engine)
    assert stored == {
        "Jobcenter": rows[0].id,
        "Rathaus Beckum": rows[1].id,
        "Schule am Markt": rows[2].id,
        "Kreishaus": rows[3].id,
    }
    assert len(set(stored.values())) == len(NAMES)


def test_rows_that_cannot_be_told_apart_are_refused_before_anything_is_written(
    engine: Engine,
) -> None:
    rows = [new_row(Organisation, name="Twice", created_at=NOW) for _ in range(2)]
    with pytest.raises(ValueError, match="name repeats"), unit_of_work(engine) as session:
        insert_rows_with_ids(session, rows, match="name")
    assert ids_by_name(engine) == {}
