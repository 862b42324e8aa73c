"""The pool: create, change, list and erase mediators."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, func, select

from config.settings import Settings
from dispatch import audit
from dispatch.errors import InvalidInput, NotFound
from dispatch.geocoding import check_within_reach
from dispatch.mediators.models import (
    CLEARANCE_FIELDS,
    Absence,
    AvailabilitySlot,
    Level,
    Mediator,
    MediatorLanguage,
)
from dispatch.mediators.schemas import (
    UPDATE_INSTRUCTIONS,
    AbsenceIn,
    Home,
    LanguageSkill,
    MediatorCreate,
    MediatorFields,
    MediatorPublic,
    MediatorUpdate,
    WeeklySlot,
    format_clock,
    parse_clock,
)
from dispatch.users.models import User
from matching.feasibility import great_circle_km
from matching.model import CLEARANCE_ITEMS, Location

ERASED_NAME = "(gelöscht)"


@dataclass
class MediatorDetails:
    languages: list[MediatorLanguage] = field(default_factory=list)
    slots: list[AvailabilitySlot] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)


def load_details(session: Session, mediator_ids: list[int]) -> dict[int, MediatorDetails]:
    """Languages, slots and absences of many mediators in three queries."""
    details: dict[int, MediatorDetails] = defaultdict(MediatorDetails)
    if not mediator_ids:
        return details
    for language in session.exec(
        select(MediatorLanguage)
        .where(col(MediatorLanguage.mediator_id).in_(mediator_ids))
        .order_by(col(MediatorLanguage.id))
    ):
        details[language.mediator_id].languages.append(language)
    for slot in session.exec(
        select(AvailabilitySlot)
        .where(col(AvailabilitySlot.mediator_id).in_(mediator_ids))
        .order_by(col(AvailabilitySlot.weekday), col(AvailabilitySlot.start_minute))
    ):
        details[slot.mediator_id].slots.append(slot)
    for absence in session.exec(
        select(Absence)
        .where(col(Absence.mediator_id).in_(mediator_ids))
        .order_by(col(Absence.start))
    ):
        details[absence.mediator_id].absences.append(absence)
    return details


def to_public(mediator: Mediator, details: MediatorDetails) -> MediatorPublic:
    return MediatorPublic(
        id=mediator.id,
        name=mediator.name,
        phone=mediator.phone,
        email=mediator.email,
        languages=[
            LanguageSkill(language=row.language, level=row.level) for row in details.languages
        ],
        german_level=mediator.german_level,
        gender=mediator.gender,
        home=Home(lat=mediator.home_lat, lon=mediator.home_lon)
        if mediator.home_lat is not None and mediator.home_lon is not None
        else None,
        travel_mode=mediator.travel_mode,
        max_travel_km=mediator.max_travel_km,
        max_hours_per_week=mediator.max_hours_per_week,
        annual_limit=mediator.annual_limit,
        annual_limit_override_year=mediator.annual_limit_override_year,
        monthly_limit=mediator.monthly_limit,
        qualifications=list(mediator.qualifications or []),
        channels=list(mediator.channels or []),
        message_locale=mediator.message_locale,
        availability=[
            WeeklySlot(
                weekday=s.weekday,
                start=format_clock(s.start_minute),
                end=format_clock(s.end_minute),
            )
            for s in details.slots
        ],
        absences=[AbsenceIn(start=a.start, end=a.end) for a in details.absences],
        active=mediator.active,
        paused=mediator.paused,
        night_messages=mediator.night_messages,
        consent_at=mediator.consent_at,
        trained_on=mediator.trained_on,
        pledge_signed_on=mediator.pledge_signed_on,
        police_certificate_seen_on=mediator.police_certificate_seen_on,
        listed_until=mediator.listed_until,
        erased_at=mediator.erased_at,
        created_at=mediator.created_at,
        updated_at=mediator.updated_at,
    )


def get_mediator(session: Session, *, mediator_id: int) -> Mediator:
    mediator = session.get(Mediator, mediator_id)
    if mediator is None:
        raise NotFound(f"There is no mediator with id {mediator_id}.")
    return mediator


def public(session: Session, mediator: Mediator) -> MediatorPublic:
    return to_public(mediator, load_details(session, [mediator.id])[mediator.id])


def list_mediators(
    session: Session,
    *,
    language: str | None = None,
    min_level: Level | None = None,
    active: bool | None = None,
    paused: bool | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[MediatorPublic], int]:
    """The pool, by name; `min_level` counts with `language` only (at that level or above)."""
    query = select(Mediator).where(col(Mediator.erased_at).is_(None))
    if language is not None:
        speakers = select(MediatorLanguage.mediator_id).where(MediatorLanguage.language == language)
        if min_level is not None:
            order = list(Level)
            speakers = speakers.where(
                col(MediatorLanguage.level).in_(order[order.index(min_level) :])
            )
        query = query.where(col(Mediator.id).in_(speakers))
    if active is not None:
        query = query.where(Mediator.active == active)
    if paused is not None:
        query = query.where(Mediator.paused == paused)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            col(Mediator.name).ilike(pattern, escape="\\")
            | col(Mediator.phone).like(pattern, escape="\\")
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(
        session.exec(
            query.order_by(col(Mediator.name), col(Mediator.id)).limit(limit).offset(offset)
        )
    )
    details = load_details(session, [m.id for m in rows])
    return [to_public(m, details[m.id]) for m in rows], total


def _check_phone_free(session: Session, mediator: Mediator) -> None:
    """One number, one person in the pool.

    An SMS reply (JA, NEIN, STOP) is known only by the number it came from:
    with two mediators on one number, a yes could take a job for the wrong
    person and a STOP pause someone who never sent it.
    """
    query = select(Mediator).where(
        Mediator.phone == mediator.phone, col(Mediator.erased_at).is_(None)
    )
    if mediator.id is not None:
        query = query.where(col(Mediator.id) != mediator.id)
    with session.no_autoflush:
        holder = session.exec(query).first()
    if holder is not None:
        raise InvalidInput(
            f"The number {mediator.phone} already belongs to {holder.name} in the pool; "
            "SMS replies from it could not tell who answered.",
            field="phone",
            reason="phone_taken",
            params={"name": holder.name},
        )


def _check_reachable(mediator: Mediator) -> None:
    """A mediator must be reachable on each channel they want messages on."""
    if not mediator.phone and not mediator.email:
        raise InvalidInput(
            "A mediator needs a phone number or an email address.",
            field="phone",
            reason="no_contact",
        )
    channels = mediator.channels or []
    if "sms" in channels and not mediator.phone:
        raise InvalidInput(
            "SMS is a preferred channel, but there is no phone number.",
            field="phone",
            reason="sms_without_phone",
        )
    if "email" in channels and not mediator.email:
        raise InvalidInput(
            "Email is a preferred channel, but there is no email address.",
            field="email",
            reason="email_without_address",
        )
    if not channels:
        mediator.channels = ["sms"] if mediator.phone else ["email"]


#: The clearance days that record something done (training, pledge, certificate seen):
#: never after today. `listed_until` looks ahead and may be any day.
RECORDED_DAYS = ("trained_on", "pledge_signed_on", "police_certificate_seen_on")


def check_fields(data: MediatorFields, *, settings: Settings, now: datetime) -> None:
    """The checks of the fields sent that the schema cannot make alone, as they depend on
    the deployment or the clock: a home within reach of the pool, and no record of
    something done (a clearance day, the consent) dated after today in the town, which
    is a typo (2062 for 2026). The CSV import's preview runs them too, so a file that
    would be refused says so before it is confirmed."""
    sent = data.model_fields_set
    if "home" in sent and data.home is not None:
        check_within_reach(data.home.lat, data.home.lon, settings=settings, field="home")
    today = now.astimezone(settings.tz).date()
    recorded: list[tuple[str, date | None]] = [
        (name, getattr(data, name)) for name in RECORDED_DAYS
    ]
    # The consent's day in the town, so a client's clock a minute ahead is no "future".
    consent = data.consent_at.astimezone(settings.tz).date() if data.consent_at else None
    for name, day in [*recorded, ("consent_at", consent)]:
        if name in sent and day is not None and day > today:
            raise InvalidInput(
                f"{name}: {day.isoformat()} lies after today ({today.isoformat()}); it records "
                "when something happened, so it cannot be in the future.",
                field=name,
                reason="day_in_future",
                params={"day": day.isoformat(), "today": today.isoformat()},
            )


def _apply(
    session: Session, mediator: Mediator, data: MediatorFields, *, now: datetime, settings: Settings
) -> list[str]:
    """Copy the fields that were sent onto the mediator; list what changed."""
    check_fields(data, settings=settings, now=now)
    sent = data.model_fields_set - UPDATE_INSTRUCTIONS
    scalar = {
        "name",
        "phone",
        "email",
        "german_level",
        "gender",
        "travel_mode",
        "max_travel_km",
        "max_hours_per_week",
        "annual_limit",
        "annual_limit_override_year",
        "monthly_limit",
        "qualifications",
        "channels",
        "message_locale",
        "active",
        "paused",
        "night_messages",
        "consent_at",
        *CLEARANCE_FIELDS,
    }
    required = {
        "name",
        "travel_mode",
        "message_locale",
        "active",
        "paused",
        "night_messages",
        "qualifications",
        "channels",
    }
    for name in sorted(sent & scalar):
        value = getattr(data, name)
        if value is None and name in required:
            raise InvalidInput(f"{name} cannot be null.", field=name)
        setattr(mediator, name, value)
    if "home" in sent:
        mediator.home_lat = data.home.lat if data.home else None
        mediator.home_lon = data.home.lon if data.home else None
    _check_reachable(mediator)
    if "phone" in sent and mediator.phone:
        _check_phone_free(session, mediator)
    mediator.updated_at = now
    session.add(mediator)
    session.flush()
    mediator_id = mediator.id
    if "languages" in sent:
        if not data.languages:
            raise InvalidInput("A mediator needs at least one language.", field="languages")
        session.exec(
            delete(MediatorLanguage).where(col(MediatorLanguage.mediator_id) == mediator_id)
        )
        for skill in data.languages:
            session.add(
                MediatorLanguage(
                    mediator_id=mediator_id, language=skill.language, level=skill.level
                )
            )
    if "availability" in sent:
        session.exec(
            delete(AvailabilitySlot).where(col(AvailabilitySlot.mediator_id) == mediator_id)
        )
        for slot in data.availability or []:
            session.add(
                AvailabilitySlot(
                    mediator_id=mediator_id,
                    weekday=slot.weekday,
                    start_minute=parse_clock(slot.start),
                    end_minute=parse_clock(slot.end),
                )
            )
    if "absences" in sent:
        session.exec(delete(Absence).where(col(Absence.mediator_id) == mediator_id))
        for absence in data.absences or []:
            session.add(Absence(mediator_id=mediator_id, start=absence.start, end=absence.end))
    session.flush()
    return sorted(sent)


def create_mediator(
    session: Session,
    *,
    data: MediatorCreate,
    actor: User | None,
    now: datetime,
    settings: Settings,
) -> Mediator:
    mediator = Mediator(name=data.name, created_at=now, updated_at=now)
    if "channels" not in data.model_fields_set:
        mediator.channels = []
    fields = _apply(session, mediator, data, now=now, settings=settings)
    _audit_change(
        session, mediator_id=mediator.id, actor=actor, now=now, fields=fields, action="create"
    )
    return mediator


def set_paused(
    session: Session, mediator: Mediator, *, paused: bool, now: datetime, via: str
) -> bool:
    """The mediator pauses or resumes themselves (by SMS or on their page); audited as
    such, so their history says "paused", not "changed". False when already so."""
    if mediator.paused == paused:
        return False
    mediator.paused = paused
    mediator.updated_at = now
    session.add(mediator)
    audit.record(
        session,
        at=now,
        actor_kind="mediator",
        actor_id=mediator.id,
        action="mediator.pause" if paused else "mediator.resume",
        entity="mediator",
        entity_id=mediator.id,
        details={"via": via},
    )
    return True


def update_mediator(
    session: Session,
    *,
    mediator_id: int,
    data: MediatorUpdate,
    actor: User | None,
    now: datetime,
    settings: Settings,
) -> Mediator:
    mediator = get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        raise InvalidInput("This mediator was erased; add them again as a new mediator.")
    fields = _apply(session, mediator, data, now=now, settings=settings)
    _audit_change(session, mediator_id=mediator.id, actor=actor, now=now, fields=fields)
    return mediator


def erase_mediator(
    session: Session,
    *,
    mediator_id: int,
    actor: User | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> Mediator:
    """Deactivate the mediator and erase the personal data of their own record (GDPR Art. 17).

    What stays is what statistics and accounting need and what identifies
    nobody: the row id, past assignments with their hours, offer outcomes.
    The rest of the erasure (their jobs back to dispatch, messages, links)
    is `dispatch.mediators.flows.erase_mediator`, which calls this first.
    """
    mediator = get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        return mediator
    for name in (
        "phone",
        "email",
        "german_level",
        "gender",
        "home_lat",
        "home_lon",
        "max_travel_km",
        "max_hours_per_week",
        # Asked for by people on Bürgergeld: it tells of their benefits, not of accounting.
        "monthly_limit",
        "consent_at",
        *CLEARANCE_FIELDS,
    ):
        setattr(mediator, name, None)
    mediator.name = ERASED_NAME
    mediator.qualifications = []
    mediator.channels = []
    mediator.active = False
    mediator.paused = True
    mediator.erased_at = now
    mediator.erasure_waiting_since = None
    mediator.updated_at = now
    session.add(mediator)
    for table in (MediatorLanguage, AvailabilitySlot, Absence):
        session.exec(delete(table).where(col(table.mediator_id) == mediator_id))
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor is not None else "system",
        actor_id=actor.id if actor is not None else None,
        action="mediator.erase",
        entity="mediator",
        entity_id=mediator.id,
        details=details,
    )
    session.flush()
    return mediator


#: A mediator's clearance columns by the engine's item names (matching.model.CLEARANCE_ITEMS).
CLEARANCE_ITEM_FIELDS = dict(zip(CLEARANCE_ITEMS, CLEARANCE_FIELDS, strict=True))


def clearance_gaps(mediator: Mediator | MediatorPublic, *, today: date) -> list[str]:
    """What keeps the mediator from being cleared today: missing items, and
    `listed_until` also when it lies before today (engine item names)."""
    gaps = [item for item, name in CLEARANCE_ITEM_FIELDS.items() if getattr(mediator, name) is None]
    if mediator.listed_until is not None and mediator.listed_until < today:
        gaps.append("listed_until")
    return gaps


@dataclass
class ClearanceWatch:
    """The dashboard's clearance lists."""

    expiring: list[Mediator]
    """Cleared, listed until a day within the window: to be renewed, soonest first."""
    waiting: list[tuple[Mediator, list[str]]]
    """Not cleared today, with what is missing or ran out, by name."""


