"""Places: the town hall, the job centre, the hospital, ..."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch import audit
from dispatch.errors import Conflict, NotFound
from dispatch.geocoding import check_within_reach
from dispatch.places.models import Place
from dispatch.places.schemas import PlaceCreate, PlaceUpdate
from dispatch.users.models import User


def list_places(session: Session, *, include_inactive: bool = False) -> list[Place]:
    query = select(Place).order_by(col(Place.name))
    if not include_inactive:
        query = query.where(col(Place.active).is_(True))
    return list(session.exec(query))


def get_place(session: Session, *, place_id: int) -> Place:
    place = session.get(Place, place_id)
    if place is None:
        raise NotFound(f"There is no place with id {place_id}.")
    return place


def _name_is_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    clash = session.exec(select(Place).where(Place.name == name)).first()
    if clash is not None and clash.id != except_id:
        raise Conflict(
            f"A place named '{name}' exists already (id {clash.id}).",
            field="name",
            reason="name_taken",
        )


def create_place(
    session: Session, *, data: PlaceCreate, actor: User, now: datetime, settings: Settings
) -> Place:
    _name_is_free(session, data.name)
    check_within_reach(data.lat, data.lon, settings=settings, field="lat")
    place = Place(**data.model_dump(), created_at=now, updated_at=now)
    session.add(place)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="place.create",
        entity="place",
        entity_id=place.id,
    )
    return place


def update_place(
    session: Session,
    *,
    place_id: int,
    data: PlaceUpdate,
    actor: User,
    now: datetime,
    settings: Settings,
) -> Place:
    place = get_place(session, place_id=place_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        _name_is_free(session, changes["name"], except_id=place.id)
    for field in ("name", "lat", "lon", "active"):
        if field in changes and changes[field] is None:
            changes.pop(field)
    if "lat" in changes or "lon" in changes:
        check_within_reach(
            changes.get("lat", place.lat),
            changes.get("lon", place.lon),
            settings=settings,
            field="lat",
        )
    for field, value in changes.items():
        setattr(place, field, value)
    place.updated_at = now
    session.add(place)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="place.update",
        entity="place",
        entity_id=place.id,
        details={"fields": sorted(changes)},
    )
    return place


def deactivate_place(
    session: Session, *, place_id: int, actor: User, now: datetime, active: bool = False
) -> Place:
    """Places stay in the database (old requests refer to them) but leave the lists.

    ``active=True`` brings a deactivated place back into the lists.
    """
    place = get_place(session, place_id=place_id)
    place.active = active
    place.updated_at = now
    session.add(place)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="place.deactivate" if not active else "place.activate",
        entity="place",
        entity_id=place.id,
    )
    return place
