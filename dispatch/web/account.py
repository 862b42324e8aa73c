"""Pages for everyone: sign-in, sign-out, one-time sign-in links, language switch, start page,
and a staff member's own account with their API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

import locales
from config.settings import Settings
from dispatch import throttle
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import Conflict
from dispatch.users import flows as user_flows
from dispatch.users import service as users
from dispatch.users.models import Role, User
from dispatch.validation import is_email
from dispatch.web import auth, links
from dispatch.web.auth import CsrfChecked, OptionalWebUser, StaffPageUser
from dispatch.web.rendering import LANG_COOKIE, LANGS, render

router = APIRouter(include_in_schema=False)

LANG_COOKIE_SECONDS = 365 * 24 * 3600


def start_page(user: User) -> str:
    """Each person's own start page: the dashboard or their organisation's requests."""
    return "/dashboard" if user.role == Role.coordinator else "/requests"


def safe_next(target: str | None, fallback: str) -> str:
    """Only paths on this site, so `?next=` cannot send anyone elsewhere."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or len(target) > 500
    ):
        return fallback
    if any(ord(c) < 32 for c in target):
        return fallback
    return target


def _signed_in(request: Request, user: User, token: str, target: str) -> Response:
    response = RedirectResponse(safe_next(target, start_page(user)), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=auth.secure_cookies(request.app.state.settings),
        path="/",
        max_age=int(auth.ABSOLUTE_LIFETIME.total_seconds()),
    )
    return response


