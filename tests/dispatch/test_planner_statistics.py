"""SQLite's query planner gets statistics, so a status never looks as selective as a request.

Without statistics SQLite takes an equality on any indexed column for a
selective one; with half a year of offers on file it read every declined
offer through the (status, expires_at) index to find eight requests' few.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dispatch.storage import make_engine, migrate, refresh_statistics

STATUSES = ("accepted", "declined", "expired", "withdrawn")
#: Scarcity's question: the answered offers of the (up to eight) other requests near a job.
OTHERS_ANSWERS = (
    "SELECT request_id, mediator_id FROM offer"
    " WHERE request_id IN (3, 4, 5, 6, 7, 8, 9, 10) AND status IN ('declined', 'expired')"
)


def plan(database: Path, query: str) -> str:
    with sqlite3.connect(database) as connection:
        return " ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + query))


def test_the_planner_reads_the_others_offers_by_request_once_it_has_statistics(
    tmp_path: Path,
) -> None:
    database = tmp_path / "pool.db"
    migrate(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys=OFF")  # offers alone are what the plan is about
        connection.executemany(
            "INSERT INTO offer (request_id, mediator_id, wave, token_hash, short_code, channel,"
            " status, created_at, expires_at) VALUES (?, ?, 1, ?, '1000', 'sms', ?,"
            " '2026-05-04 08:00:00', '2026-05-04 09:00:00')",
            [
                (request, mediator, f"{request}-{mediator}", STATUSES[(request + mediator) % 4])
                for request in range(1, 201)
                for mediator in range(1, 11)
            ],
        )
    assert "ix_offer_status_expires" in plan(database, OTHERS_ANSWERS)

    engine = make_engine(f"sqlite:///{database}")
    assert refresh_statistics(engine)
    engine.dispose()

    assert "ix_offer_request_id" in plan(database, OTHERS_ANSWERS)
