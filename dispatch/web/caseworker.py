"""The caseworker's pages: the request form and their organisation's requests.

Coordinators may use them too (they see every organisation's requests).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from config import data as config_data
from dispatch.audit import AuditEvent
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.funding.policy import CATEGORY_NAMES
from dispatch.messages import CHANGE_WORDS
from dispatch.offers import flows as offers
from dispatch.places.service import list_places
from dispatch.requests import flows as request_flows
from dispatch.requests import service as requests
from dispatch.requests.models import RequestStatus
from dispatch.series import flows as series_flows
from dispatch.series import service as series_service
from dispatch.series.schemas import MAX_OCCURRENCES, SeriesCancel
from dispatch.users.models import User
from dispatch.validation import MAX_ID
from dispatch.web import forms, service
from dispatch.web.auth import CsrfChecked, StaffPageUser
from dispatch.web.rendering import formatter, render

router = APIRouter(include_in_schema=False)

#: How far back "recent" requests reach in the list.
RECENT = timedelta(days=14)


def _form_page(
    request: Request,
    session: SessionDep,
    user: User,
    form: forms.RequestForm,
    *,
    status_code: int = 200,
    editing: int | None = None,
    duplicate: int | None = None,
) -> HTMLResponse:
    fmt = formatter(request)
    names = {lang.tag: fmt.language(lang.tag) for lang in config_data.languages().values()}
    ordered = sorted(names.items(), key=lambda item: item[1].casefold())
    return render(
        request,
        "caseworker/request_form.html",
        {
            "form": form,
            "languages": [forms.language_option(tag, name) for tag, name in ordered],
            "places": list_places(session),
            "qualifications": config_data.qualifications(),
            "durations": forms.DURATIONS,
            "address": forms.ADDRESS,
            "categories": CATEGORY_NAMES,
            "repeat_weeks": forms.REPEAT_WEEKS,
            "editing": editing,
            "duplicate": duplicate,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/requests/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    copy: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> HTMLResponse:
    """A blank form, or with `copy` the form filled in as that request (a new date to pick)."""
    if copy is None:
        form = forms.RequestForm.blank(today=clock.now().astimezone(settings.tz).date())
    else:
        form = _filled(request, session, user, copy, settings=settings)
    return _form_page(request, session, user, form)


def _filled(
    request: Request, session: Session, user: User, request_id: int, *, settings: SettingsDep
) -> forms.RequestForm:
    """The form as a stored request stands (one the user may see)."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    label = forms.language_option(stored.language, formatter(request).language(stored.language))
    return forms.RequestForm.from_request(stored, tz=settings.tz, language_label=label)


