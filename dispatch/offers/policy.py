"""The dispatch policy of a request: wave sizes and offer lifetimes by lead time.

``config/policy.toml``, then the organisation's overrides, then the request's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlmodel import Session

from config import data as config_data
from config.data import Policy, WaveBand
from dispatch.requests.models import Request, RequestStatus
from dispatch.users.models import Organisation


def policy_for(session: Session, request: Request) -> Policy:
    """config/policy.toml, then the organisation's overrides, then the request's."""
    organisation = session.get(Organisation, request.organisation_id)
    return policy_from(organisation.policy if organisation is not None else None, request.policy)


def policy_from(
    organisation_policy: dict[str, Any] | None, request_policy: dict[str, Any] | None
) -> Policy:
    """`policy_for` from the two stored overrides (for reads of many requests at once)."""
    policy = config_data.default_policy()
    if organisation_policy:
        policy = policy.merged(organisation_policy)
    overrides = {k: v for k, v in (request_policy or {}).items() if k != "broadcast"}
    return policy.merged(overrides)


def is_broadcast(request: Request) -> bool:
    """Urgent: offered to everyone feasible at once."""
    return bool(request.policy and request.policy.get("broadcast"))


def offer_deadline(policy: Policy, request: Request) -> datetime:
    """No offer outlives this moment: the mediator needs time to get there."""
    return request.start - timedelta(minutes=policy.latest_offer_before_start_minutes)


def wave_band(policy: Policy, request: Request, now: datetime) -> WaveBand | None:
    """The band of the request's lead time (None: broadcast, everyone at once)."""
    if is_broadcast(request):
        return None
    lead_hours = (request.start - now).total_seconds() / 3600
    return next((b for b in policy.bands if lead_hours < b.lead_under_hours), policy.bands[-1])


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


# --- quiet hours ----------------------------------------------------------------


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_hours(policy: Policy, moment: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
    """The quiet hours `moment` falls in (their start and end), or None in waking hours.

    Local wall-clock times, so 21:00-07:00 stays 21:00-07:00 across a clock change.
    """
    start, end = _clock(policy.quiet_start), _clock(policy.quiet_end)
    if start == end:
        return None
    local = moment.astimezone(tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        begins = datetime.combine(day, start, tzinfo=tz)
        ends = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tzinfo=tz)
        if begins <= local < ends:
            return begins, ends
    return None


def awake_expiry(policy: Policy, sent: datetime, lifetime: timedelta, tz: tzinfo) -> datetime:
    """When an offer sent at `sent` runs out, its `lifetime` counted in waking hours only.

    An offer sent at 20:30 for 60 minutes is open until 07:30: nobody reads an
    SMS in their sleep, so the night does not use up the time to answer.
    """
    moment, left = sent, lifetime
    for _ in range(400):  # at most a year of nights; a lifetime is hours or days
        quiet = quiet_hours(policy, moment, tz)
        if quiet is not None:
            moment = quiet[1]
            continue
        local = moment.astimezone(tz)
        next_quiet = datetime.combine(local.date(), _clock(policy.quiet_start), tzinfo=tz)
        if next_quiet <= local:
            next_quiet = datetime.combine(
                local.date() + timedelta(days=1), _clock(policy.quiet_start), tzinfo=tz
            )
        if moment + left <= next_quiet or _clock(policy.quiet_start) == _clock(policy.quiet_end):
            return moment + left
        left -= next_quiet - moment
        moment = next_quiet
    return moment + left


def reminder_time(policy: Policy, due: datetime, start: datetime, tz: tzinfo) -> datetime:
    """When a reminder due at `due` goes: out of the quiet hours where it can.

    A reminder two hours before an 08:00 job would wake the mediator at 06:00;
    it goes at the quiet hours' end instead, as long as that leaves
    `reminder_quiet_lead_minutes` before the start. A job earlier than that
    needs the mediator up in the quiet hours anyway, and a reminder that comes
    too late to act on is worth less than one that comes early.
    """
    quiet = quiet_hours(policy, due, tz)
    if quiet is None:
        return due
    if quiet[1] > start - timedelta(minutes=policy.reminder_quiet_lead_minutes):
        return due
    return quiet[1]


def urgent_at_night(policy: Policy, request: Request, quiet_end: datetime) -> bool:
    """The job starts too soon after the quiet hours to wait for the morning."""
    return request.start < quiet_end + timedelta(hours=policy.quiet_urgent_hours)


def _next_quiet_start(policy: Policy, moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    begins = datetime.combine(local.date(), _clock(policy.quiet_start), tzinfo=tz)
    return begins if begins > local else begins + timedelta(days=1)


def awake_minutes(policy: Policy, since: datetime, until: datetime, tz: tzinfo) -> float:
    """Minutes from `since` to `until` outside the quiet hours: how long someone awake had."""
    if policy.quiet_start == policy.quiet_end:
        return max(0.0, (until - since).total_seconds() / 60)
    start, end = _clock(policy.quiet_start), _clock(policy.quiet_end)
    # Each whole day between a morning and the last day counts the same waking time
    # (the hours on the clock; see below), so weeks ahead cost no more than a day.
    awake_day = datetime.combine(date.min, start) - datetime.combine(date.min, end)
    total, moment = timedelta(0), since
    while moment < until:
        quiet = quiet_hours(policy, moment, tz)
        if quiet is not None:
            moment = quiet[1]
            if end < start:  # the night ended: moment is a morning on the town's clock
                days = (until.astimezone(tz).date() - moment.date()).days - 1
                if days > 0:
                    total += days * awake_day
                    moment = datetime.combine(moment.date() + timedelta(days=days), end, tzinfo=tz)
            continue
        step = min(_next_quiet_start(policy, moment, tz), until)
        # Both on the town's clock after the first night: the span as the clock shows it.
        total += step - moment
        moment = step
    return total.total_seconds() / 60
