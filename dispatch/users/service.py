"""Organisations, users and tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from dispatch import audit
from dispatch.errors import Conflict
from dispatch.security import hash_password, hash_token, new_api_token
from dispatch.users.models import ApiToken, Organisation, Role, User


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
    if (
        session.exec(select(User).where(func.lower(User.email) == email.lower())).first()
        is not None
    ):
        raise Conflict(
            f"A user with the email {email} exists already.", field="email", reason="email_taken"
        )
    user = User(
        email=email,
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


def issue_token(session: Session, *, user: User, now: datetime) -> str:
    """A new API token for `user`; the plain token is returned once, never stored."""
    token = new_api_token()
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:10], created_at=now)
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="token.issue",
        entity="user",
        entity_id=user.id,
    )
    return token


def user_for_token(session: Session, *, token: str, now: datetime) -> User | None:
    if len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(col(ApiToken.token_hash) == hash_token(token), col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if not user.active:
        return None
    # Record use at most hourly, so reading the API does not mean writing to it.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(hours=1):
        api_token.last_used_at = now
        session.add(api_token)
    return user
