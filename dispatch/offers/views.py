"""The mediator's link pages (``/o/{token}``): the offer, the job, the report, the calendar file.

Every page works without JavaScript; answers are plain POST forms followed by
a redirect, so a reload never answers twice. Each page speaks the mediator's language.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import locales
import matching
from dispatch import messages
from dispatch.deps import ClockDep, SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.jobs import flows as job_flows
from dispatch.jobs import forms as job_forms
from dispatch.offers import flows, links, service
from dispatch.offers.links import LinkState, LinkView
from dispatch.offers.service import Outcome
from dispatch.requests import conflicts
from dispatch.requests.models import Mode
from dispatch.web.links import issue_mediator_link
from dispatch.web.rendering import visitor_lang
from locales import N_
from notifications.ics import make_ics

log = logging.getLogger("sprachpool.offers")

pages = APIRouter(tags=["mediator pages"], include_in_schema=False)

#: What the offer page calls the modes (msgids).
MODE_NAMES = {"in_person": N_("in person"), "phone": N_("Phone"), "video": N_("Video")}


@cache
def _templates(locale: str) -> Jinja2Templates:
    """The offer page's template, speaking `locale` (the mediator's language)."""
    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates")
    return Jinja2Templates(env=locales.jinja_environment(locale, loader=loader, autoescape=True))


# --- the mediator's link ----------------------------------------------------------

_EXPIRED = (
    N_("Request expired"),
    N_("This request is no longer open. You do not need to do anything."),
)
_FILLED = (
    N_("Already taken"),
    N_("Someone else accepted first. Thank you for being ready to help!"),
)
_WITHDRAWN = (
    N_("No longer needed"),
    N_("The request was withdrawn. You do not need to do anything."),
)

#: Title, message and tone of the page in each state of the link (msgids, shown in the
#: mediator's language).
PAGE_TEXT: dict[LinkState, tuple[str, str | None, str]] = {
    LinkState.pending: (N_("Can you take this job?"), None, ""),
    LinkState.accepted: (N_("Your job"), N_("Thank you! The job is yours."), "good"),
    LinkState.report: (N_("How did the job go?"), None, ""),
    LinkState.reported: (N_("Thank you!"), N_("Your time is reported."), "good"),
    LinkState.declined: (N_("Declined"), N_("You declined. Thank you for letting us know!"), ""),
    LinkState.expired: (*_EXPIRED, "bad"),
    LinkState.filled: (*_FILLED, "bad"),
    LinkState.withdrawn: (*_WITHDRAWN, "bad"),
    LinkState.cancelled: (
        N_("Job given back"),
        N_("This job is no longer yours. You do not need to do anything."),
        "bad",
    ),
    LinkState.revoked: (
        "Einsatz zurückgenommen",
        "Die Koordination hat Ihnen diesen Einsatz wieder abgenommen. Er ist nicht mehr Ihrer; "
        "Sie müssen nichts tun und nicht hingehen.",
        "bad",
    ),
}
#: HTTP status per page: a link that no longer leads anywhere says so (410).
PAGE_STATUS = {
    LinkState.expired: 410,
    LinkState.filled: 410,
    LinkState.withdrawn: 410,
    LinkState.cancelled: 410,
    LinkState.revoked: 410,
}
OUTCOME_TEXT: dict[Outcome, tuple[int, str, str | None]] = {
    Outcome.filled: (409, *_FILLED),
    Outcome.expired: (410, *_EXPIRED),
    Outcome.withdrawn: (410, *_WITHDRAWN),
    Outcome.already_answered: (
        409,
        N_("Already answered"),
        N_("You have already answered this request."),
    ),
    Outcome.busy: (
        409,
        N_("You already have a job"),
        N_("You already have another job at this time. Please contact the coordinator."),
    ),
    Outcome.over_limit: (
        409,
        N_("Over your limit"),
        N_(
            "With the jobs you already have, this job would take your allowances over your "
            "limit. So you cannot take it; the coordinator can tell you more."
        ),
    ),
    Outcome.revoked: (410, *PAGE_TEXT[LinkState.revoked][:2]),
}
#: A late yes: the offer ran out, but nobody holds the job (msgids).
LATE_PENDING = N_(
    "The time to answer has passed, but nobody has taken this job yet. You can still accept it."
)
LATE_ACCEPTED = N_(
    "Thank you! Your answer came after the offer had run out, but the job was still open: "
    "it is yours."
)
UNKNOWN_LINK = (
    N_("Unknown link"),
    N_(
        "We do not know this link, or it has expired. Please use the link from your latest message."
    ),
)


def _clash_text(view: LinkView, *, t: locales.Translator, tz: Any) -> str | None:
    """Why the mediator cannot take a pending offer: a job they hold overlaps, or is too far,
    or their jobs leave no room under an allowance limit."""
    if view.clash is None:
        return None
    if view.clash.code in ("monthly_limit", "annual_limit"):
        return _limit_text(view.clash, t=t)
    params = view.clash.params
    start = datetime.fromisoformat(str(params["start"])).astimezone(tz)
    end = datetime.fromisoformat(str(params["end"])).astimezone(tz)
    held = {"day": t.date(start.date(), "dd.MM."), "start": t.time(start), "end": t.time(end)}
    minutes = params.get("travel_minutes")
    if minutes:
        return t.ngettext(
            "You already have a job on %(day)s from %(start)s to %(end)s. Getting here from "
            "there takes about %(num)s minute, which is not enough time. So you cannot take "
            "this job as well.",
            "You already have a job on %(day)s from %(start)s to %(end)s. Getting here from "
            "there takes about %(num)s minutes, which is not enough time. So you cannot take "
            "this job as well.",
            math.ceil(float(minutes)),
            **held,
        )
    return t.gettext(
        "You already have a job at this time (%(day)s, %(start)s to %(end)s). So you cannot "
        "take this job as well.",
        **held,
    )


def _limit_text(clash: matching.Exclusion, *, t: locales.Translator) -> str:
    params = clash.params
    job = t.currency(Decimal(int(params["job_cents"])) / 100)
    left = t.currency(Decimal(int(params["left_cents"])) / 100)
    if clash.code == "monthly_limit":
        year, month = (int(part) for part in str(params["month"]).split("-"))
        return t.gettext(
            "This job is expected to pay about %(job)s. With the jobs you already have, it "
            "would take your allowances for %(month)s over your monthly limit (%(left)s left). "
            "So you cannot take it; the coordinator can tell you more.",
            job=job,
            month=t.date(date(year, month, 1), "LLLL y"),
            left=left,
        )
    return t.gettext(
        "This job is expected to pay about %(job)s. With the jobs you already have, it "
        "would take your allowances for %(year)s over the annual limit (%(left)s left). So "
        "you cannot take it; the coordinator can tell you more.",
        job=job,
        year=str(params["year"]),
        left=left,
    )


def _job(
    view: LinkView, *, t: locales.Translator, tz: Any, detailed: bool, session: Any
) -> dict[str, Any]:
    """What the page says about the job, in the mediator's language and the town's time."""
    request = view.request
    place = messages.place_of(session, request)
    start, end = request.start.astimezone(tz), request.end.astimezone(tz)
    in_person = request.mode == Mode.in_person
    map_link = None
    # A typed address's point is as telling as its street: only the mediator who holds
    # the job gets it (a place's point is public anyway).
    point_shown = place is not None or detailed
    if (
        in_person
        and point_shown
        and request.location_lat is not None
        and request.location_lon is not None
    ):
        map_link = (
            f"https://www.openstreetmap.org/?mlat={request.location_lat:.5f}&mlon={request.location_lon:.5f}"
            f"#map=17/{request.location_lat:.5f}/{request.location_lon:.5f}"
        )
    expires = view.offer.expires_at.astimezone(tz)
    job: dict[str, Any] = {
        "language": t.language(request.language),
        "day": t.date(start.date(), "full"),
        "start": t.time(start),
        "end": t.time(end),
        "mode": t.gettext(MODE_NAMES.get(f"{request.mode}", f"{request.mode}")),
        "place": place.name
        if place and in_person
        else (
            " · ".join(
                ([t.gettext("Home visit")] if request.home_visit else [])
                + (
                    []
                    if detailed
                    else [area for area in [messages.area_of(request.address)] if area]
                )
                + ([] if detailed else [t.gettext("Address after accepting")])
            )
            or None
            if in_person
            else None
        ),
        "map": map_link,
        "subject": t.qualification(request.qualification) if request.qualification else None,
        "unknown_to_client": request.unknown_to_client,
        "open_until": t.pgettext(
            "date and time", "%(day)s, %(time)s", day=t.day(expires.date()), time=t.time(expires)
        )
        if view.state == LinkState.pending and not view.late
        else None,
    }
    if detailed:  # only the mediator who holds the job sees where exactly and whom to ask
        job.update(
            address=request.address or (place.address if place else None),
            contact=request.contact_name or (place.contact_hint if place else None),
            contact_phone=request.contact_phone,
            notes=request.notes,
            connection=connection_for(request, t=t),
        )
    return job


def connection_for(request: Any, *, t: locales.Translator) -> dict[str, str] | None:
    """Phone and video: what the mediator who holds the job does to be connected.

    `href` is the link or the number to tap; `text` says who calls whom. The job's
    page and the mediator's own page show it (the assigned mediator only).
    """
    if request.mode == Mode.in_person:
        return None
    value = request.connection
    if request.mode == Mode.video and value:
        return {"text": t.gettext("Video meeting:"), "href": value, "label": value}
    if request.call_direction == "office_calls":
        text = t.gettext("The office calls you.")
        return {"text": text, "href": f"tel:{value}", "label": value} if value else {"text": text}
    if value:
        return {
            "text": t.gettext("Please call the office at the start:"),
            "href": f"tel:{value}",
            "label": value,
        }
    return None


def _page(
    http_request: Request,
    token: str,
    view: LinkView | None,
    *,
    settings: Any,
    session: Any,
    status_code: int | None = None,
    title: str | None = None,
    message: str | None = None,
    tone: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    # The mediator's own language; an unknown link belongs to nobody we know: the browser's.
    t = locales.translator(view.mediator.message_locale if view else visitor_lang(http_request))
    context: dict[str, Any] = {
        "base": f"/o/{token}",
        "coordinator_phone": settings.coordinator_phone,
        "state": None,
        "job": None,
        "lang": t.locale,
        "dir": t.direction,
    }
    if view is None:
        context.update(
            title=t.gettext(title or UNKNOWN_LINK[0]),
            message=t.gettext(message or UNKNOWN_LINK[1]),
            tone="bad",
        )
        return _templates(t.locale).TemplateResponse(
            http_request, "offer.html", context, status_code=status_code or 404, headers=_private()
        )
    default_title, default_message, default_tone = PAGE_TEXT[view.state]
    if view.late:
        default_message = LATE_PENDING if view.state == LinkState.pending else LATE_ACCEPTED
    detailed = view.state in (LinkState.accepted, LinkState.report)
    clash = _clash_text(view, t=t, tz=settings.tz) if status_code is None else None
    if message is not None:
        shown_message: str | None = t.gettext(message)
    else:
        shown_message = clash or (t.gettext(default_message) if default_message else None)
    context.update(
        title=t.gettext(title or default_title),
        message=shown_message,
        tone=tone or ("bad" if clash else default_tone),
        busy=clash is not None,
        remote=view.request.mode != Mode.in_person,
        state=view.state.value if status_code is None or status_code < 400 else None,
        job=_job(view, t=t, tz=settings.tz, detailed=detailed, session=session),
        code=view.offer.short_code,
        reconfirmed=view.assignment is not None and view.assignment.reconfirmed_at is not None,
        report_form=job_forms.ReportForm.blank(
            start=view.request.start, end=view.request.end, tz=settings.tz
        ),
        outcomes=[(o.value, t.gettext(name)) for o, name in job_forms.OUTCOME_NAMES.items()],
        # After the job: "not again for this client" (only when the request names a client).
        client_mark=_client_mark(session, view)
        if view.state in (LinkState.report, LinkState.reported)
        else None,
    )
    context.update(extra or {})
    report_form: job_forms.ReportForm = context["report_form"]
    context["report_errors"] = {k: t.gettext(v) for k, v in report_form.errors.items() if v}
    return _templates(t.locale).TemplateResponse(
        http_request,
        "offer.html",
        context,
        status_code=status_code or PAGE_STATUS.get(view.state, 200),
        headers=_private(),
    )


def _client_mark(session: Any, view: LinkView) -> str | None:
    """ "open" when the mediator may mark the job's client, "marked" once they (or the
    caseworker) did, None when there is nothing to mark (no client reference).

    Called in the report states only, which the link reaches when the job has started.
    """
    if conflicts.markable(session, view.request, now=view.request.start) is None:
        return None
    return (
        "marked"
        if conflicts.is_marked(session, request=view.request, mediator_id=view.mediator.id)
        else "open"
    )


def _private() -> dict[str, str]:
    """The page holds a secret link: never cache it, never send it on as a referrer."""
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }


def _resolve(session: Any, token: str, now: Any, settings: Any = None) -> LinkView | None:
    offer = links.find_offer(session, token, now=now)
    if offer is None:
        return None
    return links.view_link(session, offer, now=now, settings=settings)


def _done(token: str) -> RedirectResponse:
    """Post/redirect/get: a reload of the result never posts again."""
    return RedirectResponse(f"/o/{token}", status_code=303, headers=_private())


@pages.get("/o/{token}", response_class=HTMLResponse)
def offer_page(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    """Show the offer. Opening it accepts nothing: link previewers open links too."""
    now = clock.now()
    view = _resolve(session, token, now, settings)
    if view is None:
        return _page(http_request, token, None, settings=settings, session=session)
    if view.offer.opened_at is None:
        links.mark_opened(session, view.offer, now=now)
    return _page(http_request, token, view, settings=settings, session=session)


def _after(
    http_request: Request, token: str, outcome: Outcome, session: Any, settings: Any, now: Any
) -> Response:
    if outcome in (Outcome.accepted, Outcome.already_yours, Outcome.declined):
        return _done(token)
    # A refused answer wrote nothing (a lost race was rolled back by the service);
    # read the offer afresh to show why.
    session.expire_all()
    view = _resolve(session, token, now)
    status_code, title, message = OUTCOME_TEXT[outcome]
    return _page(
        http_request,
        token,
        view,
        settings=settings,
        session=session,
        status_code=status_code,
        title=title,
        message=message,
        tone="bad",
    )


@pages.post("/o/{token}/accept")
def accept(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    now = clock.now()
    offer = links.find_offer(session, token, now=now)
    if offer is None:
        return _page(http_request, token, None, settings=settings, session=session)
    outcome = flows.accept_offer(session, offer, now=now, settings=settings)
    return _after(http_request, token, outcome, session, settings, now)


@pages.post("/o/{token}/decline")
def decline(
    token: str,
    http_request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    reason: Annotated[str | None, Form(max_length=300)] = None,
) -> Response:
    now = clock.now()
    offer = links.find_offer(session, token, now=now)
    if offer is None:
        return _page(http_request, token, None, settings=settings, session=session)
    outcome = flows.decline_offer(session, offer, now=now, settings=settings, reason=_clean(reason))
    return _after(http_request, token, outcome, session, settings, now)


def _clean(text: str | None) -> str | None:
    """Free text from a form: printable characters only, trimmed."""
    if text is None:
        return None
    kept = "".join(ch for ch in text if ch.isprintable()).strip()
    return kept[:300] or None


def _require(
    http_request: Request, token: str, session: Any, now: Any, settings: Any, *states: LinkState
) -> LinkView | Response:
    view = _resolve(session, token, now)
    if view is None:
        return _page(http_request, token, None, settings=settings, session=session)
    if view.state not in states:
        return _page(
            http_request,
            token,
            view,
            settings=settings,
            session=session,
            status_code=PAGE_STATUS.get(view.state, 409),
        )
    return view


@pages.post("/o/{token}/confirm")
def confirm(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    now = clock.now()
    view = _require(http_request, token, session, now, settings, LinkState.accepted)
    if isinstance(view, Response):
        return view
    service.reconfirm(session, view.offer, now=now)
    return _done(token)


@pages.post("/o/{token}/cancel")
def give_back(
    token: str,
    http_request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    reason: Annotated[str | None, Form(max_length=300)] = None,
    sure: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """The mediator cannot come after all: the request is offered again at once.

    Asked once more first (`sure`): the button sits under the one that confirms,
    a slip of the thumb would hand the job to others, and it cannot be undone.
    """
    now = clock.now()
    view = _require(http_request, token, session, now, settings, LinkState.accepted)
    if isinstance(view, Response):
        return view
    if sure != "yes" and now < view.request.start:
        return _page(
            http_request,
            token,
            view,
            settings=settings,
            session=session,
            status_code=200,
            title=N_("Give the job back?"),
            message=N_(
                "It is offered to others at once, and you cannot take it back. Are you sure?"
            ),
            tone="bad",
            extra={"asking_give_back": True, "give_back_reason": _clean(reason) or ""},
        )
    if now >= view.request.start:
        return _page(
            http_request,
            token,
            view,
            settings=settings,
            session=session,
            status_code=409,
            title=N_("The job has started"),
            message=N_("Please call the coordinator."),
            tone="bad",
        )
    assert view.assignment is not None  # an accepted link has its assignment
    flows.cancel_assignment(
        session,
        assignment_id=view.assignment.id,
        now=now,
        settings=settings,
        by_mediator=True,
        reason=_clean(reason),
    )
    return _done(token)


@pages.post("/o/{token}/report")
async def report(
    token: str,
    http_request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """The Einsatzbestätigung: actual times, waiting, travel and outcome, then the requester
    is asked to confirm. A refused form keeps what was typed, with each error beside its field."""
    now = clock.now()
    view = _require(http_request, token, session, now, settings, LinkState.report)
    if isinstance(view, Response):
        return view
    assert view.assignment is not None  # a link in the report state has its assignment
    raw = {k: v for k, v in (await http_request.form()).items() if isinstance(v, str)}
    day = view.request.start.astimezone(settings.tz).date()
    form, data = job_forms.parse_report_form(raw, day=day, tz=settings.tz)
    if data is not None:
        try:
            job_flows.report_job(
                session,
                assignment=view.assignment,
                request=view.request,
                data=data,
                now=now,
                settings=settings,
                actor_kind="mediator",
                actor_id=view.assignment.mediator_id,
            )
        except InvalidInput as exc:
            session.rollback()
            form.place(exc.field or "actual_end", exc.reason)
        else:
            return _done(token)
    return _page(
        http_request,
        token,
        view,
        settings=settings,
        session=session,
        status_code=422,
        title=N_("Please check"),
        message=N_("Some entries are missing or do not fit."),
        tone="bad",
        extra={"state": "report", "report_form": form},
    )


@pages.post("/o/{token}/not-for-client")
def not_for_client(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """After the job the mediator says they must not serve this client again (they know the
    family, ...): the engine leaves them out of the client's later requests."""
    now = clock.now()
    view = _require(
        http_request, token, session, now, settings, LinkState.report, LinkState.reported
    )
    if isinstance(view, Response):
        return view
    try:
        conflicts.mark_not_for_client(
            session, request=view.request, marked_by="mediator", actor_id=view.mediator.id, now=now
        )
    except conflicts.NotAfterTheJob:
        return _page(
            http_request,
            token,
            view,
            settings=settings,
            session=session,
            status_code=409,
            title=N_("Please check"),
            message=N_("Please call the coordinator."),
            tone="bad",
        )
    return _done(token)


