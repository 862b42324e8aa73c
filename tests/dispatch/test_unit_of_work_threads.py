"""More filings at once than the server has threads: every one commits, none waits for nothing.

A sync route runs on one of the event loop's worker threads (40 by default);
its unit of work ends, with the commit, after the route returned, on a
thread as well. On SQLite a filing holds the database from its first
statement to that commit, and the filings behind it wait for it on their
threads. When they hold every worker thread, the commit that would let them
go needs a thread too: it must not wait in the same queue as they do, or
nobody moves until their wait times out. The ends of units of work have
threads of their own (`deps.unit_ends`).

Here the worker threads are cut to two and eight filings arrive together,
as forty-odd would on a busy Monday with the default of forty.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI

from dispatch import storage
from tests.conftest import Staff, request_payload

FILINGS = 8


def file_together(app: FastAPI, staff: Staff, *, threads: int) -> list[httpx.Response]:
    """`FILINGS` requests posted at once to `app`, whose routes get `threads` worker threads."""
    responses: list[httpx.Response] = []

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def post(day: int) -> None:
                body = request_payload(
                    start=f"2026-12-{day:02d}T09:00:00+01:00",
                    end=f"2026-12-{day:02d}T10:00:00+01:00",
                )
                responses.append(
                    await client.post("/api/v1/requests", json=body, headers=staff.headers)
                )

            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for day in range(2, 2 + FILINGS):
                        group.start_soon(post, day)

    anyio.run(main)
    return responses


def test_more_filings_at_once_than_worker_threads_all_commit(
    app: FastAPI, caseworker: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A filing stuck behind the commit would fail after this wait, not after 30 s.
    monkeypatch.setattr(storage, "WRITER_WAIT_S", 4.0)

    responses = file_together(app, caseworker, threads=2)

    problems: list[Any] = [r.text for r in responses if r.status_code != 201]
    assert problems == []
    assert len(responses) == FILINGS
    assert len({r.json()["id"] for r in responses}) == FILINGS
