"""Changing a place with everything that follows, for the API and the pages alike."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch.offers import flows as offers
from dispatch.places import service
from dispatch.places.models import Place
from dispatch.places.schemas import PlaceUpdate
from dispatch.users.models import User

#: A place's fields as the request fields that its jobs' change messages name
#: (``messages.CHANGE_WORDS``).
AS_REQUEST_FIELD = {
    "name": "place_id",
    "lat": "place_id",
    "lon": "place_id",
    "address": "address",
    "contact_hint": "contact_name",
}


def change_place(
    session: Session,
    *,
    place_id: int,
    data: PlaceUpdate,
    actor: User,
    now: datetime,
    settings: Settings,
) -> Place:
    """Change the place; whoever holds a job there to come is told what changed, and a
    moved point takes its jobs to come along (``offers.follow_moved_place``).

    Only what really changed counts: the page sends every field each time.
    """
    place = service.get_place(session, place_id=place_id)
    before = {name: getattr(place, name) for name in AS_REQUEST_FIELD}
    place = service.update_place(
        session, place_id=place_id, data=data, actor=actor, now=now, settings=settings
    )
    changed = sorted(
        {AS_REQUEST_FIELD[name] for name, old in before.items() if getattr(place, name) != old}
    )
    if (place.lat, place.lon) != (before["lat"], before["lon"]):
        offers.follow_moved_place(
            session,
            place_id=place.id,
            old=(before["lat"], before["lon"]),
            new=(place.lat, place.lon),
            actor=actor,
            now=now,
            settings=settings,
        )
    if changed:
        offers.tell_holders_at_place(
            session, place_id=place.id, changed=changed, now=now, settings=settings
        )
    return place
