"""Replies by SMS: JA/NEIN with a code, STOP/START, and help for anything else."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch import messages
from dispatch.mediators.models import Mediator
from dispatch.offers import flows, service
from dispatch.offers.models import Offer, OfferStatus
from dispatch.offers.service import Outcome
from dispatch.requests.models import Request, RequestStatus
from notifications.sms_commands import parse_inbound


def _normalise(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, "DE")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def handle_inbound(
    session: Session, *, sender: str, body: str, now: datetime, settings: Settings
) -> str:
    """Act on one inbound SMS and return the reply text (empty: no reply)."""
    phone = _normalise(sender)
    mediator = (
        session.exec(
            select(Mediator).where(Mediator.phone == phone, col(Mediator.erased_at).is_(None))
        ).first()
        if phone
        else None
    )
    command = parse_inbound(body)
    if mediator is None:
        # Not someone in the pool: answer politely, act on nothing.
        return messages.sms_help("de", contact_phone=settings.coordinator_phone)
    locale = mediator.message_locale
    if command.kind in ("stop", "start"):
        pause = command.kind == "stop"
        flows.pause_self(session, mediator, paused=pause, now=now, settings=settings, via="sms")
        return messages.sms_paused(locale) if pause else messages.sms_resumed(locale)
    if command.kind == "help":
        return messages.sms_help(locale, contact_phone=settings.coordinator_phone)
    offer = _offer_for(session, mediator, command.code, now=now)
    if offer is None and command.code is None:
        # A bare JA or NEIN that fits no single offer: say why, not "code unknown".
        return messages.sms_which_offer(locale, open_offers=_open_offers(session, mediator, now))
    if offer is None:
        return messages.sms_unknown_code(locale, code=command.code)
    request = session.get(Request, offer.request_id)
    assert request is not None
    if offer.status == OfferStatus.accepted:
        # JA to the day-before reminder: the mediator reconfirms.
        if command.kind == "accept" and service.reconfirm(session, offer, now=now, via="sms"):
            return messages.sms_accept_ok(session, locale, request=request)
        if command.kind == "decline":
            return messages.sms_give_back(locale, contact_phone=settings.coordinator_phone)
        return messages.sms_help(locale, contact_phone=settings.coordinator_phone)
    if command.kind == "accept":
        outcome = flows.accept_offer(session, offer, now=now, settings=settings, via="sms")
        if outcome in (Outcome.accepted, Outcome.already_yours):
            taken = session.get(Offer, offer.id)
            late = (
                taken is not None
                and taken.responded_at is not None
                and taken.responded_at > taken.expires_at
            )
            return messages.sms_accept_ok(session, locale, request=request, late=late)
        if outcome in (Outcome.busy, Outcome.over_limit):
            # Still open, but not for them: "no longer open" would not be true.
            return messages.sms_cannot_take(session, locale, request=request, why=outcome.value)
        return messages.sms_offer_withdrawn(session, locale, request=request)
    outcome = flows.decline_offer(session, offer, now=now, settings=settings, via="sms")
    if outcome in (Outcome.declined, Outcome.already_answered):
        return messages.sms_decline_ok(locale)
    return messages.sms_offer_withdrawn(session, locale, request=request)


def _open_offers(session: Session, mediator: Mediator, now: datetime) -> int:
    """How many offers are open to the mediator now."""
    return len(
        session.exec(
            select(Offer.id).where(
                Offer.mediator_id == mediator.id,
                Offer.status == OfferStatus.pending,
                col(Offer.expires_at) > now,
            )
        ).all()
    )


def _offer_for(
    session: Session, mediator: Mediator, code: str | None, *, now: datetime
) -> Offer | None:
    """The offer a reply means: by its code, or the only one open when no code is given."""
    live = list(
        session.exec(
            select(Offer)
            .join(Request, col(Request.id) == col(Offer.request_id))
            .where(
                Offer.mediator_id == mediator.id,
                col(Request.end) > now,
                col(Offer.status).in_((OfferStatus.pending, OfferStatus.accepted)),
                col(Request.status).in_((RequestStatus.offered, RequestStatus.assigned)),
            )
            .order_by(col(Offer.id).desc())
        )
    )
    pending = [o for o in live if o.status == OfferStatus.pending and o.expires_at > now]
    if code is None:
        if len(pending) == 1:
            return pending[0]
        unconfirmed = [
            o for o in live if o.status == OfferStatus.accepted and service.unconfirmed(session, o)
        ]
        return unconfirmed[0] if not pending and len(unconfirmed) == 1 else None
    match = next((o for o in live if o.short_code == code), None)
    if match is None:
        # A code from an offer that was filled or ran out: say so, rather than "unknown".
        match = session.exec(
            select(Offer)
            .join(Request, col(Request.id) == col(Offer.request_id))
            .where(
                Offer.mediator_id == mediator.id, Offer.short_code == code, col(Request.end) > now
            )
            .order_by(col(Offer.id).desc())
        ).first()
    return match
