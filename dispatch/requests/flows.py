"""Filing and cancelling a request, with everything that follows, for the API and the pages alike.

Both the JSON routes and the caseworker's web pages call these, so a request
filed or cancelled either way has the same effects in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from config.settings import Settings
from dispatch import messages
from dispatch.deadlines import service as deadlines
from dispatch.funding import policy as funding_policy
from dispatch.geocoding import check_within_reach
from dispatch.offers import flows as offers
from dispatch.offers import service as offer_service
from dispatch.requests import service
from dispatch.requests.models import Mode, Request, RequestDeadlineKind, RequestStatus
from dispatch.requests.schemas import RequestChange, RequestCreate
from dispatch.storage import keep, rows_later
from dispatch.users.models import User


def file_request(
    session: Session,
    *,
    data: RequestCreate,
    actor: User,
    now: datetime,
    settings: Settings,
    idempotency_key: str | None = None,
) -> tuple[Request, bool]:
    """Store the request and send its first wave; returns (request, replayed).

    An in-person request with a typed address and no point is geocoded first
    (``service.locate_address``): the point and the street as the geocoder
    spells it are stored, or the address is refused with what to do instead.

    The first wave goes out in the same transaction: a request is never
    stored without its offers (or its "unfilled" verdict). A replay of an
    idempotent create returns the stored request and sends nothing.
    """
    if data.mode == Mode.in_person and data.address and not data.place_id and not data.location:
        location, street = service.locate_address(address=data.address, settings=settings)
        data = data.model_copy(update={"location": location, "address": street})
    if data.location is not None:
        check_within_reach(
            data.location.lat, data.location.lon, settings=settings, field="location"
        )
    # Its audit events and deadlines go in together at the end (one statement each).
    with rows_later(session):
        request, replayed = service.create_request(
            session,
            data=data,
            actor=actor,
            now=now,
            idempotency_key=idempotency_key,
            funding=funding_policy.policy_of(settings),
            tz=settings.tz,
        )
        if not replayed:
            # The caseworker's messages about the wave are addressed from this row.
            keep(session, actor)
            # A new request has no deadline yet: added without asking (deadlines.schedule would).
            deadlines.add(
                session,
                kind=RequestDeadlineKind.erase_data,
                subject_id=request.id,
                due_at=request.end + timedelta(days=settings.request_data_days),
                now=now,
            )
            offers.dispatch_new_request(session, request, now=now, settings=settings)
    return request, replayed


def cancel_request(
    session: Session,
    *,
    request_id: int,
    actor: User,
    reason: str | None,
    now: datetime,
    settings: Settings,
    tell: bool = True,
) -> Request:
    """Cancel the request: its offers are withdrawn, its mediator (if any) released and told.

    `tell` False: the caller tells the mediator and the caseworker (a series, in one
    message for all its dates; see ``offers.withdraw_cancelled_request``).
    """
    request = service.cancel_request(
        session, request_id=request_id, actor=actor, reason=reason, now=now
    )
    offers.withdraw_cancelled_request(
        session, request, actor=actor, now=now, settings=settings, tell=tell
    )
    return request


def change_request(
    session: Session,
    *,
    request_id: int,
    data: RequestChange,
    actor: User,
    now: datetime,
    settings: Settings,
) -> tuple[Request, str]:
    """Change the request; its mediator is kept and told, or released and the job re-offered.

    Returns the request and what happened to its dispatch ("kept",
    "released", "dispatched again", "held": an occurrence of a series not
    offered yet waits for its lead time at the new time, "unchanged").
    """
    # The address search before the first statement: a unit of work holds SQLite's
    # writer queue from then on, and nobody should wait behind a geocoder's answer.
    sent = data.model_dump(exclude_unset=True)
    if sent.get("address") and "location" not in sent and "place_id" not in sent:
        location, street = service.locate_address(address=sent["address"], settings=settings)
        data = RequestChange.model_validate(
            {**sent, "location": location.model_dump(), "address": street}
        )
    if data.location is not None:
        check_within_reach(
            data.location.lat, data.location.lon, settings=settings, field="location"
        )
    service.get_request(session, request_id=request_id, actor=actor)
    request = offer_service.lock_request(session, request_id)
    before_start, before_end = request.start, request.end
    changed = service.change_request(
        session,
        request=request,
        data=data,
        actor=actor,
        now=now,
        funding=funding_policy.policy_of(settings),
        tz=settings.tz,
    )
    if not changed:
        return request, "unchanged"
    if not changed.keys() - service.OFFICE_ONLY:
        # The category or the urgency reason: nothing for a mediator; the office hears of
        # someone else's change (the category says which budget pays).
        _tell_caseworker(
            session, request, changed, "unchanged", actor=actor, now=now, settings=settings
        )
        return request, "kept"
    if request.end != before_end:
        deadlines.move(
            session,
            kind=RequestDeadlineKind.erase_data,
            subject_id=request.id,
            sequence=0,
            due_at=request.end + timedelta(days=settings.request_data_days),
        )
    outcome = offers.after_request_change(
        session,
        request,
        changed=changed,
        before_start=before_start,
        before_end=before_end,
        actor=actor,
        now=now,
        settings=settings,
    )
    _tell_caseworker(session, request, changed, outcome, actor=actor, now=now, settings=settings)
    return request, outcome


def _tell_caseworker(
    session: Session,
    request: Request,
    changed: dict[str, tuple[object, object]],
    outcome: str,
    *,
    actor: User,
    now: datetime,
    settings: Settings,
) -> None:
    """Someone other than whoever filed the request changed it: they hear what and who."""
    if actor.id == request.created_by_user_id:
        return
    messages.request_changed_caseworker(
        session,
        settings,
        request=request,
        changed=sorted(changed),
        changed_by=actor.name,
        news=_news_for_caseworker(outcome, request),
        now=now,
    )


def _news_for_caseworker(outcome: str, request: Request) -> str | None:
    """What the change message adds about the dispatch (see `messages.request_changed_caseworker`).

    A request that nobody can take any more is told in its own message (the
    unfilled one), so the change message then adds nothing.
    """
    if outcome == "kept":
        return "kept"
    if request.status == RequestStatus.unfilled:
        return None
    if outcome == "released":
        return "released"
    if outcome in ("dispatched again", "held"):
        return "searching"
    return None
