"""The dispatch policy of a request: wave sizes and offer lifetimes by lead time.

``config/policy.toml``, then the organisation's overrides, then the request's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from config import data as config_data
from config.data import Policy
from dispatch.requests.models import Request, RequestStatus
from dispatch.users.models import Organisation


def policy_for(session: Session, request: Request) -> Policy:
    """config/policy.toml, then the organisation's overrides, then the request's."""
    policy = config_data.default_policy()
    organisation = session.get(Organisation, request.organisation_id)
    if organisation is not None and organisation.policy:
        policy = policy.merged(organisation.policy)
    overrides = {k: v for k, v in (request.policy or {}).items() if k != "broadcast"}
    return policy.merged(overrides)


def is_broadcast(request: Request) -> bool:
    """Urgent: offered to everyone feasible at once."""
    return bool(request.policy and request.policy.get("broadcast"))


def offer_deadline(policy: Policy, request: Request) -> datetime:
    """No offer outlives this moment: the mediator needs time to get there."""
    return request.start - timedelta(minutes=policy.latest_offer_before_start_minutes)


def wave_shape(policy: Policy, request: Request, now: datetime) -> tuple[int | None, timedelta]:
    """How many offers the next wave sends (None: all) and how long they stay open."""
    if is_broadcast(request):
        return None, timedelta(minutes=policy.broadcast_offer_minutes)
    lead_hours = (request.start - now).total_seconds() / 3600
    for band in policy.bands:
        if lead_hours < band.lead_under_hours:
            return band.size, timedelta(minutes=band.offer_minutes)
    last = policy.bands[-1]
    return last.size, timedelta(minutes=last.offer_minutes)


#: A request nobody holds that may still be filled: a late yes takes it. `unfilled`
#: counts too, since the caseworker is told early (days ahead) and a yes is still welcome.
SEEKING = (RequestStatus.open, RequestStatus.offered, RequestStatus.unfilled)


def still_seeking(session: Session, request: Request, *, now: datetime) -> bool:
    """Nobody holds the request and there is still time for someone to get there."""
    return request.status in SEEKING and now < offer_deadline(policy_for(session, request), request)