def clearance_watch(session: Session, *, today: date, within_days: int = 30) -> ClearanceWatch:
    """Who in the pool (erased mediators aside) needs the coordinator for their clearance."""
    pool = list(
        session.exec(
            select(Mediator)
            .where(col(Mediator.erased_at).is_(None), col(Mediator.active).is_(True))
            .order_by(col(Mediator.name), col(Mediator.id))
        )
    )
    waiting, expiring = [], []
    horizon = today + timedelta(days=within_days)
    for mediator in pool:
        gaps = clearance_gaps(mediator, today=today)
        if gaps:
            waiting.append((mediator, gaps))
        elif mediator.listed_until is not None and mediator.listed_until <= horizon:
            expiring.append(mediator)
    expiring.sort(key=lambda m: (m.listed_until or today, m.name))
    return ClearanceWatch(expiring=expiring, waiting=waiting)


def absences(session: Session, *, mediator_id: int) -> list[Absence]:
    return list(
        session.exec(
            select(Absence)
            .where(Absence.mediator_id == mediator_id)
            .order_by(col(Absence.start), col(Absence.id))
        )
    )


def add_absence(
    session: Session, *, mediator_id: int, absence: AbsenceIn, actor: User, now: datetime
) -> Absence:
    """One absence more (a holiday), without touching the others."""
    mediator = get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        raise NotFound(f"There is no mediator with id {mediator_id}.")
    row = Absence(mediator_id=mediator_id, start=absence.start, end=absence.end)
    session.add(row)
    mediator.updated_at = now
    session.add(mediator)
    session.flush()
    _audit_change(session, mediator_id=mediator_id, actor=actor, now=now, fields=["absences"])
    return row