@pages.post("/o/{token}/mine")
def my_page(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """From a job's link to the mediator's own page (upcoming jobs, pause), by a new link."""
    now = clock.now()
    view = _require(
        http_request,
        token,
        session,
        now,
        settings,
        LinkState.accepted,
        LinkState.report,
        LinkState.reported,
    )
    if isinstance(view, Response):
        return view
    path = issue_mediator_link(session, mediator_id=view.mediator.id, now=now)
    return RedirectResponse(path, status_code=303, headers=_private())


@pages.get("/o/{token}/calendar.ics")
def calendar(
    token: str, http_request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    now = clock.now()
    view = _require(http_request, token, session, now, settings, LinkState.accepted)
    if isinstance(view, Response):
        return view
    assert view.assignment is not None  # an accepted link has its assignment
    request = view.request
    t = locales.translator(view.mediator.message_locale)
    place = messages.place_of(session, request)
    where = ", ".join(
        p
        for p in [
            place.name if place else None,
            request.address or (place.address if place else None),
        ]
        if p
    ) or (t.gettext(MODE_NAMES[f"{request.mode}"]) if request.mode != Mode.in_person else "")
    # Phone and video: whom to call or which link to join, in the event itself; a
    # video link as its location too, where calendars offer to open it.
    connection = connection_for(request, t=t)
    if request.mode == Mode.video and request.connection:
        where = request.connection
    how = f"{connection['text']} {connection.get('label', '')}".strip() if connection else ""
    data = make_ics(
        uid=f"assignment-{view.assignment.id}@sprachpool",
        start=request.start,
        end=request.end,
        summary=t.gettext(
            "Language mediation: %(language)s", language=t.language(request.language)
        ),
        location=where,
        description="\n\n".join(text for text in (how, request.notes) if text),
        url=f"{settings.public_base_url.rstrip('/')}/o/{token}",
        dtstamp=now,
    )
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={
            **_private(),
            "Content-Disposition": 'attachment; filename="sprachpool-einsatz.ics"',
        },
    )
