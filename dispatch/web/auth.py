"""Staff sign-in for the web pages: passwords, sessions, lockout and CSRF.

Sessions live in the database (`web_session`), keyed by the SHA-256 of a
random cookie value, so signing out or locking a user ends them at once and
a copy of the database signs nobody in. Every form carries a CSRF token that
is an HMAC of what binds it to the browser (the session cookie, a visitor
cookie before sign-in, or the link token on a mediator's page), so nothing
needs storing and a token from one browser is worthless in another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, col, select, update

from config.settings import Settings
from dispatch import audit
from dispatch.deps import get_clock, get_settings
from dispatch.errors import Forbidden, NotAuthenticated, SprachpoolError
from dispatch.security import hash_password, hash_token, verify_password
from dispatch.storage import unit_of_work
from dispatch.users import service as users_service
from dispatch.users.models import Role, User
from dispatch.web.models import WebSession

SESSION_COOKIE = "sp_session"
#: A random id for a browser that has not signed in, so the sign-in form has a CSRF binding.
VISITOR_COOKIE = "sp_visitor"
CSRF_FIELD = "csrf_token"

#: A session ends after this long without use, and in any case after ABSOLUTE_LIFETIME.
IDLE_TIMEOUT = timedelta(hours=8)
ABSOLUTE_LIFETIME = timedelta(days=7)
#: Sliding expiry is written at most this often, so reading pages rarely writes.
TOUCH_EVERY = timedelta(minutes=5)

#: After this many wrong passwords in a row, the account is locked for LOCKOUT.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

# Verifying against a real hash when the email is unknown keeps the answer
# as slow as for a known one, so timing does not tell which emails exist.
_DUMMY_HASH = hash_password("not-a-password-of-anyone")


class InvalidCredentials(SprachpoolError):
    status_code = 401
    code = "invalid_credentials"


class AccountLocked(SprachpoolError):
    status_code = 429
    code = "account_locked"

    def __init__(self, message: str, *, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class SignInRequired(NotAuthenticated):
    """A page needs a signed-in user; the browser is sent to /login."""


class CsrfRefused(Forbidden):
    code = "csrf_refused"


def sign_in(session: Session, *, email: str, password: str, now: datetime) -> User:
    """Check a password, counting failures; lock the account after MAX_FAILED_LOGINS.

    The counter and the lock are flushed even when sign-in fails, so the
    caller commits whatever happens.
    """
    email = email.strip()
    user = users_service.user_by_email(session, email) if email else None
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        raise InvalidCredentials("The email address or the password is not right.")
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(
            "Too many failed attempts; this account is locked for a while.", until=user.locked_until
        )
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            session.add(user)
            audit.record(
                session,
                at=now,
                actor_kind="system",
                actor_id=None,
                action="user.lock",
                entity="user",
                entity_id=user.id,
                details={"minutes": int(LOCKOUT.total_seconds() // 60)},
            )
            session.flush()
            raise AccountLocked(
                "Too many failed attempts; this account is locked for a while.",
                until=user.locked_until,
            )
        session.add(user)
        session.flush()
        raise InvalidCredentials("The email address or the password is not right.")
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str, now: datetime) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidCredentials(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(
        session,
        at=now,
        actor_kind="user",  # only the person themselves sets a password (from their link)
        actor_id=user.id,
        action="user.password",
        entity="user",
        entity_id=user.id,
    )
    session.flush()


def start_session(session: Session, *, user: User, now: datetime) -> str:
    """A new session for `user`; the cookie value is returned once, only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + IDLE_TIMEOUT,
            absolute_expires_at=now + ABSOLUTE_LIFETIME,
        )
    )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=user.id,
        action="session.start",
        entity="user",
        entity_id=user.id,
    )
    session.flush()
    return token


def user_for_session(session: Session, *, token: str, now: datetime) -> User | None:
    """The signed-in user of a session cookie, or None; extends an idle session."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(WebSession, User)
        .join(User, col(User.id) == col(WebSession.user_id))
        .where(WebSession.token_hash == hash_token(token), col(WebSession.ended_at).is_(None))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if not user.active or now >= web_session.expires_at or now >= web_session.absolute_expires_at:
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        web_session.expires_at = min(now + IDLE_TIMEOUT, web_session.absolute_expires_at)
        session.add(web_session)
    return user


def end_session(session: Session, *, token: str, now: datetime) -> None:
    session.exec(
        update(WebSession)
        .where(col(WebSession.token_hash) == hash_token(token), col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )


def secure_cookies(settings: Settings) -> bool:
    """Cookies are marked Secure when the service is reached over HTTPS."""
    return settings.public_base_url.lower().startswith("https://")


# --- CSRF -----------------------------------------------------------------


def csrf_token(settings: Settings, binding: str) -> str:
    """The form token for a browser bound by `binding`; an HMAC, so nothing is stored."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_binding(request: Request) -> str | None:
    """What ties a form to this browser: the link token, the session or the visitor cookie."""
    link_token = request.path_params.get("token")
    if isinstance(link_token, str) and link_token:
        return "link:" + link_token
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return "session:" + session_token
    visitor = request.cookies.get(VISITOR_COOKIE) or getattr(request.state, "new_visitor", None)
    return "visitor:" + visitor if visitor else None


def form_token(request: Request) -> str:
    """The CSRF token to put into forms rendered for this request.

    A browser without any cookie gets a visitor cookie with this response
    (see rendering), so even the sign-in form is bound to it.
    """
    binding = csrf_binding(request)
    if binding is None:
        request.state.new_visitor = secrets.token_urlsafe(24)
        binding = "visitor:" + request.state.new_visitor
    return csrf_token(get_settings(request), binding)


async def check_csrf(request: Request) -> None:
    """Refuse a form post whose token is missing or does not belong to this browser."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        form = await request.form()
    except Exception as exc:  # a body that is not a form at all
        raise CsrfRefused("This form could not be read.") from exc
    sent = form.get(CSRF_FIELD)
    binding = csrf_binding(request)
    if (
        not isinstance(sent, str)
        or binding is None
        or not hmac.compare_digest(sent, csrf_token(get_settings(request), binding))
    ):
        raise CsrfRefused("This form is out of date or was not sent from Sprachpool.")


CsrfChecked = Depends(check_csrf)


# --- who is signed in -----------------------------------------------------


def optional_web_user(request: Request) -> User | None:
    """The signed-in user, looked up in a short transaction of its own (as deps.current_user)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with unit_of_work(request.app.state.engine) as session:
        user = user_for_session(session, token=token, now=get_clock(request).now())
    request.state.web_user = user
    return user


def web_user(request: Request) -> User:
    user = optional_web_user(request)
    if user is None:
        raise SignInRequired("Please sign in first.")
    return user


def staff_page_user(request: Request) -> User:
    """Caseworkers and coordinators: the request form and list, their own account page."""
    return web_user(request)


def coordinator_page_user(request: Request) -> User:
    user = web_user(request)
    if user.role != Role.coordinator:
        raise Forbidden("Only a coordinator may open this page.")
    return user


OptionalWebUser = Annotated[User | None, Depends(optional_web_user)]
StaffPageUser = Annotated[User, Depends(staff_page_user)]
CoordinatorPageUser = Annotated[User, Depends(coordinator_page_user)]
