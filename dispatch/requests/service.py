"""Intake and life of requests (Einsatzanfragen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

import locales
from config import data as config_data
from config.settings import Settings
from dispatch import audit, geocoding, idempotency
from dispatch.allowances import service as allowances
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.funding import policy as funding_policy
from dispatch.funding import service as funding_service
from dispatch.funding.policy import FundingPolicy
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, Offer
from dispatch.places.models import Place
from dispatch.requests.models import Request, RequestStatus
from dispatch.requests.schemas import (
    AddressCandidate,
    AssignmentPublic,
    GenderPreference,
    OfferPublic,
    PlaceRef,
    RequestChange,
    RequestCreate,
    RequestPublic,
)
from dispatch.storage import UTCDateTime, get_row, insert_row, new_row, wipe_after_commit
from dispatch.users.models import Organisation, Role, User
from dispatch.validation import Location

#: Statuses from which a request can still be cancelled.
CANCELLABLE = {
    RequestStatus.open,
    RequestStatus.offered,
    RequestStatus.assigned,
    RequestStatus.unfilled,
}


#: How far back a request for the same client, language and time counts as a likely duplicate.
DUPLICATE_WINDOW = timedelta(days=1)


class DuplicateRequest(Conflict):
    """The same request seems to be filed already; `existing` is the one filed first."""

    def __init__(self, existing: Request) -> None:
        super().__init__(
            f"Request no. {existing.id} for the same client reference, language and an "
            "overlapping time was filed within the last day. Send allow_duplicate: true "
            "to file this one anyway.",
            field="allow_duplicate",
            reason="duplicate_request",
            params={"id": existing.id},
        )
        self.existing = existing


def find_duplicate(
    session: Session,
    *,
    organisation_id: int,
    data: RequestCreate,
    now: datetime,
    series_id: int | None = None,
) -> Request | None:
    """A live request of the organisation for the same client, language and an overlapping
    time, filed within the last day: most likely the same appointment filed twice.

    The occurrences of one series (`series_id`) are never each other's duplicates.
    """
    if data.client_ref is None:
        return None
    found = session.execute(
        _duplicate_query(of_series=series_id is not None),
        {
            "organisation_id": organisation_id,
            "client_ref": data.client_ref,
            "language": data.language,
            "start": data.start,
            "end": data.end,
            "since": now - DUPLICATE_WINDOW,
            "series_id": series_id,
        },
    ).first()
    return None if found is None else session.get(Request, found[0])


@cache
def _duplicate_query(*, of_series: bool) -> sa.Select[int]:
    """`find_duplicate`'s question, built once: the first such request's id.

    Asked on every filing with a client reference, and nearly always
    answered with nothing, so neither building it nor loading rows is paid
    each time; the one found is then read whole.
    """
    return (
        sa.select(col(Request.id))
        .where(
            col(Request.series_id).is_(None) | (col(Request.series_id) != sa.bindparam("series_id"))
            if of_series
            else sa.true(),
            col(Request.organisation_id) == sa.bindparam("organisation_id"),
            col(Request.client_ref) == sa.bindparam("client_ref"),
            col(Request.language) == sa.bindparam("language"),
            col(Request.status) != RequestStatus.cancelled,
            col(Request.start) < sa.bindparam("end", type_=UTCDateTime),
            col(Request.end) > sa.bindparam("start", type_=UTCDateTime),
            col(Request.created_at) >= sa.bindparam("since", type_=UTCDateTime),
        )
        .order_by(col(Request.id))
        .limit(1)
    )


@cache
def _replay_query() -> sa.Select[int, str | None]:
    """The request filed under a user's Idempotency-Key: its id and fingerprint.

    Built once, and plain columns: every filing with a key asks it and almost
    always finds nothing, so neither building the statement nor the ORM's
    entity loading is worth paying each time.
    """
    return sa.select(col(Request.id), col(Request.idempotency_fingerprint)).where(
        col(Request.created_by_user_id) == sa.bindparam("user_id"),
        col(Request.idempotency_key) == sa.bindparam("key"),
    )


def _replay(session: Session, *, actor: User, key: str, fingerprint: str) -> Request | None:
    found = session.execute(_replay_query(), {"user_id": actor.id, "key": key}).first()
    if found is None:
        return None
    request_id, filed_fingerprint = found
    if filed_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new request.",
            field="Idempotency-Key",
        )
    existing = session.get(Request, request_id)
    assert existing is not None  # just found, in this transaction
    return existing


def check_times(*, start: datetime, end: datetime, now: datetime) -> None:
    """The policy's limits on when a request may start and how long it may last."""
    policy = config_data.default_policy()
    if start <= now:
        raise InvalidInput(
            "start is in the past; a mediator cannot be sent back in time.",
            field="start",
            reason="start_in_past",
        )
    if start - now > timedelta(days=policy.max_lead_days):
        raise InvalidInput(
            f"start is more than {policy.max_lead_days} days ahead.",
            field="start",
            reason="start_too_far",
            params={"days": policy.max_lead_days},
        )
    if end - start > timedelta(hours=policy.max_request_hours):
        raise InvalidInput(
            f"a request may last at most {policy.max_request_hours} hours; split longer ones",
            field="end",
            reason="too_long",
            params={"hours": policy.max_request_hours},
        )


