"""The mediator's links (``/o/{token}``): tokens, what a link opens, and its page's state.

Every offer has a link; later messages (confirmation, reminder, report) get
links of their own to the same offer (``offer_link``). Tokens are 128
random bits stored as SHA-256 only, so the database cannot give them away.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from config.settings import Settings
from dispatch.allowances import service as allowances
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, Offer, OfferLink, OfferStatus
from dispatch.offers.policy import still_seeking
from dispatch.planning import service as planning
from dispatch.requests.models import Request, RequestStatus
from dispatch.security import hash_token

#: How long after the end of a job its link still opens (to report hours).
REPORT_WINDOW = timedelta(days=14)


def new_link_token() -> str:
    """128 random bits, URL-safe: 22 characters, short enough for an SMS."""
    return secrets.token_urlsafe(16)


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/o/{token}"


def issue_link(
    session: Session,
    *,
    offer_id: int,
    purpose: str,
    now: datetime,
    expires_at: datetime,
    settings: Settings,
) -> str:
    """A further link to the offer, for one message (confirmation, reminder, report)."""
    token = new_link_token()
    session.add(
        OfferLink(
            offer_id=offer_id,
            token_hash=hash_token(token),
            purpose=purpose,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return link_url(settings, token)


def job_link(
    session: Session,
    request: Request,
    *,
    offer_id: int,
    purpose: str,
    now: datetime,
    settings: Settings,
) -> str:
    """A link for one message about a job (confirmation, change, reminder, report).

    It opens until `REPORT_WINDOW` after the job's end, so the report can still be made.
    """
    return issue_link(
        session,
        offer_id=offer_id,
        purpose=purpose,
        now=now,
        expires_at=request.end + REPORT_WINDOW,
        settings=settings,
    )


class LinkState(StrEnum):
    """What a link's page shows; each state has its own friendly page."""

    pending = "pending"  # Accept / Decline
    accepted = "accepted"  # your job: where, whom to ask, .ics, reconfirm, cancel
    report = "report"  # the job is over: hours and travel
    reported = "reported"  # thank you
    declined = "declined"
    expired = "expired"
    filled = "filled"  # someone else was quicker
    withdrawn = "withdrawn"  # the request was cancelled, or the coordinator assigned someone
    cancelled = "cancelled"  # you gave the job back
    revoked = "revoked"  # the coordinator took the job back from you


@dataclass
class LinkView:
    offer: Offer
    request: Request
    mediator: Mediator
    assignment: Assignment | None
    state: LinkState
    #: A pending offer only: why a job the mediator already holds, or what their jobs
    #: leave under an allowance limit, rules this one out.
    clash: matching.Exclusion | None = None
    #: The offer's time ran out, but nobody holds the request yet: a yes still takes it
    #: (pending), or took it (accepted).
    late: bool = False


def find_offer(session: Session, token: str, *, now: datetime) -> Offer | None:
    """The offer a link token belongs to, or None (unknown or expired link)."""
    if not token or len(token) > 64:
        return None
    digest = hash_token(token)
    offer = session.exec(select(Offer).where(Offer.token_hash == digest)).first()
    if offer is not None:
        return offer
    link = session.exec(select(OfferLink).where(OfferLink.token_hash == digest)).first()
    if link is None or link.expires_at <= now:
        return None
    return session.get(Offer, link.offer_id)


def view_link(
    session: Session, offer: Offer, *, now: datetime, settings: Settings | None = None
) -> LinkView:
    """What the link's page shows; with `settings`, a pending offer says if a held job clashes."""
    request = session.get(Request, offer.request_id)
    mediator = session.get(Mediator, offer.mediator_id)
    assert request is not None and mediator is not None
    assignment = session.exec(select(Assignment).where(Assignment.offer_id == offer.id)).first()
    state: LinkState
    if offer.status == OfferStatus.revoked:
        state = LinkState.revoked
    elif offer.status == OfferStatus.returned:
        state = LinkState.cancelled
    elif offer.status == OfferStatus.accepted and assignment is not None:
        if assignment.cancelled_at is not None:  # cancelled before offers moved on with it
            state = LinkState.cancelled
        elif assignment.completed_at is not None:
            state = LinkState.reported
        elif now >= request.end:
            state = LinkState.report
        else:
            state = LinkState.accepted
    elif offer.status in (OfferStatus.pending, OfferStatus.expired):
        ran_out = offer.status == OfferStatus.expired or offer.expires_at <= now
        seeking = not ran_out or still_seeking(session, request, now=now)
        state = LinkState.pending if seeking else LinkState.expired
    elif offer.status == OfferStatus.declined:
        state = LinkState.declined
    else:  # withdrawn
        state = (
            LinkState.filled
            if request.status in (RequestStatus.assigned, RequestStatus.completed)
            else LinkState.withdrawn
        )
    if state == LinkState.accepted and now > request.end + REPORT_WINDOW:
        state = LinkState.expired
    clash = None
    if state == LinkState.pending and settings is not None:
        clash = planning.held_job_clash(
            session,
            mediator_id=offer.mediator_id,
            request=request,
            tz=settings.tz,
        ) or planning.limit_clash(
            mediator_id=offer.mediator_id,
            request=request,
            tz=settings.tz,
            limit_reached=allowances.limit_reached(session, settings=settings, now=now),
        )
    late = (state == LinkState.pending and offer.expires_at <= now) or (
        state == LinkState.accepted
        and offer.responded_at is not None
        and offer.responded_at > offer.expires_at
        and offer.wave > 0
    )
    return LinkView(offer, request, mediator, assignment, state, clash, late)


def mark_opened(session: Session, offer: Offer, *, now: datetime) -> None:
    """Remember the first time a link was opened (previews included: opening accepts nothing)."""
    if offer.opened_at is None:
        session.exec(
            sa.update(Offer)
            .where(col(Offer.id) == offer.id, col(Offer.opened_at).is_(None))
            .values(opened_at=now)
        )


def revoke_links(session: Session, *, offers: list[Offer]) -> None:
    """These offers' links stop working: the first (on the offer) gets a hash nobody holds,
    the later ones are deleted."""
    for offer in offers:
        offer.token_hash = hash_token(new_link_token())
        session.add(offer)
    if offers:
        session.exec(
            sa.delete(OfferLink).where(col(OfferLink.offer_id).in_([o.id for o in offers]))
        )
