"""Erasing a mediator everywhere their data went (GDPR Art. 17), in one transaction.

The mediator's own record is only where it starts: their name and number
also stand in the caseworkers' confirmations and the coordinator's alerts
in the outbox, in reasons typed on their offers and assignments and in the
audit events about them, and their links still open pages. Their jobs to
come must not be stranded either: they go back to dispatch at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch import audit
from dispatch.mediators import service
from dispatch.mediators.models import Mediator
from dispatch.offers import estimate
from dispatch.offers import flows as offers
from dispatch.offers import service as offer_service
from dispatch.offers.models import Assignment, Offer
from dispatch.outbox import service as outbox
from dispatch.requests import conflicts
from dispatch.storage import wipe_after_commit
from dispatch.users.models import User
from dispatch.web.links import revoke_mediator_links


def erase_mediator(
    session: Session, *, mediator_id: int, actor: User, now: datetime, settings: Settings
) -> Mediator:
    """Erase the mediator and every trace of them; their future jobs are offered again.

    Order matters: the traces (name, phone, email) are read before the
    record is emptied, the record is emptied (and the mediator taken out of
    the pool) before anything is dispatched again, and the outbox is
    scrubbed last, after the caseworkers' new messages (which name nobody).
    Erasing twice changes nothing.
    """
    mediator = service.get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        return mediator
    traces = [t for t in (mediator.name, mediator.phone, mediator.email) if t]
    service.erase_mediator(session, mediator_id=mediator_id, actor=actor, now=now)
    offers.release_erased_mediator(
        session, mediator_id=mediator_id, actor=actor, now=now, settings=settings
    )
    offer_service.forget_mediator(session, mediator_id=mediator_id)
    estimate.forget(session, mediator_id=mediator_id)
    conflicts.forget_mediator(session, mediator_id=mediator_id)
    revoke_mediator_links(session, mediator_id=mediator_id)
    offer_ids = set(session.exec(select(Offer.id).where(Offer.mediator_id == mediator_id)))
    assignment_ids = set(
        session.exec(select(Assignment.id).where(Assignment.mediator_id == mediator_id))
    )
    request_ids = set(
        session.exec(select(Offer.request_id).where(Offer.mediator_id == mediator_id))
    ) | set(
        session.exec(
            select(Assignment.request_id).where(col(Assignment.mediator_id) == mediator_id)
        )
    )
    outbox.erase_traces(session, mediator_id=mediator_id, request_ids=request_ids, traces=traces)
    audit.erase_reasons(session, entity="offer", entity_ids=offer_ids)
    audit.erase_reasons(session, entity="assignment", entity_ids=assignment_ids)
    session.flush()
    wipe_after_commit(session)
    return mediator
