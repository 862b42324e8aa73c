"""The caseworker's pages: the request form and their organisation's requests.

Coordinators may use them too (they see every organisation's requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from config import data as config_data
from config.settings import Settings
from dispatch import geocoding
from dispatch.audit import AuditEvent
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep, get_settings
from dispatch.errors import Conflict, InvalidInput
from dispatch.funding.policy import CATEGORY_NAMES, policy_of
from dispatch.jobs import flows as job_flows
from dispatch.jobs import service as job_service
from dispatch.jobs import views as job_views
from dispatch.messages import CHANGE_WORDS
from dispatch.offers import flows as offers
from dispatch.offers import service as offer_service
from dispatch.places.service import list_places
from dispatch.requests import conflicts
from dispatch.requests import flows as request_flows
from dispatch.requests import service as requests
from dispatch.requests.models import Request as RequestRow
from dispatch.requests.models import RequestStatus
from dispatch.requests.schemas import RequestCreate
from dispatch.series import flows as series_flows
from dispatch.series import service as series_service
from dispatch.series.schemas import MAX_OCCURRENCES, SeriesCancel
from dispatch.users.models import Role, User
from dispatch.validation import whole_number
from dispatch.web import forms, maps, questions, service, sure
from dispatch.web.account import safe_next
from dispatch.web.auth import CsrfChecked, StaffPageUser
from dispatch.web.rendering import formatter, render
from locales import N_

router = APIRouter(include_in_schema=False)


@dataclass
class Where:
    """Where an in-person appointment is, as far as the form got: what to show and ask."""

    #: Matches of the typed address; `found` is the one to confirm with one click.
    candidates: list[geocoding.Candidate] = field(default_factory=list)
    found: geocoding.Candidate | None = None
    #: What is wrong, as a message code beside the address (forms.CODE_MESSAGES).
    problem: str | None = None
    #: Show the map open (no geocoder, a problem, or a point just set on it).
    show_map: bool = False
    #: The point was just set by a click: show it and ask to confirm.
    point_set: bool = False
    #: The form goes back to the person (to pick or confirm) instead of being filed.
    ask: bool = False


def locate(raw: dict[str, str], settings: Settings) -> tuple[dict[str, str], Where]:
    """Settle the point of an "other address": a confirmed match, a click on the map, or a
    search with the geocoder whose matches are shown to confirm.

    Returns the form's values with `lat`, `lon` and `located` (the address the
    point was confirmed for) filled in when settled, and what the page shows.
    """
    raw = {**raw, "address": raw.get("address", "").strip()}
    where = Where()
    if raw.get("mode") != "in_person" or raw.get("place") != forms.ADDRESS:
        return raw, where
    chosen = geocoding.parse_choice(raw.get("match", ""))
    if chosen is not None:
        lat, lon, street = chosen
        return {
            **raw,
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            "address": street,
            "located": street,
        }, where
    click = maps.clicked_point(raw, settings)
    if click == "outside":
        return raw, Where(problem="map_outside", show_map=True, ask=True)
    if click is not None:
        lat, lon = click
        located = {"lat": f"{lat}", "lon": f"{lon}", "located": raw["address"]}
        return {**raw, **located}, Where(show_map=True, point_set=True, ask=True)
    if forms.point_confirmed(raw) and raw.get("action") != "search":
        return raw, where
    raw = {**raw, "lat": "", "lon": "", "located": ""}
    if not raw["address"]:
        return raw, where  # the form says the address is missing
    geocoder = geocoding.geocoder_from_settings(settings)
    if geocoder is None:
        return raw, Where(problem="set_point", show_map=True, ask=True)
    try:
        found = geocoding.search_area(geocoder, geocoding.pool_area(settings), raw["address"])
    except geocoding.GeocoderUnavailable:
        return raw, Where(problem="geocoder_unavailable", show_map=True, ask=True)
    verdict = geocoding.verdict(found)
    if verdict == "found":
        return raw, Where(candidates=found, found=next(c for c in found if c.in_area), ask=True)
    problem = {
        "ambiguous": "address_ambiguous",
        "outside": "address_outside_area",
        "none": "address_not_found",
    }[verdict]
    return raw, Where(candidates=found, problem=problem, show_map=verdict != "ambiguous", ask=True)


def _form_page(
    request: Request,
    session: SessionDep,
    user: User,
    form: forms.RequestForm,
    *,
    status_code: int = 200,
    editing: int | None = None,
    duplicate: int | None = None,
    where: Where | None = None,
) -> HTMLResponse:
    settings = get_settings(request)
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
            "funding_sources": policy_of(get_settings(request)).sources,
            "repeat_weeks": forms.REPEAT_WEEKS,
            "editing": editing,
            "duplicate": duplicate,
            "where": where or Where(),
            "geocoder": bool(settings.geocoder_url),
            "map_pictures": maps.MAP_PICTURES,
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


async def _submitted(
    request: Request, settings: Settings
) -> tuple[forms.RequestForm, RequestCreate | None, Where]:
    """The form as sent, its place settled as far as it can be, and the API body when it
    is complete and confirmed (None while something is wrong or to be confirmed)."""
    raw = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    # The geocoder answers over the network (up to its timeout): off the event loop.
    raw, where = await run_in_threadpool(locate, raw, settings)
    form, data = forms.parse_request_form(raw, tz=settings.tz)
    if where.ask:
        form.errors.pop("address", None)
        if where.problem:
            form.errors["address"] = forms.message_for(where.problem)
        data = None
    return form, data, where


@router.post("/requests/new", dependencies=[CsrfChecked])
async def file_request(
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    form, data, where = await _submitted(request, settings)
    if data is None:
        status_code = 422 if form.errors else 200
        return _form_page(request, session, user, form, status_code=status_code, where=where)
    series = forms.series_from(form, data)
    try:
        if series is not None:
            _series, occurrences, _replayed = series_flows.file_series(
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
    show: Literal["upcoming", "past", "all"] = "upcoming",
    filed: Annotated[int | None, Query(ge=1)] = None,
    cancelled: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """Upcoming (and today's) requests, the past ones or all, with their live status; search
    by case reference, filters (status, language, period, caseworker), a page at a time."""
    now = clock.now()
    fmt = formatter(request)
    people = select(User).order_by(col(User.name), col(User.id))
    if user.role != Role.coordinator:
        people = people.where(User.organisation_id == user.organisation_id)
    staff = list(session.exec(people))
    languages = sorted(config_data.languages(), key=lambda tag: fmt.language(tag).casefold())
    filters = forms.parse_list_filters(
        dict(request.query_params.items()),
        statuses=[s.value for s in RequestStatus],
        languages=languages,
        caseworkers={u.id for u in staff},
    )
    midnight = datetime.combine(now.astimezone(settings.tz).date(), time(0), tzinfo=settings.tz)
    start_from = _day_start(filters.first_day, settings)
    start_to = (
        _day_start(filters.last_day + timedelta(days=1), settings) if filters.last_day else None
    )
    if show == "upcoming":
        start_from = max(start_from or midnight, midnight)
    elif show == "past":
        start_to = min(start_to or midnight, midnight)
    rows: list[RequestRow] = []
    total = 0
    if not filters.errors and (start_to is None or start_from is None or start_from < start_to):
        rows, total = requests.list_requests(
            session,
            actor=user,
            status=RequestStatus(filters.status) if filters.status else None,
            language=filters.language,
            start_from=start_from,
            start_to=start_to,
            client_ref=filters.client_ref,
            created_by_user_id=filters.caseworker,
            newest_first=show != "upcoming",
            limit=forms.LIST_PAGE_SIZE,
            offset=(filters.page - 1) * forms.LIST_PAGE_SIZE,
        )
    pages = max(1, -(-total // forms.LIST_PAGE_SIZE))
    return render(
        request,
        "caseworker/requests.html",
        {
            "rows": service.request_rows(session, rows, now=now),
            "total": total,
            "show": show,
            "filters": filters,
            "filtered": any(filters.values[name] for name in forms.LIST_FIELDS if name != "page"),
            "page": filters.page,
            "pages": pages,
            "statuses": [s.value for s in RequestStatus],
            "languages": languages,
            "staff": staff,
            "filed": filed,
            "cancelled": cancelled,
        },
        status_code=422 if filters.errors else 200,
        user=user,
    )


def _day_start(day: date | None, settings: SettingsDep) -> datetime | None:
    """Midnight at the start of `day` in the town's time."""
    return None if day is None else datetime.combine(day, time(0), tzinfo=settings.tz)


@router.post("/requests/{request_id}/cancel", dependencies=[CsrfChecked])
def cancel(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    answer: sure.Sure = None,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Cancel a request, once the person said yes. `next`: the page the form was on (the
    list with its filters, another appointment of the series), where "No" leads back."""
    if not sure.is_sure(answer):
        stored = requests.get_request(session, request_id=request_id, actor=user)  # not another's
        requests.check_cancellable(stored)  # refused now rather than after the yes
        return sure.ask(
            request,
            questions.CANCEL_REQUEST,
            back=safe_next(next, f"/requests/{request_id}"),
            user=user,
            fields={"next": next} if next else None,
            n=request_id,
        )
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
    answer: sure.Sure = None,
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
    target = whole_number(f"{raw.get('back', '')}")
    page = f"/requests/{target}" if target else "/requests"
    if not sure.is_sure(answer):
        series_service.get_series(session, series_id=series_id, actor=user)  # not another's
        return sure.ask(
            request,
            questions.CANCEL_SERIES,
            back=page,
            user=user,
            fields={"from": body.from_day.isoformat(), "back": f"{target or ''}"},
            day=body.from_day,
        )
    _series, cancelled = series_flows.cancel_from(
        session,
        series_id=series_id,
        from_day=body.from_day,
        reason=body.reason,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return RedirectResponse(f"{page}?series_cancelled={len(cancelled)}", status_code=303)


def changed_words(fields: list[str]) -> list[str]:
    """What a change touched, as the words' codes a person reads ("time", "place"), once each."""
    found: list[str] = []
    for name in fields:
        word = CHANGE_WORDS.get(name, "details")
        if word not in found:
            found.append(word)
    return found


#: What the request page confirms after an action on the job (query `done`).
AFTER_THE_JOB = Literal["no_show", "confirmed", "disputed", "not_for_client", "client_erased"]


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    changed: bool = False,
    done: AFTER_THE_JOB | None = None,
    series_filed: bool = False,
    series_cancelled: Annotated[int | None, Query(ge=0, le=MAX_OCCURRENCES)] = None,
) -> HTMLResponse:
    """One request: its status, offers as a count, the mediator once assigned, its history;
    after the job: no-show, feedback on the mediator's report, not again for this client;
    for an occurrence of a series, the series with every occurrence and how to cancel them."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    return _request_page(
        request,
        session,
        user,
        stored,
        now=clock.now(),
        changed=changed,
        done=done,
        series_filed=series_filed,
        series_cancelled=series_cancelled,
    )


def _request_page(
    request: Request,
    session: Session,
    user: User,
    stored: RequestRow,
    *,
    now: datetime,
    changed: bool = False,
    done: str | None = None,
    feedback_error: str | None = None,
    typed_reason: str = "",
    series_filed: bool = False,
    series_cancelled: int | None = None,
) -> HTMLResponse:
    row = service.request_rows(session, [stored], now=now)[0]
    settings = get_settings(request)
    after = after_the_job(session, stored, now=now)
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
            "done": done,
            "after": after,
            "feedback_error": feedback_error,
            "typed_reason": typed_reason,
            "series": series,
            "occurrences": occurrences,
            "series_filed": series_filed,
            "series_cancelled": series_cancelled,
            "categories": CATEGORY_NAMES,
        },
        status_code=422 if feedback_error else 200,
        user=user,
    )


def after_the_job(session: Session, stored: RequestRow, *, now: datetime) -> dict[str, object]:
    """What the caseworker can do once the job has started: record a no-show, confirm or
    dispute the mediator's report (their feedback), mark "not again for this client"."""
    assignment = conflicts.served_by(session, stored)
    started = assignment is not None and now >= stored.start
    report = job_service.report_of(session, assignment.id) if assignment else None
    client_mark = None
    if started and stored.client_ref and assignment is not None:
        marked = conflicts.is_marked(session, request=stored, mediator_id=assignment.mediator_id)
        client_mark = "marked" if marked else "open"
    return {
        "started": started,
        "no_show": assignment.no_show if assignment else False,
        "can_record_no_show": started
        and assignment is not None
        and not assignment.no_show
        and stored.status in (RequestStatus.assigned, RequestStatus.completed),
        "report": report,
        "report_row": job_views.report_row(session, report, stored) if report else None,
        "client_mark": client_mark,
    }


def _after_the_job(request_id: int) -> str:
    """The request page's "After the job" section, where its forms are."""
    return f"/requests/{request_id}#after-the-job"


@router.post("/requests/{request_id}/no-show", dependencies=[CsrfChecked])
def record_no_show(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    answer: sure.Sure = None,
) -> Response:
    """The mediator did not come (the API's flow: audited, deadlines closed, both told)."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    if not sure.is_sure(answer):
        offer_service.no_show_assignment(session, request=stored, now=clock.now())
        return sure.ask(
            request, questions.RECORD_NO_SHOW, back=_after_the_job(request_id), user=user
        )
    job_flows.record_no_show(
        session, request=stored, actor=user, now=clock.now(), settings=settings
    )
    return RedirectResponse(f"/requests/{request_id}?done=no_show#after-the-job", status_code=303)


@router.post("/requests/{request_id}/not-for-client", dependencies=[CsrfChecked])
def not_for_client(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    answer: sure.Sure = None,
) -> Response:
    """Not again for this client: the engine leaves this mediator out for the reference."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    if not sure.is_sure(answer):
        conflicts.markable_or_refused(session, stored, now=clock.now())
        return sure.ask(
            request, questions.NOT_FOR_CLIENT, back=_after_the_job(request_id), user=user
        )
    conflicts.mark_not_for_client(
        session, request=stored, marked_by="caseworker", actor_id=user.id, now=clock.now()
    )
    return RedirectResponse(
        f"/requests/{request_id}?done=not_for_client#after-the-job", status_code=303
    )


@router.post("/requests/{request_id}/erase-client", dependencies=[CsrfChecked])
def erase_client(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    answer: sure.Sure = None,
) -> Response:
    """A client asks to be forgotten (GDPR Art. 17): the request's case reference leaves
    every request of its organisation, their series and e-mails, and its marks go
    (the API's ``POST /api/v1/clients/erase``, from the page where the reference is seen)."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    if stored.client_ref is not None and not sure.is_sure(answer):
        return sure.ask(
            request,
            questions.ERASE_CLIENT,
            back=f"/requests/{request_id}",
            user=user,
            ref=stored.client_ref,
        )
    if stored.client_ref is not None:
        conflicts.forget_client(
            session,
            organisation_id=stored.organisation_id,
            client_ref=stored.client_ref,
            actor_id=user.id,
            now=clock.now(),
        )
    return RedirectResponse(f"/requests/{request_id}?done=client_erased", status_code=303)


@router.post("/requests/{request_id}/feedback", dependencies=[CsrfChecked])
def give_feedback(
    request_id: IdPath,
    request: Request,
    session: SessionDep,
    user: StaffPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    decision: Annotated[Literal["confirm", "dispute"], Form()] = "confirm",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Feedback on the job: confirm the mediator's report, or dispute it saying what is wrong
    (the Einsatzbestätigung of dispatch/jobs; the same as on /confirmations)."""
    stored = requests.get_request(session, request_id=request_id, actor=user)
    now = clock.now()
    assignment = conflicts.served_by(session, stored)
    report = job_service.report_of(session, assignment.id) if assignment else None
    if report is None:
        raise Conflict("The mediator has not reported this job yet.", reason="no_report")
    try:
        job_flows.confirm(
            session,
            report=report,
            organisation_id=stored.organisation_id,
            actor=user,
            decision=decision,
            reason=reason.strip() or None,
            now=now,
            settings=settings,
        )
    except InvalidInput:
        session.rollback()
        return _request_page(
            request,
            session,
            user,
            stored,
            now=now,
            feedback_error=N_("Please say what does not match."),
            typed_reason=reason,
        )
    return RedirectResponse(
        f"/requests/{request_id}?done={report.state}#after-the-job", status_code=303
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
    # The address search first: a unit of work holds SQLite's writer queue from its
    # first statement, and nobody should wait behind a geocoder's answer.
    form, data, where = await _submitted(request, settings)
    requests.get_request(session, request_id=request_id, actor=user)
    if data is None:
        status_code = 422 if form.errors else 200
        return _form_page(
            request, session, user, form, status_code=status_code, editing=request_id, where=where
        )
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