def remove_absence(
    session: Session, *, mediator_id: int, absence_id: int, actor: User, now: datetime
) -> None:
    row = session.get(Absence, absence_id)
    if row is None or row.mediator_id != mediator_id:
        raise NotFound(f"There is no absence with id {absence_id}.")
    session.delete(row)
    session.flush()
    _audit_change(session, mediator_id=mediator_id, actor=actor, now=now, fields=["absences"])


def _audit_change(
    session: Session,
    *,
    mediator_id: int,
    actor: User | None,
    now: datetime,
    fields: list[str],
    action: str = "update",
) -> None:
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor else "system",
        actor_id=actor.id if actor else None,
        action=f"mediator.{action}",
        entity="mediator",
        entity_id=mediator_id,
        details={"fields": fields},
    )


CLEARANCE_STATES = ("cleared", "waiting", "expiring")


def filter_pool(
    items: list[MediatorPublic],
    *,
    today: date,
    qualification: str | None = None,
    clearance: str | None = None,
    near: tuple[float, float] | None = None,
    within_km: float | None = None,
    within_days: int = 30,
) -> list[MediatorPublic]:
    """The pool page's filters that the list query does not do: a qualification, a
    clearance state (cleared / waiting / expiring within `within_days`), and an area
    (home within `within_km` of `near`)."""
    found = []
    horizon = today + timedelta(days=within_days)
    for item in items:
        if qualification and qualification not in item.qualifications:
            continue
        if clearance:
            gaps = clearance_gaps(item, today=today)
            expiring = not gaps and item.listed_until is not None and item.listed_until <= horizon
            state = "waiting" if gaps else "expiring" if expiring else "cleared"
            if clearance != state and not (clearance == "cleared" and state == "expiring"):
                continue
        if near is not None and within_km is not None:
            if item.home is None:
                continue
            distance = great_circle_km(Location(*near), Location(item.home.lat, item.home.lon))
            if distance > within_km:
                continue
        found.append(item)
    return found
