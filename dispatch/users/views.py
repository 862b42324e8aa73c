"""The coordinator's staff page: invite a caseworker or coordinator, send a new link, deactivate.

The invitation form is checked by the API's own UserCreate; the email with the
single-use link goes through the outbox like every other message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import SprachpoolError
from dispatch.organisations import service as organisations
from dispatch.users import flows
from dispatch.users.models import Role, User
from dispatch.users.schemas import UserCreate
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
) -> HTMLResponse:
    accounts = flows.public_users(session, flows.list_users(session))
    return render(
        request,
        "staff/staff.html",
        {
            "form": form,
            "accounts": accounts,
            "organisations": organisations.list_organisations(session),
            "roles": list(Role),
            "done": done or {},
        },
        status_code=status_code,
        user=user,
    )


@router.get("", response_class=HTMLResponse)
def staff(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    invited: int | None = None,
    deactivated: int | None = None,
) -> HTMLResponse:
    blank = EntryForm(values={"role": Role.caseworker.value, "locale": "de", "organisation_id": ""})
    done = {"invited": invited, "deactivated": deactivated}
    return _page(request, session, user, blank, done=done)


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
        return _page(request, session, user, form, status_code=422)
    try:
        created = flows.create_user(
            session, data=data, actor=user, settings=settings, now=clock.now()
        )
    except SprachpoolError as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, session, user, form, status_code=exc.status_code)
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


@router.post("/{user_id}/deactivate", dependencies=[CsrfChecked])
def deactivate(
    user_id: IdPath, session: SessionDep, user: CoordinatorPageUser, clock: ClockDep
) -> Response:
    flows.deactivate(session, user_id=user_id, actor=user, now=clock.now())
    return RedirectResponse(f"/dashboard/staff?deactivated={user_id}", status_code=303)
