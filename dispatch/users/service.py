"""Organisations, users and tokens."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from dispatch import audit
from dispatch.errors import Conflict, NotFound
from dispatch.security import hash_password, hash_token, new_api_token
from dispatch.storage import loaded_row
from dispatch.users.models import ApiToken, Organisation, Role, User
from notifications.addresses import ascii_address


def get_or_create_organisation(session: Session, *, name: str, now: datetime) -> Organisation:
    organisation = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if organisation is None:
        organisation = Organisation(name=name, created_at=now)
        session.add(organisation)
        session.flush()
        audit.record(
            session,
            at=now,
            actor_kind="system",
            actor_id=None,
            action="organisation.create",
            entity="organisation",
            entity_id=organisation.id,
        )
    return organisation


#: The languages staff messages are written in (notifications/templates STAFF_LOCALES).
STAFF_LOCALES = ("de", "en")


def email_key(email: str) -> str:
    """The form of an address that makes it one account (`User.email_key`): lower-cased,
    its domain in the ASCII form mail goes to, so "info@bäckerei-müller.de", the same typed
    with decomposed umlauts, and "info@xn--bckerei-mller-bfb28a.de" are one account."""
    typed = email.strip()
    with suppress(ValueError):  # not an address mail could go to: it matches only itself
        typed = ascii_address(typed)
    return typed.lower()


def user_by_email(session: Session, email: str) -> User | None:
    """The account of an address, in whatever letters it is typed.

    An address with a control character belongs to nobody (addresses are checked
    when an account is made) and is not looked up: PostgreSQL refuses a NUL in a
    text parameter, and the sign-in form answered one with a server error.
    """
    if not email.isprintable():
        return None
    return session.exec(select(User).where(col(User.email_key) == email_key(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    organisation: Organisation,
    password: str | None = None,
    locale: str = "de",
    now: datetime,
    actor: User | None = None,
) -> User:
    if user_by_email(session, email) is not None:
        raise Conflict(
            f"A user with the email {email} exists already.", field="email", reason="email_taken"
        )
    user = User(
        email=email,
        email_key=email_key(email),
        name=name,
        role=role,
        organisation_id=organisation.id,
        password_hash=hash_password(password) if password else None,
        locale=locale if locale in STAFF_LOCALES else "de",
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor is not None else "system",
        actor_id=actor.id if actor is not None else None,
        action="user.create",
        entity="user",
        entity_id=user.id,
        details={"role": role.value},
    )
    return user


def set_locale(session: Session, *, user_id: int, locale: str) -> None:
    """The language the user's messages are written in from now on (de or en; others ignored)."""
    if locale not in STAFF_LOCALES:
        return
    user = session.get(User, user_id)
    if user is not None and user.locale != locale:
        user.locale = locale
        session.add(user)


def issue_token(session: Session, *, user: User, now: datetime, actor: User | None = None) -> str:
    """A new API token for `user`; the plain token is returned once, never stored.

    `actor` is who asked for it (the user on their account page); without one,
    the system did (``user add``, the demo).
    """
    token = new_api_token()
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:10], created_at=now)
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor is not None else "system",
        actor_id=actor.id if actor is not None else None,
        action="token.issue",
        entity="user",
        entity_id=user.id,
        details={"token_id": row.id},
    )
    return token


def list_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first; revoked ones too, so they see when each stopped."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
        )
    )


def active_token_count(session: Session, *, user_id: int) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
    ).one()


def issue_own_token(session: Session, *, user: User, limit: int, now: datetime) -> str:
    """A token a staff member makes for themselves, while they hold fewer than `limit`.

    Their account row is locked first (PostgreSQL; SQLite's write lock does it for
    the whole request), so two clicks at the same moment cannot both pass the count.
    """
    session.exec(select(User.id).where(User.id == user.id).with_for_update()).one()
    if active_token_count(session, user_id=user.id) >= limit:
        raise Conflict(
            f"You hold {limit} working API tokens, the most allowed; revoke one first.",
            reason="token_limit",
            params={"limit": limit},
        )
    return issue_token(session, user=user, now=now, actor=user)


def revoke_own_token(session: Session, *, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens: the API refuses it from the next request on.

    Another person's token is answered as one that does not exist, so trying ids
    tells nothing about them. A token revoked already stays as it was (a second
    click changes nothing).
    """
    token = session.exec(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).first()
    if token is None:
        raise NotFound(
            f"You have no API token with id {token_id}.",
            reason="unknown_token",
            params={"id": token_id},
        )
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        audit.record(
            session,
            at=now,
            actor_kind="user",
            actor_id=user.id,
            action="token.revoke",
            entity="user",
            entity_id=user.id,
            details={"token_id": token.id},
        )
        session.flush()
    return token


@cache
def _token_user_query() -> sa.Select[Any]:
    """A valid token's id and last use, and its user's columns: one plain SELECT, built once."""
    token, user = ApiToken.__table__, User.__table__  # type: ignore[attr-defined]
    return (
        sa.select(token.c.id.label("token_id"), token.c.last_used_at.label("token_used_at"), user)
        .join_from(token, user, user.c.id == token.c.user_id)
        .where(token.c.token_hash == sa.bindparam("token_hash"), token.c.revoked_at.is_(None))
    )


@cache
def _record_use() -> sa.Update:
    token = ApiToken.__table__  # type: ignore[attr-defined]
    return (
        sa.update(token)
        .where(token.c.id == sa.bindparam("token_id"))
        .values(last_used_at=sa.bindparam("now"))
    )


#: How often a token's use is written down: reading the API should not mean writing to it.
RECORD_USE_EVERY = timedelta(hours=1)


def user_for_token(connection: sa.Connection, *, token: str, now: datetime) -> User | None:
    """The active user of a valid API token, or None; records the token's use at most hourly.

    Every API request asks this, so it is one plain SELECT of the token's and
    the user's columns, without the ORM's loading: the user comes back as a
    detached row, as if loaded in a session that has closed, which a unit of
    work can take in without reading it again (``storage.keep``). The use is
    written in the caller's transaction; when a busy SQLite database refuses
    the write, that transaction is rolled back and the use waits for the next
    request (the user is returned all the same).
    """
    if len(token) > 200:
        return None
    row = connection.execute(_token_user_query(), {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    values = row._asdict()
    token_id, used_at = values.pop("token_id"), values.pop("token_used_at")
    if not values["active"]:
        return None
    if used_at is None or now - used_at > RECORD_USE_EVERY:
        try:
            connection.execute(_record_use(), {"token_id": token_id, "now": now})
        except OperationalError:  # a busy database: the timestamp can wait an hour
            connection.rollback()
    return loaded_row(User, **values)