@router.post("/requests/new", dependencies=[CsrfChecked])
async def file_request(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    raw = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    form, data = forms.parse_request_form(raw, tz=settings.tz)
    if data is None:
        return _form_page(request, session, user, form, status_code=422)
    series = forms.series_from(form, data)
    try:
        if series is not None:
            _series, occurrences = series_flows.file_series(
                session, data=series, actor=user, now=clock.now(), settings=settings
            )
            first = occurrences[0].id
            return RedirectResponse(f"/requests/{first}?series_filed=1", status_code=303)
        created, _replayed = request_flows.file_request(
            session, data=data, actor=user, now=clock.now(), settings=settings
        )
    except (InvalidInput, requests.DuplicateRequest) as exc:
        session.rollback()  # nothing of a refused filing stays
        forms.service_error(form, exc)
        duplicate = exc.existing.id if isinstance(exc, requests.DuplicateRequest) else None
        return _form_page(request, session, user, form, status_code=422, duplicate=duplicate)
    return RedirectResponse(f"/requests?filed={created.id}", status_code=303)


@router.get("/requests", response_class=HTMLResponse)
def my_requests(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    show: Literal["upcoming", "past"] = "upcoming",
    filed: Annotated[int | None, Query(ge=1)] = None,
    cancelled: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """Upcoming (and today's) requests, or the past ones, with their live status."""
    now = clock.now()
    midnight = datetime.combine(now.astimezone(settings.tz).date(), time(0), tzinfo=settings.tz)
    if show == "upcoming":
        rows, total = requests.list_requests(session, actor=user, start_from=midnight, limit=300)
    else:
        rows, total = requests.list_requests(
            session, actor=user, start_from=midnight - RECENT, start_to=midnight, limit=300
        )
        rows.reverse()
    return render(
        request,
        "caseworker/requests.html",
        {
            "rows": service.request_rows(session, rows, now=now),
            "total": total,
            "show": show,
            "filed": filed,
            "cancelled": cancelled,
        },
        user=user,
    )


@router.post("/requests/{request_id}/cancel", dependencies=[CsrfChecked])
def cancel(
    request_id: IdPath,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    request_flows.cancel_request(
        session,
        request_id=request_id,
        actor=user,
        reason="cancelled on the web page",
        now=clock.now(),
        settings=settings,
    )
    return RedirectResponse(f"/requests?cancelled={request_id}", status_code=303)


@router.post("/series/{series_id}/cancel", dependencies=[CsrfChecked])
async def cancel_series(
    series_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """ "Cancel all from this date on": every occurrence from the day given, each like a
    single request (its mediator released and told); back to the request page it came from."""
    raw = await request.form()
    try:
        body = SeriesCancel.model_validate(
            {"from": f"{raw.get('from', '')}", "reason": "cancelled on the web page"}
        )
    except ValidationError as exc:
        raise InvalidInput("from: give the day as YYYY-MM-DD.", field="from") from exc
    back = f"{raw.get('back', '')}"
    _series, cancelled = series_flows.cancel_from(
        session,
        series_id=series_id,
        from_day=body.from_day,
        reason=body.reason,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    target = int(back) if back.isdigit() and int(back) <= MAX_ID else None
    page = f"/requests/{target}" if target else "/requests"
    return RedirectResponse(f"{page}?series_cancelled={len(cancelled)}", status_code=303)


def changed_words(fields: list[str]) -> list[str]:
    """What a change touched, as the words' codes a person reads ("time", "place"), once each."""
    found: list[str] = []
    for name in fields:
        word = CHANGE_WORDS.get(name, "details")
        if word not in found:
            found.append(word)
    return found


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    changed: bool = False,
    series_filed: bool = False,
    series_cancelled: Annotated[int | None, Query(ge=0, le=MAX_OCCURRENCES)] = None,
) -> HTMLResponse:
    """One request: its status, offers as a count, the mediator once assigned, its history;
    for an occurrence of a series, the series with every occurrence and how to cancel them."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    now = clock.now()
    row = service.request_rows(session, [stored], now=now)[0]
    series = None
    occurrences: list[tuple[service.RequestRow, bool, datetime | None]] = []
    if stored.series_id is not None:
        series = series_service.get_series(session, series_id=stored.series_id, actor=user)
        for occurrence in service.request_rows(
            session, series_service.occurrences(session, series.id), now=now
        ):
            r = occurrence.request
            held = r.status == RequestStatus.open and not occurrence.offers_asked
            offered_from = offers.first_wave_at(session, r, settings=settings) if held else None
            occurrences.append(
                (
                    occurrence,
                    r.status in requests.CANCELLABLE and now < r.start,
                    offered_from if offered_from and offered_from > now else None,
                )
            )
    history = [
        (event, changed_words((event.details or {}).get("fields", [])))
        for event in session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "request", AuditEvent.entity_id == stored.id)
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        )
    ]
    return render(
        request,
        "caseworker/request.html",
        {
            "row": row,
            "r": stored,
            "history": history,
            "changeable": stored.status in requests.CANCELLABLE and now < stored.start,
            "changed": changed,
            "series": series,
            "occurrences": occurrences,
            "series_filed": series_filed,
            "series_cancelled": series_cancelled,
        },
        user=user,
    )


@router.get("/requests/{request_id}/edit", response_class=HTMLResponse)
def edit_request(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    settings: SettingsDep,
) -> HTMLResponse:
    form = _filled(request, session, user, request_id, settings=settings)
    return _form_page(request, session, user, form, editing=request_id)


@router.post("/requests/{request_id}/edit", dependencies=[CsrfChecked])
async def save_request(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Change the request as the form now says; the mediator is kept and told, or re-offered."""
    requests.get_request(session, request_id=request_id, actor=user)
    raw = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    form, data = forms.parse_request_form(raw, tz=settings.tz)
    if data is None:
        return _form_page(request, session, user, form, status_code=422, editing=request_id)
    try:
        request_flows.change_request(
            session,
            request_id=request_id,
            data=forms.change_from(data),
            actor=user,
            now=clock.now(),
            settings=settings,
        )
    except InvalidInput as exc:
        session.rollback()  # nothing of a refused change stays
        forms.service_error(form, exc)
        return _form_page(request, session, user, form, status_code=422, editing=request_id)
    return RedirectResponse(f"/requests/{request_id}?changed=1", status_code=303)
