"""Dependencies shared by the routes: session, clock, settings, current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from config.settings import Settings
from dispatch.clock import Clock
from dispatch.errors import Forbidden, NotAuthenticated
from dispatch.storage import unit_of_work
from dispatch.users import service as users
from dispatch.users.models import Role, User
from dispatch.validation import MAX_ID


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit when the route returned, roll back when it raised.

    Routes and services never commit. The dependency is declared with
    ``scope="function"`` (see ``SessionDep``): FastAPI runs its exit, and so the
    commit, after the route has returned and its response is built but before
    the response is sent. A commit that fails therefore becomes an error
    response; the client is never told "done" about a change that was lost.

    On SQLite a request that may write takes the write lock when its
    transaction begins: a deferred transaction that reads and then writes
    fails at once with "database is locked" when another writer got in
    between, whatever the busy timeout.

    Async, so the unit of work opens on the event loop: opening it does no
    I/O (the session connects, and on SQLite queues for the writer, at its
    first statement), and a sync dependency would cost a hand-off to the
    thread pool and back (see `_clock`). Its end, the commit or the rollback,
    runs on a thread of `unit_ends`, never behind the routes waiting for
    threads.
    """
    immediate = request.method not in ("GET", "HEAD", "OPTIONS")
    work = unit_of_work(request.app.state.engine, immediate=immediate)
    session = work.__enter__()
    try:
        yield session
    except BaseException as exc:
        await anyio.to_thread.run_sync(
            work.__exit__, type(exc), exc, exc.__traceback__, limiter=unit_ends()
        )
        raise
    await anyio.to_thread.run_sync(work.__exit__, None, None, None, limiter=unit_ends())


UNIT_END_THREADS = 40
"""Threads for ending units of work (commit or roll back) at once, per event loop."""

_unit_ends: RunVar[CapacityLimiter] = RunVar("sprachpool_unit_ends")


def unit_ends() -> CapacityLimiter:
    """The threads that end units of work, apart from the routes' (one set per event loop).

    A unit of work that writes to SQLite holds the database from its first
    statement to its commit, and the routes behind it wait for it on their
    worker threads. Were its commit queued for a worker thread as well, as
    many waiting routes as there are threads (40 by default) would leave it
    no thread, and nobody would move until their waits timed out. A commit
    waits for nothing a route holds, so with threads of its own it always
    goes through, and then the next route goes on. The same holds for routes
    waiting on PostgreSQL for a pooled connection or a row lock.
    """
    try:
        return _unit_ends.get()
    except LookupError:
        limiter = CapacityLimiter(UNIT_END_THREADS)
        _unit_ends.set(limiter)
        return limiter


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _clock(request: Request) -> Clock:
    """`get_clock` for `Depends`: async, so FastAPI runs it on the event loop.

    A sync dependency costs a hand-off to the thread pool and back, and under
    load every hand-off waits for the GIL behind the busy request threads.
    """
    return get_clock(request)


async def _settings(request: Request) -> Settings:
    """`get_settings` for `Depends`, on the event loop (see `_clock`)."""
    return get_settings(request)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(_clock)]
SettingsDep = Annotated[Settings, Depends(_settings)]

_bearer = HTTPBearer(auto_error=False, description="A personal API token (sprachpool user add)")


def current_user(
    request: Request,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The token's user, looked up on a connection of its own, in a short read of its own.

    Not in the request's session: on SQLite that one may hold the write
    lock from its first statement, and the lookup need not wait for it.
    A plain connection, not a session: the lookup is one SELECT (and, at
    most hourly, the token's last use), and the user comes back detached.
    """
    if credentials is None:
        raise NotAuthenticated("Sign in first: send 'Authorization: Bearer <token>'.")
    with request.app.state.engine.connect() as connection:
        user = users.user_for_token(connection, token=credentials.credentials, now=clock.now())
        try:
            connection.commit()  # the token's last use, when it was recorded
        except OperationalError:  # a busy database: the timestamp can wait an hour
            connection.rollback()
    if user is None:
        raise NotAuthenticated("This token is not valid (unknown, revoked or mistyped).")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def user_or_link_token(
    request: Request,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_link_token: Annotated[
        str | None,
        Header(max_length=64, description="A mediator's link token (the part after /o/)."),
    ] = None,
) -> User | str:
    """The token's user, or for a caller without an account the link token they hold."""
    if credentials is not None:
        return current_user(request, clock, credentials)
    if x_link_token:
        return x_link_token
    raise NotAuthenticated(
        "Send 'Authorization: Bearer <token>' or the mediator's link token in X-Link-Token."
    )


UserOrLinkToken = Annotated[User | str, Depends(user_or_link_token)]


def coordinator(user: CurrentUser) -> User:
    if user.role != Role.coordinator:
        raise Forbidden("Only a coordinator may do this.")
    return user


CoordinatorUser = Annotated[User, Depends(coordinator)]

#: A database id in a path: positive and within a 32-bit column.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
