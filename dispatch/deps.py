"""Dependencies shared by the routes: session, clock, settings, current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from config.settings import Settings
from dispatch.clock import Clock
from dispatch.errors import Forbidden, NotAuthenticated
from dispatch.users import service as users
from dispatch.users.models import Role, User
from dispatch.validation import MAX_ID


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; the route commits what it changed.

    On SQLite a request that may write takes the write lock when its
    transaction begins: a deferred transaction that reads and then writes
    fails at once with "database is locked" when another writer got in
    between, whatever the busy timeout.
    """
    engine = request.app.state.engine
    if request.method not in ("GET", "HEAD", "OPTIONS") and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="A personal API token (sprachpool user add)")


def current_user(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    token = credentials.credentials if credentials else None
    if token is None:
        # Pages sign in with a session cookie instead of a bearer token.
        user_id = request.scope.get("session", {}).get("user_id") if "session" in request.scope else None
        if user_id is not None:
            user = session.get(User, user_id)
            if user is not None and user.active:
                return user
        raise NotAuthenticated("Sign in first: send 'Authorization: Bearer <token>'.")
    user = users.user_for_token(session, token=token, now=clock.now())
    if user is None:
        raise NotAuthenticated("This token is not valid (unknown, revoked or mistyped).")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def coordinator(user: CurrentUser) -> User:
    if user.role != Role.coordinator:
        raise Forbidden("Only a coordinator may do this.")
    return user


CoordinatorUser = Annotated[User, Depends(coordinator)]

#: A database id in a path: positive and within a 32-bit column.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]
