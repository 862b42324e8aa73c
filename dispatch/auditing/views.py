"""The audit log page: who did what to which record and when, filtered and paged.

The filter is a GET form (a bookmarkable address); what was typed wrongly is
shown beside its field, and the list stays unfiltered by it meanwhile. A
mediator's page and a request's page link here for their history
(``?mediator_id=``, ``?request_id=``). Each action is shown in words.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from config.settings import Settings
from dispatch.auditing import service
from dispatch.auditing.schemas import AuditPage
from dispatch.deps import SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.mediators.models import Mediator
from dispatch.users import flows as users
from dispatch.validation import EARLIEST_DAY, LATEST_DAY, calendar_day, whole_number
from dispatch.web.auth import CoordinatorPageUser
from dispatch.web.rendering import render
from dispatch.web.schema_forms import EntryForm
from locales import N_, Text

router = APIRouter(prefix="/dashboard/audit", include_in_schema=False)

PER_PAGE = 50

#: What the page calls each kind of record, and where the record's own page is.
ENTITIES = {
    "request": (N_("Request"), "/dashboard/requests/{id}"),
    "offer": (N_("Offer"), None),
    "assignment": (N_("Assignment"), None),
    "mediator": (N_("Mediator"), "/dashboard/pool/{id}"),
    "place": (N_("Place"), "/dashboard/places/{id}"),
    "organisation": (N_("Organisation"), "/dashboard/organisations/{id}"),
    "user": (N_("Staff account"), None),
    "job_report": (N_("Job report"), None),
    "series": (N_("Series"), None),
    "allowance_month": (N_("Allowance payment"), None),
}
#: What the page calls each action the service records (a test holds every one to this);
#: an unknown code would be shown as it is.
ACTIONS = {
    "request.create": N_("filed"),
    "request.change": N_("changed"),
    "request.cancel": N_("cancelled"),
    "request.wave": N_("offers sent"),
    "request.unfilled": N_("nobody found"),
    "request.at_risk": N_("flagged at risk"),
    "request.funding_source": N_("charged to another funding source"),
    "request.not_for_client": N_("marked: not again for this client"),
    "request.erase": N_("personal data erased"),
    "client.erase": N_("client reference erased"),
    "offer.accept": N_("accepted"),
    "offer.decline": N_("declined"),
    "assignment.override": N_("assigned by the coordinator"),
    "assignment.cancel": N_("cancelled"),
    "assignment.reconfirm": N_("reconfirmed"),
    "assignment.at_risk": N_("flagged at risk"),
    "assignment.report": N_("hours reported"),
    "assignment.no_show": N_("no-show recorded"),
    "job_report.confirmed": N_("confirmed by the requester"),
    "job_report.disputed": N_("disputed by the requester"),
    "job_report.approved": N_("approved for payment"),
    "job_report.rejected": N_("rejected"),
    "allowances.paid": N_("month marked paid"),
    "series.create": N_("series filed"),
    "series.cancel": N_("series cancelled"),
    "mediator.create": N_("added"),
    "mediator.update": N_("changed"),
    "mediator.pause": N_("paused"),
    "mediator.resume": N_("resumed"),
    "mediator.erase": N_("erased"),
    "place.create": N_("added"),
    "place.update": N_("changed"),
    "place.deactivate": N_("deactivated"),
    "place.activate": N_("activated"),
    "organisation.create": N_("added"),
    "organisation.update": N_("changed"),
    "user.create": N_("account created"),
    "user.invite": N_("invited (sign-in link sent)"),
    "user.deactivate": N_("deactivated"),
    "user.hand_over": N_("open requests handed to a colleague"),
    "user.erase": N_("name and email address erased"),
    "user.forgot_password": N_("asked for a sign-in link"),
    "user.password": N_("password set"),
    "user.lock": N_("locked after wrong passwords"),
    "sign_in_link.issue": N_("sign-in link issued"),
    "sign_in_link.use": N_("signed in with a link"),
    "session.start": N_("signed in"),
    "token.issue": N_("API token issued"),
    "token.revoke": N_("API token revoked"),
}
ACTOR_KINDS = {
    "system": N_("Sprachpool (automatic)"),
    "mediator": N_("the mediator"),
    "link": N_("the requester, by the confirmation link"),
}
#: What the reader is told when the service refuses a filter, by the service's reason.
REFUSED = {
    "period_order": N_("The end of the period must be on or after its start."),
    "unknown_mediator": N_("There is no mediator with id %(id)s."),
    "unknown_request": N_("There is no request with id %(id)s."),
}
#: The filter each refused field stands for, to show the list without it.
REFUSED_FILTER = {"to": "end", "mediator_id": "mediator_id", "request_id": "request_id"}


def _day(form: EntryForm, name: str) -> date | None:
    typed = form.get(name)
    if not typed:
        return None
    day = calendar_day(typed)
    if day is None or not EARLIEST_DAY <= day <= LATEST_DAY:
        form.error(name, Text(N_("Please give a valid date.")))
        return None
    return day


def _id(form: EntryForm, name: str) -> int | None:
    typed = form.get(name)
    if not typed:
        return None
    number = whole_number(typed)
    if not number:
        form.error(name, Text(N_("Please give a record number, e.g. 17.")))
        return None
    return number


def _events(
    session: Session, form: EntryForm, where: service.AuditFilter, *, settings: Settings, page: int
) -> tuple[service.AuditFilter, AuditPage]:
    """The page of events; a filter the service refuses is shown beside its field and
    left out of the list meanwhile."""
    for _ in REFUSED_FILTER:
        try:
            return where, service.events(
                session, where=where, tz=settings.tz, page=page, per_page=PER_PAGE
            )
        except InvalidInput as exc:
            name = exc.field if exc.field in REFUSED_FILTER else "to"
            message = REFUSED.get(exc.reason or "", N_("Please check this filter."))
            form.error(name, Text(message, exc.params))
            where = replace(where, **{REFUSED_FILTER[name]: None})
    return where, service.events(session, where=where, tz=settings.tz, page=page, per_page=PER_PAGE)


@router.get("", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    settings: SettingsDep,
    entity: Annotated[str, Query(max_length=40)] = "",
    entity_id: Annotated[str, Query(max_length=20)] = "",
    actor_id: Annotated[str, Query(max_length=20)] = "",
    mediator_id: Annotated[str, Query(max_length=20)] = "",
    request_id: Annotated[str, Query(max_length=20)] = "",
    start: Annotated[str, Query(alias="from", max_length=20)] = "",
    end: Annotated[str, Query(alias="to", max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    form = EntryForm(
        values={
            "entity": entity.strip(),
            "entity_id": entity_id.strip(),
            "actor_id": actor_id.strip(),
            "mediator_id": mediator_id.strip(),
            "request_id": request_id.strip(),
            "from": start.strip(),
            "to": end.strip(),
        }
    )
    if form.get("entity") and form.get("entity") not in ENTITIES:
        form.error("entity", Text(N_("Please pick a kind of record from the list.")))
    where, found = _events(
        session,
        form,
        service.AuditFilter(
            entity=form.get("entity") if "entity" not in form.errors else None,
            entity_id=_id(form, "entity_id"),
            actor_id=_id(form, "actor_id"),
            start=_day(form, "from"),
            end=_day(form, "to"),
            mediator_id=_id(form, "mediator_id"),
            request_id=_id(form, "request_id"),
        ),
        settings=settings,
        page=page,
    )
    query = urlencode({k: v for k, v in form.values.items() if v and k not in form.errors})
    mediator = session.get(Mediator, where.mediator_id) if where.mediator_id else None
    return render(
        request,
        "staff/audit.html",
        {
            "form": form,
            "found": found,
            "pages": max(1, (found.total + PER_PAGE - 1) // PER_PAGE),
            "query": query,
            "entities": ENTITIES,
            "actions": ACTIONS,
            "actor_kinds": ACTOR_KINDS,
            "staff": users.list_users(session),
            "mediator": mediator,
            "request_id": where.request_id,
        },
        status_code=422 if form.errors else 200,
        user=user,
    )
