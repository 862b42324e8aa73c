"""The coordinator's pages for organisations: list, add, edit kind, mediator lists, policy.

An organisation's preferred mediators are offered its jobs first, its excluded
ones never; its policy values replace the pool's (config/policy.toml) for its
requests. Every mediator of the pool is one row with three choices, so the lists
are edited without JavaScript.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, or_, select

from config import data as config_data
from dispatch.deps import ClockDep, IdPath, SessionDep
from dispatch.errors import SprachpoolError
from dispatch.mediators.models import Mediator
from dispatch.organisations import service
from dispatch.organisations.schemas import OrganisationCreate, OrganisationUpdate
from dispatch.users.models import Organisation, OrganisationKind, User
from dispatch.validation import whole_number
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import render
from dispatch.web.schema_forms import EntryForm, domain_error, optional_number, validate
from locales import N_

router = APIRouter(prefix="/dashboard/organisations", include_in_schema=False)

#: The policy values a coordinator can set per organisation on the page.
POLICY_FIELDS = (
    "latest_offer_before_start_minutes",
    "broadcast_offer_minutes",
    "reconfirm_deadline_hours",
)
FIELD_MESSAGES = {
    "name": N_("Please give the organisation's name, e.g. Jobcenter Kreis Warendorf."),
    "kind": N_("Please choose: public body or non-profit."),
}
TO_FIELD = {f"policy.{name}": name for name in POLICY_FIELDS} | {
    "preferred_mediator_ids": "lists",
    "excluded_mediator_ids": "lists",
}
LIST_CHOICES = ("", service.PREFERRED, service.EXCLUDED)


def _pool(session: Session, on_lists: set[int]) -> list[Mediator]:
    """Mediators one can put on a list: everyone active, and whoever is on one already."""
    return list(
        session.exec(
            select(Mediator)
            .where(
                col(Mediator.erased_at).is_(None),
                or_(col(Mediator.active).is_(True), col(Mediator.id).in_(on_lists or {0})),
            )
            .order_by(col(Mediator.name), col(Mediator.id))
        )
    )


def _form_of(session: Session, organisation: Organisation) -> EntryForm:
    lists = service.mediator_lists(session, organisation_id=organisation.id)
    values = {"name": organisation.name, "kind": str(organisation.kind)}
    for name in POLICY_FIELDS:
        value = (organisation.policy or {}).get(name)
        values[name] = "" if value is None else str(value)
    for kind, ids in lists.items():
        for mediator_id in ids:
            values[f"list-{mediator_id}"] = kind
    return EntryForm(values=values)


def _page(
    request: Request,
    session: Session,
    user: User,
    form: EntryForm,
    *,
    organisation: Organisation | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    on_lists = {
        int(name.removeprefix("list-"))
        for name, value in form.values.items()
        if name.startswith("list-") and value
    }
    return render(
        request,
        "staff/organisation_form.html",
        {
            "form": form,
            "organisation": organisation,
            "kinds": list(OrganisationKind),
            "mediators": _pool(session, on_lists),
            "defaults": config_data.default_policy(),
            "policy_fields": POLICY_FIELDS,
        },
        status_code=status_code,
        user=user,
    )


async def _typed(request: Request) -> EntryForm:
    raw = await request.form()
    values = {
        name: str(value).strip()
        for name, value in raw.items()
        if name in ("name", "kind", *POLICY_FIELDS)
        or (name.startswith("list-") and whole_number(name[5:]) is not None)
    }
    return EntryForm(values=values)


def _body(form: EntryForm) -> dict[str, Any]:
    policy = {name: optional_number(form.get(name)) for name in POLICY_FIELDS}
    lists: dict[str, list[int]] = {service.PREFERRED: [], service.EXCLUDED: []}
    for name, value in form.values.items():
        if name.startswith("list-") and value in lists:
            lists[value].append(int(name.removeprefix("list-")))
    return {
        "name": form.get("name"),
        "kind": form.get("kind") or OrganisationKind.public.value,
        "policy": {k: v for k, v in policy.items() if v is not None} or None,
        "preferred_mediator_ids": lists[service.PREFERRED],
        "excluded_mediator_ids": lists[service.EXCLUDED],
    }


@router.get("", response_class=HTMLResponse)
def organisations(
    request: Request, session: SessionDep, user: CoordinatorPageUser, saved: int | None = None
) -> HTMLResponse:
    return render(
        request,
        "staff/organisations.html",
        {"organisations": service.public_all(session), "saved": saved},
        user=user,
    )


@router.get("/new", response_class=HTMLResponse)
def new_organisation(
    request: Request, session: SessionDep, user: CoordinatorPageUser
) -> HTMLResponse:
    return _page(request, session, user, EntryForm(values={"kind": "public"}))


@router.post("/new", dependencies=[CsrfChecked])
async def add_organisation(
    request: Request, session: SessionDep, user: CoordinatorPageUser, clock: ClockDep
) -> Response:
    form = await _typed(request)
    data = validate(
        form, OrganisationCreate, _body(form), field_messages=FIELD_MESSAGES, to_field=TO_FIELD
    )
    if data is None:
        return _page(request, session, user, form, status_code=422)
    try:
        created = service.create_organisation(session, data=data, actor=user, now=clock.now())
    except SprachpoolError as exc:
        session.rollback()
        domain_error(form, exc, to_field=TO_FIELD)
        return _page(request, session, user, form, status_code=exc.status_code)
    return RedirectResponse(f"/dashboard/organisations?saved={created.id}", status_code=303)


@router.get("/{organisation_id}", response_class=HTMLResponse)
def edit_organisation(
    request: Request, organisation_id: IdPath, session: SessionDep, user: CoordinatorPageUser
) -> HTMLResponse:
    found = service.get_organisation(session, organisation_id=organisation_id)
    return _page(request, session, user, _form_of(session, found), organisation=found)


@router.post("/{organisation_id}", dependencies=[CsrfChecked])
async def save_organisation(
    request: Request,
    organisation_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
) -> Response:
    found = service.get_organisation(session, organisation_id=organisation_id)
    form = await _typed(request)
    data = validate(
        form, OrganisationUpdate, _body(form), field_messages=FIELD_MESSAGES, to_field=TO_FIELD
    )
    if data is None:
        return _page(request, session, user, form, organisation=found, status_code=422)
    try:
        service.update_organisation(
            session, organisation_id=organisation_id, data=data, actor=user, now=clock.now()
        )
    except SprachpoolError as exc:
        session.rollback()
        domain_error(form, exc, to_field=TO_FIELD)
        found = service.get_organisation(session, organisation_id=organisation_id)
        return _page(request, session, user, form, organisation=found, status_code=exc.status_code)
    return RedirectResponse(f"/dashboard/organisations?saved={organisation_id}", status_code=303)