def active_place(session: Session, place_id: int) -> Place:
    place = get_row(session, Place, place_id)
    if place is None or not place.active:
        raise InvalidInput(
            f"There is no place with id {place_id}; GET /api/v1/places lists them.",
            field="place_id",
            reason="unknown_place",
        )
    return place


#: What a typed address that does not settle to one point answers, by the search's verdict.
ADDRESS_PROBLEMS = {
    "none": (
        "address_not_found",
        "No address matches {address!r}. Check the spelling, give a place_id, or send the "
        "point as location.",
    ),
    "ambiguous": (
        "address_ambiguous",
        "{address!r} matches several addresses in the pool's area; send the one meant "
        "(its location and address from candidates).",
    ),
    "outside": (
        "address_outside_area",
        "{address!r} lies outside the pool's area only; check the town, give a place_id, "
        "or send the point as location.",
    ),
}


def locate_address(*, address: str, settings: Settings) -> tuple[Location, str]:
    """The point and the street of a typed address: exactly one match inside the pool's area.

    Anything else is a 422 on `address` with its code (and the matches as
    `candidates`, so a client can let a person pick and send the point back);
    without a geocoder, or when it does not answer, `geocoder_unavailable`.
    """
    geocoder = geocoding.geocoder_from_settings(settings)
    unavailable = "The address search is {state}; give a place_id or send the point as location."
    if geocoder is None:
        raise _address_problem(
            "geocoder_unavailable", unavailable.format(state="not set up (GEOCODER_URL)")
        )
    try:
        found = geocoding.search_area(geocoder, geocoding.pool_area(settings), address)
    except geocoding.GeocoderUnavailable as exc:
        raise _address_problem(
            "geocoder_unavailable", unavailable.format(state="not answering")
        ) from exc
    verdict = geocoding.verdict(found)
    if verdict == "found":
        [match] = [c for c in found if c.in_area]
        return Location(lat=match.match.lat, lon=match.match.lon), match.address
    code, message = ADDRESS_PROBLEMS[verdict]
    candidates = [
        AddressCandidate(
            address=c.address,
            label=c.match.label,
            location=Location(lat=c.match.lat, lon=c.match.lon),
            in_area=c.in_area,
        ).model_dump(mode="json")
        for c in found
    ]
    raise _address_problem(code, message.format(address=address), candidates=candidates)


def _address_problem(
    code: str, message: str, *, candidates: list[dict[str, Any]] | None = None
) -> InvalidInput:
    """A 422 on `address` whose body's code says what is wrong (not just invalid_input)."""
    problem = InvalidInput(
        message,
        field="address",
        reason=code,
        extra={"candidates": candidates} if candidates is not None else None,
    )
    problem.code = code
    return problem


