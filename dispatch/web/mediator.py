"""A mediator's personal page (the link in their confirmations): upcoming jobs, pause, resume.

No account and no password: the link is the key, valid for this one page
and only until it expires. Forms on it carry a CSRF token bound to the link.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import locales
from dispatch.deps import ClockDep, SessionDep, get_settings
from dispatch.offers import flows as offers
from dispatch.offers.views import connection_for
from dispatch.web import links, service
from dispatch.web.auth import CsrfChecked
from dispatch.web.rendering import render

router = APIRouter(prefix="/m", include_in_schema=False)


@router.get("/{token}", response_class=HTMLResponse)
def personal_page(
    request: Request,
    token: str,
    session: SessionDep,
    clock: ClockDep,
    done: Literal["paused", "resumed"] | None = None,
) -> HTMLResponse:
    now = clock.now()
    mediator = links.mediator_for_link(session, token=token, now=now)
    jobs = service.upcoming_jobs(session, mediator_id=mediator.id, now=now)
    t = locales.translator(mediator.message_locale)
    return render(
        request,
        "mediator/page.html",
        {
            "mediator": mediator,
            "jobs": jobs,
            # A phone or video job: whom to call or which link to join (their own jobs only).
            "connections": {row.request.id: connection_for(row.request, t=t) for row in jobs},
            "token": token,
            "done": done,
            "coordinator_phone": get_settings(request).coordinator_phone,
        },
        lang=mediator.message_locale,
    )


def _set_paused(
    request: Request, token: str, session: SessionDep, clock: ClockDep, *, paused: bool
) -> Response:
    now = clock.now()
    mediator = links.mediator_for_link(session, token=token, now=now)
    offers.pause_self(
        session, mediator, paused=paused, now=now, settings=get_settings(request), via="page"
    )
    return RedirectResponse(f"/m/{token}?done={'paused' if paused else 'resumed'}", status_code=303)


@router.post("/{token}/pause", dependencies=[CsrfChecked])
def pause(request: Request, token: str, session: SessionDep, clock: ClockDep) -> Response:
    """No new offers until the mediator resumes, and the open ones are declined; jobs
    already accepted stay."""
    return _set_paused(request, token, session, clock, paused=True)


@router.post("/{token}/resume", dependencies=[CsrfChecked])
def resume(request: Request, token: str, session: SessionDep, clock: ClockDep) -> Response:
    return _set_paused(request, token, session, clock, paused=False)
