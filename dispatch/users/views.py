"""The coordinator's staff page: invite a caseworker or coordinator, send a new link, deactivate,
hand a caseworker's open requests to a colleague.

The invitation form is checked by the API's own UserCreate; the email with the
single-use link goes through the outbox like every other message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput, SprachpoolError
from dispatch.organisations import service as organisations
from dispatch.users import flows
from dispatch.users.models import Role, User
from dispatch.users.schemas import UserCreate, UserPublic
from dispatch.validation import MAX_ID
from dispatch.web import questions, sure
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import render
from dispatch.web.schema_forms import EntryForm, domain_error, validate
from locales import N_

router = APIRouter(prefix="/dashboard/staff", include_in_schema=False)

FIELDS = ("name", "email", "role", "organisation_id", "locale")
FIELD_MESSAGES = {
    "name": N_("Please give the person's name."),
    "email": N_("Please give a valid email address, e.g. name@beckum.de."),
    "role": N_("Please choose: caseworker or coordinator."),
    "organisation_id": N_("Please pick the organisation from the list."),
    "locale": N_("Please pick a language from the list."),
}


def _page(
    request: Request,
    session: Session,
    user: User,
    form: EntryForm,
    *,
    status_code: int = 200,
    done: dict[str, Any] | None = None,
    now: datetime,
) -> HTMLResponse:
    users = flows.list_users(session)
    accounts = flows.public_users(session, users)
    work = flows.open_work(
        session, user_ids=[a.id for a in accounts if a.role == Role.caseworker], now=now
    )
    return render(
        request,
        "staff/staff.html",
        {
            "form": form,
            "accounts": accounts,
            "work": work,
            # Whose automatic erasure waits for open work nobody took over (users/scheduled.py).
            "erasure_waits": {u.id for u in users if u.erasure_waiting_since is not None},
            "successors": {a.id: _successors(accounts, a) for a in accounts if work.get(a.id)},
            "organisations": organisations.list_organisations(session),
            "roles": list(Role),
            "done": done or {},
        },
        status_code=status_code,
        user=user,
    )


def _successors(accounts: list[UserPublic], leaver: UserPublic) -> list[UserPublic]:
    """The colleagues who could take over `leaver`'s work (``flows.colleagues``' rule)."""
    return [
        a
        for a in accounts
        if a.organisation_id == leaver.organisation_id
        and a.role == Role.caseworker
        and a.active
        and a.id != leaver.id
    ]


@router.get("", response_class=HTMLResponse)
def staff(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    invited: int | None = None,
    deactivated: int | None = None,
    handed: int | None = None,
    erased: int | None = None,
) -> HTMLResponse:
    blank = EntryForm(values={"role": Role.caseworker.value, "locale": "de", "organisation_id": ""})
    done = {"invited": invited, "deactivated": deactivated, "handed": handed, "erased": erased}
    return _page(request, session, user, blank, done=done, now=clock.now())


@router.post("", dependencies=[CsrfChecked])
async def invite_new(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    raw = await request.form()
    form = EntryForm(values={name: str(raw.get(name, "")).strip() for name in FIELDS})
    body = {
        "name": form.get("name"),
        "email": form.get("email"),
        "role": form.get("role"),
        "organisation_id": form.get("organisation_id") or None,
        "locale": form.get("locale") or "de",
    }
    data = validate(form, UserCreate, body, field_messages=FIELD_MESSAGES)
    if data is None:
        return _page(request, session, user, form, status_code=422, now=clock.now())
    try:
        created = flows.create_user(
            session, data=data, actor=user, settings=settings, now=clock.now()
        )
    except SprachpoolError as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, session, user, form, status_code=exc.status_code, now=clock.now())
    return RedirectResponse(f"/dashboard/staff?invited={created.id}", status_code=303)


@router.post("/{user_id}/invite", dependencies=[CsrfChecked])
def send_new_link(
    user_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    flows.invite(session, user_id=user_id, actor=user, settings=settings, now=clock.now())
    return RedirectResponse(f"/dashboard/staff?invited={user_id}", status_code=303)


#: A colleague chosen from the page's list: an id, or empty for nobody yet.
Colleague = Annotated[str, Form(max_length=12, pattern=r"^\d*$")]


@router.post("/{user_id}/deactivate", dependencies=[CsrfChecked])
def deactivate(
    user_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    hand_to: Colleague = "",
) -> Response:
    """With `hand_to`, the colleague takes over the open requests at once; without, the
    coordination gets their news until someone does (the page offers it afterwards)."""
    flows.deactivate(
        session,
        user_id=user_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        hand_to=_colleague_id(hand_to, field="hand_to"),
    )
    return RedirectResponse(f"/dashboard/staff?deactivated={user_id}", status_code=303)


@router.post("/{user_id}/hand-over", dependencies=[CsrfChecked])
def hand_over(
    user_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    to_user_id: Colleague,
) -> Response:
    """A caseworker's open requests go to the colleague picked from the list."""
    flows.hand_over(
        session,
        user_id=user_id,
        to_user_id=_colleague_id(to_user_id, field="to_user_id") or 0,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return RedirectResponse(f"/dashboard/staff?handed={user_id}", status_code=303)


def _colleague_id(value: str, *, field: str) -> int | None:
    """The picked colleague's id (empty: nobody yet); a number no record can have is
    refused like any other id that is not a colleague."""
    if not value:
        return None
    if int(value) > MAX_ID:
        raise InvalidInput(
            "Work can only be handed to an active caseworker of the same organisation.",
            field=field,
            reason="not_a_colleague",
        )
    return int(value)


@router.post("/{user_id}/erase", dependencies=[CsrfChecked])
def erase(
    user_id: IdPath,
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    answer: sure.Sure = None,
) -> Response:
    """A deactivated account whose work is handed over loses its name and address."""
    if not sure.is_sure(answer):
        leaver = flows.get_user(session, user_id=user_id)
        if leaver.erased_at is None:  # refused now rather than after the yes
            flows.check_erasable(session, user=leaver, actor=user, now=clock.now())
        return sure.ask(
            request, questions.ERASE_STAFF, back="/dashboard/staff", user=user, name=leaver.name
        )
    flows.erase(session, user_id=user_id, actor=user, now=clock.now())
    return RedirectResponse(f"/dashboard/staff?erased={user_id}", status_code=303)