def create_request(
    session: Session,
    *,
    data: RequestCreate,
    actor: User,
    now: datetime,
    idempotency_key: str | None = None,
    funding: FundingPolicy | None = None,
    tz: ZoneInfo | None = None,
    series_id: int | None = None,
) -> tuple[Request, bool]:
    """File a request; returns it and whether it was an idempotent replay.

    `series_id`: the request is an occurrence of that series (``dispatch.series``).

    With `funding` (and the town's `tz`), the policy is enforced: a refused
    category or too short a notice is refused unless a coordinator overrides
    with a reason. Either way the request is charged to a funding source by
    the policy's rules (the default policy when none is given), or to the
    one a coordinator chose.

    The unique index on (user, idempotency key) settles two concurrent
    retries: the second INSERT fails (on PostgreSQL once the first commits)
    and the first request is returned instead.
    """
    fingerprint = idempotency.fingerprint(data)
    if idempotency_key is not None:
        replayed = _replay(session, actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replayed is not None:
            return replayed, True
    check_times(start=data.start, end=data.end, now=now)
    organisation_id = organisation_for(session, actor, data.organisation_id)
    coordinator_only = {
        "override_reason": data.override_reason,
        "funding_source": data.funding_source,
    }
    for field, value in coordinator_only.items():
        if value is not None and actor.role != Role.coordinator:
            raise InvalidInput(f"Only a coordinator may set {field}.", field=field)
    if funding is not None:
        if tz is None:  # the notice is counted in the town's working days, never a guess
            raise TypeError("create_request: a funding policy needs the town's tz")
        funding_service.check_intake(
            policy=funding,
            category=data.category,
            start=data.start,
            urgency_reason=data.urgency_reason,
            override_reason=data.override_reason,
            actor=actor,
            now=now,
            tz=tz,
        )
    charged_by = funding or funding_policy.load_policy()
    if data.funding_source is not None and data.funding_source not in charged_by.sources:
        raise InvalidInput(
            f"There is no funding source '{data.funding_source}'; "
            f"the policy has: {', '.join(charged_by.sources)}.",
            field="funding_source",
        )
    if not data.allow_duplicate:
        duplicate = find_duplicate(
            session, organisation_id=organisation_id, data=data, now=now, series_id=series_id
        )
        if duplicate is not None:
            raise DuplicateRequest(duplicate)
    lat = data.location.lat if data.location else None
    lon = data.location.lon if data.location else None
    if data.place_id is not None:
        place = active_place(session, data.place_id)
        if lat is None:
            lat, lon = place.lat, place.lon
    request = new_row(
        Request,
        organisation_id=organisation_id,
        created_by_user_id=actor.id,
        language=data.language,
        min_level=data.min_level.value,
        start=data.start,
        end=data.end,
        mode=data.mode,
        place_id=data.place_id,
        location_lat=lat,
        location_lon=lon,
        address=data.address,
        home_visit=data.home_visit,
        qualification=data.qualification,
        gender_value=data.gender.value if data.gender else None,
        gender_strength=data.gender.strength if data.gender else None,
        client_ref=data.client_ref,
        notes=data.notes,
        unknown_to_client=data.unknown_to_client,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        call_direction=data.call_direction,
        connection=data.connection,
        priority=data.priority,
        policy={"broadcast": True} if data.broadcast else None,
        category=data.category.value,
        urgency_reason=data.urgency_reason,
        policy_override_reason=data.override_reason,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint if idempotency_key else None,
        created_at=now,
        updated_at=now,
        series_id=series_id,
    )
    request.funding_source = data.funding_source or funding_service.charge(
        policy=charged_by,
        request=request,
        organisation=get_row(session, Organisation, organisation_id),
    )
    try:
        insert_row(session, request)
        audit.record(
            session,
            at=now,
            actor_kind="user",
            actor_id=actor.id,
            action="request.create",
            entity="request",
            entity_id=request.id,
            details={"policy_override_reason": data.override_reason}
            if data.override_reason
            else None,
        )
    except IntegrityError:
        session.rollback()
        if idempotency_key is None:
            raise
        replayed = _replay(session, actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replayed is None:
            raise
        return replayed, True
    return request, False


#: What a change may touch, in the order a person reads a request.
CHANGEABLE = (
    "start",
    "end",
    "language",
    "min_level",
    "mode",
    "place_id",
    "location",
    "address",
    "home_visit",
    "call_direction",
    "connection",
    "contact_name",
    "contact_phone",
    "notes",
    "unknown_to_client",
    "category",
    "urgency_reason",
)
#: Fields whose earlier values the history keeps (no personal data among them).
HISTORY_VALUES = frozenset(
    {"start", "end", "language", "min_level", "mode", "place_id", "category"}
)
#: What only the office and the pool's budget care about: a change of these alone tells
#: no mediator anything and offers nothing again.
OFFICE_ONLY = frozenset({"category", "urgency_reason"})


def _current(request: Request) -> dict[str, Any]:
    """The request's changeable fields, shaped as the API's body."""
    return {
        "start": request.start,
        "end": request.end,
        "language": request.language,
        "min_level": request.min_level,
        "mode": request.mode,
        "place_id": request.place_id,
        "location": {"lat": request.location_lat, "lon": request.location_lon}
        if request.location_lat is not None and request.location_lon is not None
        else None,
        "address": request.address,
        "home_visit": request.home_visit,
        "call_direction": request.call_direction,
        "connection": request.connection,
        "contact_name": request.contact_name,
        "contact_phone": request.contact_phone,
        "notes": request.notes,
        "unknown_to_client": request.unknown_to_client,
        "category": request.category,
        "urgency_reason": request.urgency_reason,
    }


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return f"{value}" if value is not None and not isinstance(value, int | float) else value


def change_request(
    session: Session,
    *,
    request: Request,
    data: RequestChange,
    actor: User,
    now: datetime,
    funding: FundingPolicy,
    tz: ZoneInfo,
) -> dict[str, tuple[object, object]]:
    """Apply a change to a request the caller has locked; returns {field: (before, after)}.

    The request as it would be after the change is checked by the same
    schema and limits as a new one. A request that has started (or ended,
    or was cancelled) cannot be changed; the error names the first field
    the change would have touched.

    The `funding` policy holds for a change as at
    filing, for what the change touches: a new category the pool does not
    serve is refused with its next step, and a new start sooner than the
    notice needs an urgency reason, so that moving a request is no way around
    the notice. A caseworker who corrects the category expects the right
    budget to pay: the funding source follows the new category by the
    policy's rules (a coordinator may charge another one afterwards). A
    coordinator's override at filing still holds for a coordinator's change.
    """
    sent = data.model_dump(exclude_unset=True)
    first = next((name for name in CHANGEABLE if name in sent), "start")
    if request.status == RequestStatus.cancelled:
        raise InvalidInput(
            f"This request is cancelled; {first} can no longer be changed.",
            field=first,
            reason="request_cancelled",
        )
    if request.status == RequestStatus.completed or now >= request.start:
        # In the town's time, as the caseworker knows the appointment.
        local = request.start.astimezone(tz)
        raise InvalidInput(
            f"This request started at {local.isoformat(timespec='minutes')}; "
            f"{first} can no longer be changed.",
            field=first,
            reason="request_started",
        )
    before = _current(request)
    if "start" in sent and "end" not in sent:
        sent["end"] = sent["start"] + (request.end - request.start)
    if "place_id" in sent and "location" not in sent:
        sent["location"] = None  # the place's point, looked up below
    elif "location" in sent and "place_id" not in sent:
        sent["place_id"] = None  # a point of its own replaces the place
    body = {**before, **sent}
    try:
        merged = RequestCreate.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else first
        raise InvalidInput(f"{field}: {error['msg']}", field=field, reason=error["type"]) from exc
    if merged.start != request.start or merged.end != request.end:
        check_times(start=merged.start, end=merged.end, now=now)
    category_changed = merged.category.value != request.category
    overridden = actor.role == Role.coordinator and bool(request.policy_override_reason)
    if not overridden:
        if category_changed:
            funding_service.check_category(policy=funding, category=merged.category)
        if merged.start != request.start:
            funding_service.check_notice(
                policy=funding,
                start=merged.start,
                urgency_reason=merged.urgency_reason,
                now=now,
                tz=tz,
            )
    after = merged.model_dump(include=set(CHANGEABLE))
    if merged.place_id is not None and merged.location is None:
        place = active_place(session, merged.place_id)
        after["location"] = {"lat": place.lat, "lon": place.lon}
    changed = {
        name: (before[name], after[name])
        for name in CHANGEABLE
        if _plain(before[name]) != _plain(after[name])
    }
    if not changed:
        return {}
    location = after["location"]
    request.start, request.end = merged.start, merged.end
    request.language, request.min_level = merged.language, merged.min_level.value
    request.mode, request.place_id = merged.mode, merged.place_id
    request.location_lat = location["lat"] if location else None
    request.location_lon = location["lon"] if location else None
    request.address = merged.address
    request.home_visit = merged.home_visit
    request.call_direction, request.connection = merged.call_direction, merged.connection
    request.contact_name, request.contact_phone = merged.contact_name, merged.contact_phone
    request.notes = merged.notes
    request.unknown_to_client = merged.unknown_to_client
    request.category, request.urgency_reason = merged.category.value, merged.urgency_reason
    charged: dict[str, object] = {}
    if category_changed:
        source = funding_service.charge(
            policy=funding,
            request=request,
            organisation=get_row(session, Organisation, request.organisation_id),
        )
        if source != request.funding_source:
            charged = {"funding_source": {"from": request.funding_source, "to": source}}
            request.funding_source = source
    request.updated_at = now
    session.add(request)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="request.change",
        entity="request",
        entity_id=request.id,
        details={
            "fields": list(changed),
            "before": {k: _plain(v[0]) for k, v in changed.items() if k in HISTORY_VALUES},
            "after": {k: _plain(v[1]) for k, v in changed.items() if k in HISTORY_VALUES},
            **charged,
        },
    )
    session.flush()
    return changed


def organisation_for(session: Session, actor: User, organisation_id: int | None) -> int:
    """The organisation an action is for: the actor's own, or (coordinators only) another."""
    if organisation_id is None or organisation_id == actor.organisation_id:
        return actor.organisation_id
    if actor.role != Role.coordinator:
        raise InvalidInput(
            "Only a coordinator may act for another organisation.", field="organisation_id"
        )
    if session.get(Organisation, organisation_id) is None:
        raise InvalidInput(
            f"There is no organisation with id {organisation_id}.", field="organisation_id"
        )
    return organisation_id


def visible_requests(actor: User) -> SelectOfScalar[Request]:
    """Caseworkers see their own organisation's requests; coordinators all."""
    query = select(Request)
    if actor.role != Role.coordinator:
        query = query.where(Request.organisation_id == actor.organisation_id)
    return query


def get_request(session: Session, *, request_id: int, actor: User) -> Request:
    request = session.get(Request, request_id)
    # Another organisation's request is reported as absent, not as forbidden,
    # so that ids do not reveal what other offices asked for.
    if request is None or (
        actor.role != Role.coordinator and request.organisation_id != actor.organisation_id
    ):
        raise NotFound(f"There is no request with id {request_id}.")
    return request


def list_requests(
    session: Session,
    *,
    actor: User,
    status: RequestStatus | None = None,
    language: str | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    organisation_id: int | None = None,
    client_ref: str | None = None,
    created_by_user_id: int | None = None,
    newest_first: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Request], int]:
    """A page of the requests the actor may see, and how many match in all.

    `client_ref` finds references containing it (any case); pages are stable:
    ordered by start, then id (both reversed with `newest_first`).
    """
    if start_from is not None and start_to is not None and start_to <= start_from:
        raise InvalidInput("to must be after from.", field="to", reason="period_order")
    query = visible_requests(actor)
    if status is not None:
        query = query.where(Request.status == status)
    if language is not None:
        query = query.where(Request.language == language)
    if start_from is not None:
        query = query.where(Request.start >= start_from)
    if start_to is not None:
        query = query.where(Request.start < start_to)
    if organisation_id is not None:
        query = query.where(Request.organisation_id == organisation_id)
    if client_ref is not None:
        # The reference may hold "_", a LIKE wildcard: escape it (and "%", "\\").
        pattern = client_ref.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(col(Request.client_ref)).like(f"%{pattern}%", escape="\\"))
    if created_by_user_id is not None:
        query = query.where(Request.created_by_user_id == created_by_user_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = (
        (col(Request.start).desc(), col(Request.id).desc())
        if newest_first
        else (col(Request.start), col(Request.id))
    )
    rows = list(session.exec(query.order_by(*order).limit(limit).offset(offset)))
    return rows, total


def check_cancellable(request: Request) -> None:
    """Refuse (409) a request that can no longer be cancelled (``cancel_request``)."""
    if request.status not in CANCELLABLE:
        raise Conflict(
            f"This request is {request.status} and can no longer be cancelled.",
            reason="request_not_cancellable",
            params={"status": f"{request.status}"},
        )


def cancel_request(
    session: Session, *, request_id: int, actor: User, reason: str | None, now: datetime
) -> Request:
    """Mark the request cancelled; what that means for its offers is ``flows.cancel_request``."""
    request = get_request(session, request_id=request_id, actor=actor)
    # Locked, so a mediator's accept in the same moment either lands first
    # (and its assignment is cancelled by the flow) or finds the request cancelled.
    session.refresh(request, with_for_update=True)
    check_cancellable(request)
    request.status = RequestStatus.cancelled
    request.cancelled_at = now
    request.cancel_reason = reason
    request.updated_at = now
    session.add(request)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="request.cancel",
        entity="request",
        entity_id=request.id,
    )
    session.flush()
    return request


