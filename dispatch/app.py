"""The FastAPI application: routers, error handlers, start-up and shutdown."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine

import locales
from config import data as config_data
from config.settings import Settings, get_settings
from dispatch import errors, openapi
from dispatch.allowances import routes as allowances_routes
from dispatch.auditing.routes import router as audit_router
from dispatch.clock import Clock, RunningClock, SystemClock
from dispatch.deps import CurrentUser
from dispatch.funding import policy as funding_policy
from dispatch.funding import routes as funding_routes
from dispatch.jobs import routes as jobs_routes
from dispatch.mediators.routes import router as mediators_router
from dispatch.offers import routes as offers_routes
from dispatch.offers import views as offers_views
from dispatch.organisations.routes import router as organisations_router
from dispatch.outbox import routes as outbox_routes
from dispatch.outbox import webhooks as outbox_webhooks
from dispatch.places.routes import router as places_router
from dispatch.planning.routes import router as planning_router
from dispatch.reports import routes as reports_routes
from dispatch.requests.routes import clients as clients_router
from dispatch.requests.routes import router as requests_router
from dispatch.series import routes as series_routes
from dispatch.stats.routes import router as stats_router
from dispatch.storage import make_engine, migrate
from dispatch.users.routes import router as users_router
from dispatch.web import pages as web_pages

log = logging.getLogger("sprachpool")

ASGIApp = Callable[
    [
        dict[str, Any],
        Callable[[], Awaitable[dict[str, Any]]],
        Callable[[dict[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class BodySizeLimit:
    """Refuse bodies over the limit with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = JSONResponse(
            errors.error_body(
                f"The request body is larger than {self.max_bytes} bytes.", "too_large"
            ),
            status_code=413,
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


#: Net allocations of tracked objects between two young collections (Python's default: 700).
YOUNG_COLLECTION_EVERY = 10_000


@contextmanager
def collector_for_serving() -> Iterator[None]:
    """Python's garbage collector set for a long-running server, for as long as it serves.

    What start-up built (modules, routes, models, catalogs: some 230,000
    objects) lives as long as the process; frozen, the full collections skip
    it. They walked all of it and stopped every request in flight meanwhile:
    under the intake bench (1,200 filings) five pauses of up to 186 ms, which
    were the p99; frozen, up to 35-75 ms. The young collections, every 700
    allocations, moved the objects of the filings in flight into the old
    generation often enough for a full collection every 240 filings; every
    10,000, there was none in the run, the longest pause was 17-24 ms, the
    collector's time a third, and p99 lower in all five pairs of runs.
    Set back when the service stops (tests start many apps in one process).
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    run_migrations: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    # A mistake in the funding policy stops the start, not the first request.
    funding_policy.policy_of(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            migrate(settings.database_url)
        for warning in settings.startup_warnings():
            log.warning(warning)
        jobs = None
        if settings.run_background_jobs:
            from dispatch.scheduler import BackgroundJobs

            jobs = BackgroundJobs(engine, settings=settings, clock=app.state.clock)
            jobs.start()
            app.state.scheduler = jobs
        try:
            with collector_for_serving():
                yield
        finally:
            if jobs is not None:
                jobs.shutdown()
                app.state.scheduler = None

    app = FastAPI(
        title="Sprachpool",
        summary="Dispatch service for a town's pool of language mediators (Sprachmittlerpool).",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    if clock is None:
        clock = RunningClock(settings.clock_start) if settings.clock_start else SystemClock()
    app.state.clock = clock
    app.state.scheduler = None
    errors.install_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.get("/health", tags=["meta"])
    def health() -> JSONResponse:
        """Status of the app, the database and the scheduler."""
        database = "ok"
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: database unreachable")
            database = "unreachable"
        scheduler = app.state.scheduler
        body = {
            "status": "ok" if database == "ok" else "degraded",
            "database": database,
            "scheduler": "running"
            if scheduler is not None and scheduler.running
            else "not running",
        }
        return JSONResponse(body, status_code=200 if database == "ok" else 503)

    @app.get("/api/v1/languages", tags=["meta"])
    def languages(_user: CurrentUser) -> list[dict[str, str]]:
        """The configured languages with German and English names (CLDR, with the overrides
        of config/languages.toml)."""
        return [
            {
                "tag": lang.tag,
                "name_de": locales.language_name(lang.tag, "de"),
                "name_en": locales.language_name(lang.tag, "en"),
            }
            for lang in config_data.languages().values()
        ]

    app.include_router(places_router)
    app.include_router(mediators_router)
    app.include_router(requests_router)
    app.include_router(clients_router)
    app.include_router(series_routes.router)
    app.include_router(funding_routes.router)
    app.include_router(jobs_routes.router)
    app.include_router(planning_router)
    app.include_router(stats_router)
    app.include_router(allowances_routes.router)
    app.include_router(reports_routes.router)
    app.include_router(organisations_router)
    app.include_router(users_router)
    app.include_router(audit_router)
    web_pages.install(app)
    app.include_router(outbox_routes.router)
    app.include_router(outbox_webhooks.router)
    app.include_router(offers_routes.api)
    app.include_router(offers_views.pages)
    app.include_router(offers_routes.webhooks)
    openapi.install(app)
    return app
