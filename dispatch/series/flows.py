"""Filing and cancelling a series, with everything that follows, for the API and the pages alike.

Each occurrence is a request of its own, filed by the same intake as a single
one (``requests.flows``' steps): the times, the funding policy (category and
notice: with weeks between occurrences, only the first can fall within the
notice, and the urgency reason given is kept on every occurrence as typed),
the place and the duplicate check (against other requests; the series' own
occurrences never count as each other's duplicates). The series and every
occurrence are written in the caller's one unit of work: a series is filed
whole or not at all.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch import idempotency, messages
from dispatch.funding import policy as funding_policy
from dispatch.geocoding import check_within_reach
from dispatch.mediators.models import Mediator
from dispatch.offers import flows as offers
from dispatch.offers import service as offer_service
from dispatch.offers.models import Assignment
from dispatch.requests import flows as request_flows
from dispatch.requests import service as requests
from dispatch.requests.models import Request
from dispatch.requests.schemas import RequestCreate
from dispatch.series import service
from dispatch.series.models import Series
from dispatch.series.schemas import SeriesCreate
from dispatch.users.models import User
from dispatch.validation import real_time_after


def file_series(
    session: Session,
    *,
    data: SeriesCreate,
    actor: User,
    now: datetime,
    settings: Settings,
    idempotency_key: str | None = None,
) -> tuple[Series, list[Request], bool]:
    """Store the series and every occurrence; the first is offered at once, the later ones
    when their lead time comes (``offers.dispatch_or_hold``).

    Returns the series, the occurrences filed now and whether it was a replay:
    a retry with the same `idempotency_key` (and body) returns the series filed
    first and files nothing, so a lost answer never doubles 26 requests.
    """
    if idempotency_key is not None:
        earlier = service.replay(
            session, actor=actor, key=idempotency_key, fingerprint=idempotency.fingerprint(data)
        )
        if earlier is not None:
            return earlier, [], True
    if data.location is not None:
        check_within_reach(
            data.location.lat, data.location.lon, settings=settings, field="location"
        )
    starts = service.plan(data, tz=settings.tz, now=now)
    organisation_id = requests.organisation_for(session, actor, data.organisation_id)
    series, replayed = service.create_series(
        session,
        data=data,
        organisation_id=organisation_id,
        actor=actor,
        now=now,
        idempotency_key=idempotency_key,
    )
    if replayed:
        return series, [], True
    duration = data.end - data.start
    body = data.model_dump(exclude={"interval_weeks", "until", "start", "end"})
    funding = funding_policy.policy_of(settings)
    filed: list[Request] = []
    for number, start in enumerate(starts):
        end = real_time_after(start, duration, settings.tz)
        occurrence = RequestCreate.model_validate({**body, "start": start, "end": end})
        request, _replayed = requests.create_request(
            session,
            data=occurrence,
            actor=actor,
            now=now,
            funding=funding,
            tz=settings.tz,
            series_id=series.id,
        )
        filed.append(request)
        if number == 0:
            offers.dispatch_new_request(session, request, now=now, settings=settings)
        else:
            offers.dispatch_or_hold(session, request, now=now, settings=settings)
    return series, filed, False


def cancel_from(
    session: Session,
    *,
    series_id: int,
    from_day: date,
    reason: str | None,
    actor: User,
    now: datetime,
    settings: Settings,
) -> tuple[Series, list[int]]:
    """Cancel every occurrence on `from_day` or later that can still be cancelled.

    Each is cancelled like a single request (``requests.flows.cancel_request``):
    its offers are withdrawn and its mediator released. Occurrences that are
    over, or were cancelled before, stay as they are. Whoever is affected hears
    it once, with every date (`tell_series_cancelled`).
    """
    series = service.get_series(session, series_id=series_id, actor=actor)
    cancelled: list[Request] = []
    released: list[tuple[Request, Assignment]] = []
    for request in service.occurrences(session, series.id):
        if request.start.astimezone(settings.tz).date() < from_day:
            continue
        if request.status not in requests.CANCELLABLE or request.start <= now:
            continue
        held = offer_service.live_assignment(session, request.id)
        request_flows.cancel_request(
            session,
            request_id=request.id,
            actor=actor,
            reason=reason,
            now=now,
            settings=settings,
            tell=False,
        )
        cancelled.append(request)
        if held is not None:
            released.append((request, held))
    tell_series_cancelled(
        session, cancelled=cancelled, released=released, actor=actor, now=now, settings=settings
    )
    service.mark_cancelled_from(
        session,
        series=series,
        from_day=from_day,
        reason=reason,
        cancelled=[request.id for request in cancelled],
        actor=actor,
        now=now,
    )
    return series, [request.id for request in cancelled]


def tell_series_cancelled(
    session: Session,
    *,
    cancelled: list[Request],
    released: list[tuple[Request, Assignment]],
    actor: User,
    now: datetime,
    settings: Settings,
) -> None:
    """One message per person, however many dates: each mediator for the jobs they held,
    the caseworker (when someone else cancelled) for every occurrence.

    One date alone is told as a single request's cancellation would be.
    """
    by_mediator: dict[int, list[tuple[Request, Assignment]]] = {}
    for request, assignment in released:
        by_mediator.setdefault(assignment.mediator_id, []).append((request, assignment))
    for mediator_id, jobs in by_mediator.items():
        mediator = session.get(Mediator, mediator_id)
        if mediator is None:
            continue
        if len(jobs) == 1:
            request, assignment = jobs[0]
            messages.cancelled_mediator(
                session, mediator=mediator, request=request, assignment=assignment, now=now
            )
        else:
            messages.series_cancelled_mediator(session, mediator=mediator, jobs=jobs, now=now)
    if not cancelled or actor.id == cancelled[0].created_by_user_id:
        return
    if len(cancelled) == 1:
        messages.request_cancelled_caseworker(session, settings, request=cancelled[0], now=now)
    else:
        messages.series_cancelled_caseworker(session, settings, requests=cancelled, now=now)