def to_public(
    session: Session, request: Request, *, actor: User, new: bool = False
) -> RequestPublic:
    """The API's view of a request.

    `new`: the request was filed in this transaction, so nobody holds it yet
    and its assignment is not looked for (a coordinator still sees the first
    wave's offers).
    """
    place = session.get(Place, request.place_id) if request.place_id else None
    assignment_row = (
        None
        if new
        else session.exec(
            select(Assignment, Mediator)
            .join(Mediator, col(Mediator.id) == col(Assignment.mediator_id))
            .where(Assignment.request_id == request.id, col(Assignment.cancelled_at).is_(None))
        ).first()
    )
    assignment = None
    if assignment_row is not None:
        row, mediator = assignment_row
        assignment = AssignmentPublic(
            id=row.id,
            mediator_id=mediator.id,
            mediator_name=mediator.name,
            mediator_phone=mediator.phone,
            source=row.source,
            created_at=row.created_at,
            reconfirmed_at=row.reconfirmed_at,
        )
    offers: list[OfferPublic] | None = None
    if actor.role == Role.coordinator:
        offers = [
            OfferPublic(
                id=offer.id,
                mediator_id=mediator.id,
                mediator_name=mediator.name,
                wave=offer.wave,
                channel=offer.channel,
                status=offer.status,
                created_at=offer.created_at,
                expires_at=offer.expires_at,
                responded_at=offer.responded_at,
                decline_reason=offer.decline_reason,
            )
            for offer, mediator in session.exec(
                select(Offer, Mediator)
                .join(Mediator, col(Mediator.id) == col(Offer.mediator_id))
                .where(Offer.request_id == request.id)
                .order_by(col(Offer.wave), col(Offer.id))
            )
        ]
    return RequestPublic(
        id=request.id,
        status=request.status,
        organisation_id=request.organisation_id,
        created_by_user_id=request.created_by_user_id,
        language=request.language,
        language_name=locales.language_name(request.language, "de"),
        min_level=request.min_level,
        start=request.start,
        end=request.end,
        mode=request.mode,
        place=PlaceRef(id=place.id, name=place.name) if place else None,
        location=Location(lat=request.location_lat, lon=request.location_lon)
        if request.location_lat is not None and request.location_lon is not None
        else None,
        address=request.address,
        home_visit=request.home_visit,
        qualification=request.qualification,
        gender=GenderPreference.model_validate(
            {"value": request.gender_value, "strength": request.gender_strength}
        )
        if request.gender_value
        else None,
        client_ref=request.client_ref,
        notes=request.notes,
        unknown_to_client=request.unknown_to_client,
        contact_name=request.contact_name,
        contact_phone=request.contact_phone,
        call_direction=request.call_direction,
        connection=request.connection,
        priority=request.priority,
        broadcast=bool(request.policy and request.policy.get("broadcast")),
        category=request.category,
        urgency_reason=request.urgency_reason,
        funding_source=request.funding_source,
        policy_override_reason=request.policy_override_reason,
        created_at=request.created_at,
        updated_at=request.updated_at,
        cancelled_at=request.cancelled_at,
        cancel_reason=request.cancel_reason,
        filled_at=request.filled_at,
        series_id=request.series_id,
        assignment=assignment,
        offers=offers,
    )


