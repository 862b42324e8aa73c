"""The ASGI apps that bench_intake.py serves with uvicorn in a separate process.

Configured through the environment, because uvicorn imports it by name
(and once per worker with --workers N):

- SPRACHPOOL_BENCH_APP=sprachpool (default): the real app on
  SPRACHPOOL_BENCH_DATABASE_URL, already migrated and seeded by the bench;
  no background jobs, no migrations at start-up; its clock starts at
  SPRACHPOOL_BENCH_CLOCK_START where given (the bench's BENCH_NOW).
- SPRACHPOOL_BENCH_APP=trivial: a bare FastAPI app with one POST endpoint
  that takes a small JSON body and answers {"ok": true} -- the baseline
  that shows what the framework and the server cost on their own.

    uvicorn bench._intake_app:app --host 127.0.0.1 --port 8123
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI


def _trivial() -> FastAPI:
    app = FastAPI(title="trivial baseline")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # A sync endpoint, like ours: it runs in the same threadpool, so the
    # baseline pays the same framework, JSON and thread hand-off costs.
    @app.post("/api/v1/requests", status_code=201)
    def create(body: dict[str, Any]) -> dict[str, bool]:  # noqa: ARG001 (parsed, like ours)
        return {"ok": True}

    return app


def _sprachpool() -> FastAPI:
    from datetime import datetime

    from pydantic import SecretStr

    from config.settings import Settings
    from dispatch.app import create_app

    settings = Settings(
        database_url=os.environ["SPRACHPOOL_BENCH_DATABASE_URL"],
        environment="test",
        secret_key=SecretStr("x" * 40),
        run_background_jobs=False,
        clock_start=datetime.fromisoformat(start)
        if (start := os.environ.get("SPRACHPOOL_BENCH_CLOCK_START"))
        else None,
    )
    return create_app(settings, run_migrations=False)


def build() -> FastAPI:
    kind = os.environ.get("SPRACHPOOL_BENCH_APP", "sprachpool")
    if kind == "trivial":
        return _trivial()
    if kind == "sprachpool":
        return _sprachpool()
    raise SystemExit(f"SPRACHPOOL_BENCH_APP must be 'sprachpool' or 'trivial', not {kind!r}")


app = build()