@router.get("/")
def home(user: OptionalWebUser) -> RedirectResponse:
    return RedirectResponse("/login" if user is None else start_page(user), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalWebUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next, start_page(user)), status_code=303)
    return render(request, "login.html", {"next": safe_next(next, ""), "email": ""})


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    now = clock.now()
    try:
        user = auth.sign_in(session, email=email, password=password, now=now)
    except auth.AccountLocked as exc:
        minutes = max(1, int((exc.until - now).total_seconds() + 59) // 60)
        return render(
            request,
            "login.html",
            {"next": safe_next(next, ""), "email": email, "error": "locked", "minutes": minutes},
            status_code=429,
        )
    except auth.InvalidCredentials:
        return render(
            request,
            "login.html",
            {"next": safe_next(next, ""), "email": email, "error": "wrong"},
            status_code=401,
        )
    token = auth.start_session(session, user=user, now=now)
    if LANG_COOKIE in request.cookies:  # the language chosen before signing in is theirs
        users.set_locale(session, user_id=user.id, locale=request.cookies[LANG_COOKIE])
    return _signed_in(request, user, token, next)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        auth.end_session(session, token=token, now=clock.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/login/link/{token}", response_class=HTMLResponse)
def sign_in_link_page(
    request: Request, token: str, session: SessionDep, clock: ClockDep
) -> Response:
    """Opening the link only shows the form: link previewers must not use it up.

    A used, expired or unknown link gets the friendly page at once.
    """
    user = links.sign_in_link_user(session, token=token, now=clock.now())
    return render(
        request,
        "login_link.html",
        {"token": token, "needs_password": user.password_hash is None, "name": user.name},
    )


@router.post("/login/link/{token}", dependencies=[CsrfChecked])
def sign_in_with_link(
    request: Request,
    token: str,
    session: SessionDep,
    clock: ClockDep,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Use the link up; someone invited (no password yet) must set one now."""
    now = clock.now()
    holder = links.sign_in_link_user(session, token=token, now=now)
    needs_password = holder.password_hash is None
    error = None
    if needs_password and not password:
        error = "required"
    elif password and len(password) < auth.MIN_PASSWORD_LENGTH:
        error = "short"
    if error is not None:
        return render(
            request,
            "login_link.html",
            {"token": token, "error": error, "needs_password": needs_password, "name": holder.name},
            status_code=422,
        )
    user = links.redeem_sign_in_link(session, token=token, now=now)
    if password:
        auth.set_password(session, user=user, password=password, now=now)
    session_token = auth.start_session(session, user=user, now=now)
    return _signed_in(request, user, session_token, start_page(user))


@router.get("/login/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> Response:
    return render(request, "login_forgot.html", {"email": ""})


@router.post("/login/forgot", dependencies=[CsrfChecked])
def forgot_password(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Ask for a sign-in link. The answer is the same whether or not the address has an
    account; a client (by its IP address) may ask FORGOT_PER_CLIENT times in FORGOT_WINDOW,
    counted in the database, so the limit holds across workers and restarts."""
    now = clock.now()
    email = email.strip()
    if not is_email(email):
        return render(
            request, "login_forgot.html", {"email": email, "error": "email"}, status_code=422
        )
    client = request.client.host if request.client else "unknown"
    if not throttle.allow(
        session,
        scope=FORGOT_CLIENT_SCOPE,
        key=client,
        limit=FORGOT_PER_CLIENT,
        window=FORGOT_WINDOW,
        secret=settings.secret_key.get_secret_value(),
        now=now,
    ):
        return render(
            request, "login_forgot.html", {"email": email, "error": "too_many"}, status_code=429
        )
    user_flows.forgot_password(session, email=email, settings=settings, now=now)
    minutes = int(user_flows.FORGOT_LINK_LIFETIME.total_seconds() // 60)
    return render(request, "login_forgot.html", {"email": email, "sent": True, "minutes": minutes})


FORGOT_PER_CLIENT = 5
FORGOT_WINDOW = timedelta(minutes=15)
FORGOT_CLIENT_SCOPE = "forgot_password_client"


@router.get("/lang/{code}")
def switch_language(
    code: str,
    settings: SettingsDep,
    session: SessionDep,
    user: OptionalWebUser,
    next: str | None = None,
) -> Response:
    """The page language; for a signed-in staff member also the language of their messages."""
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    if code in LANGS and user is not None:
        users.set_locale(session, user_id=user.id, locale=code)
    # Any mediator language: a mediator's page offers theirs (staff pages keep to LANGS).
    if code in locales.MEDIATOR_LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=LANG_COOKIE_SECONDS,
            samesite="lax",
            secure=auth.secure_cookies(settings),
            httponly=True,
            path="/",
        )
    return response


# --- my account: API tokens ------------------------------------------------


def _account_page(
    request: Request,
    session: Session,
    user: User,
    settings: Settings,
    *,
    new_token: str | None = None,
    revoked: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The account page; `new_token` is the plain token just made, shown this once.

    It goes into this page only: not into an address (a redirect would put it in
    the browser's history and the server's log), not into the database. Pages are
    sent with ``Cache-Control: no-store`` (rendering), so it is not kept either.
    """
    account = user_flows.own_account(
        session, user=user, token_limit=settings.max_api_tokens_per_user
    )
    return render(
        request,
        "account.html",
        {"account": account, "new_token": new_token, "revoked": revoked, "error": error},
        status_code=status_code,
        user=user,
    )


@router.get("/account", response_class=HTMLResponse)
def my_account(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    settings: SettingsDep,
    revoked: int | None = None,
) -> HTMLResponse:
    return _account_page(request, session, user, settings, revoked=revoked)


@router.post("/account/tokens", dependencies=[CsrfChecked])
def create_token(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """A new API token, shown once on the answer (no redirect: see `_account_page`)."""
    try:
        token = users.issue_own_token(
            session, user=user, limit=settings.max_api_tokens_per_user, now=clock.now()
        )
    except Conflict as exc:
        return _account_page(
            request, session, user, settings, error=exc.reason, status_code=exc.status_code
        )
    return _account_page(request, session, user, settings, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke_token(
    token_id: IdPath, session: SessionDep, user: StaffPageUser, clock: ClockDep
) -> Response:
    users.revoke_own_token(session, user=user, token_id=token_id, now=clock.now())
    return RedirectResponse(f"/account?revoked={token_id}", status_code=303)