#: What the erasure of a request's data blanks: whom to ask, notes, the connection.
ERASED_FIELDS = ("contact_name", "contact_phone", "notes", "connection")


def personal_traces(request: Request) -> list[str]:
    """The values `erase_request_data` blanks, to find them again where they were copied."""
    names = ERASED_FIELDS + (("address",) if request.home_visit else ())
    return [value for name in names if isinstance(value := getattr(request, name), str)]


def erase_request_data(session: Session, *, request: Request, now: datetime) -> list[str]:
    """Blank the request's personal data; a home visit loses its street and point too.

    What stays is what the statistics, the allowances and the history need:
    language, times, the place, the pseudonymous case reference. Returns the
    fields blanked (names only go into the audit log).
    """
    erased = [name for name in ERASED_FIELDS if getattr(request, name) is not None]
    for name in erased:
        setattr(request, name, None)
    if request.home_visit and request.location_lat is not None:
        # The allowance of a job reported without km counts the way from the mediator's
        # home to this point: kept as a distance on the assignment before the point goes.
        allowances.keep_home_distances(session, request_id=request.id)
    if request.home_visit:
        for name in ("address", "location_lat", "location_lon"):
            if getattr(request, name) is not None:
                setattr(request, name, None)
                erased.append(name)
    if erased:
        request.updated_at = now
        session.add(request)
        wipe_after_commit(session)
        audit.record(
            session,
            at=now,
            actor_kind="system",
            actor_id=None,
            action="request.erase",
            entity="request",
            entity_id=request.id,
            details={"fields": erased},
        )
        session.flush()
    return erased
