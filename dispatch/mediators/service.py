"""The pool: create, change, list and erase mediators."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from dispatch import audit
from dispatch.errors import InvalidInput, NotFound
from dispatch.mediators.models import Absence, AvailabilitySlot, Mediator, MediatorLanguage
from dispatch.mediators.schemas import (
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
    active: bool | None = None,
    paused: bool | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[MediatorPublic], int]:
    query = select(Mediator).where(col(Mediator.erased_at).is_(None))
    if language is not None:
        query = query.where(
            col(Mediator.id).in_(
                select(MediatorLanguage.mediator_id).where(MediatorLanguage.language == language)
            )
        )
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


def _check_reachable(mediator: Mediator) -> None:
    """A mediator must be reachable on each channel they want messages on."""
    if not mediator.phone and not mediator.email:
        raise InvalidInput("A mediator needs a phone number or an email address.", field="phone")
    channels = mediator.channels or []
    if "sms" in channels and not mediator.phone:
        raise InvalidInput(
            "SMS is a preferred channel, but there is no phone number.", field="phone"
        )
    if "email" in channels and not mediator.email:
        raise InvalidInput(
            "Email is a preferred channel, but there is no email address.", field="email"
        )
    if not channels:
        mediator.channels = ["sms"] if mediator.phone else ["email"]


def _apply(
    session: Session, mediator: Mediator, data: MediatorFields, *, now: datetime
) -> list[str]:
    """Copy the fields that were sent onto the mediator; list what changed."""
    sent = data.model_fields_set
    scalar = {
        "name",
        "phone",
        "email",
        "german_level",
        "gender",
        "travel_mode",
        "max_travel_km",
        "max_hours_per_week",
        "qualifications",
        "channels",
        "message_locale",
        "active",
        "paused",
        "night_messages",
        "consent_at",
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
    session: Session, *, data: MediatorCreate, actor: User | None, now: datetime
) -> Mediator:
    mediator = Mediator(name=data.name, created_at=now, updated_at=now)
    if "channels" not in data.model_fields_set:
        mediator.channels = []
    fields = _apply(session, mediator, data, now=now)
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor else "system",
        actor_id=actor.id if actor else None,
        action="mediator.create",
        entity="mediator",
        entity_id=mediator.id,
        details={"fields": fields},
    )
    return mediator


def update_mediator(
    session: Session, *, mediator_id: int, data: MediatorUpdate, actor: User | None, now: datetime
) -> Mediator:
    mediator = get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        raise InvalidInput("This mediator was erased; add them again as a new mediator.")
    fields = _apply(session, mediator, data, now=now)
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor else "system",
        actor_id=actor.id if actor else None,
        action="mediator.update",
        entity="mediator",
        entity_id=mediator.id,
        details={"fields": fields},
    )
    return mediator


def erase_mediator(session: Session, *, mediator_id: int, actor: User, now: datetime) -> Mediator:
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
        "consent_at",
    ):
        setattr(mediator, name, None)
    mediator.name = ERASED_NAME
    mediator.qualifications = []
    mediator.channels = []
    mediator.active = False
    mediator.paused = True
    mediator.erased_at = now
    mediator.updated_at = now
    session.add(mediator)
    for table in (MediatorLanguage, AvailabilitySlot, Absence):
        session.exec(delete(table).where(col(table.mediator_id) == mediator_id))
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="mediator.erase",
        entity="mediator",
        entity_id=mediator.id,
    )
    session.flush()
    return mediator
