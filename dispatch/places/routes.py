from __future__ import annotations

from fastapi import APIRouter, status

from dispatch import errors
from dispatch.deps import (
    ClockDep,
    CoordinatorUser,
    CurrentUser,
    IdPath,
    SessionDep,
    SettingsDep,
)
from dispatch.places import flows, service
from dispatch.places.schemas import PlaceCreate, PlacePublic, PlaceUpdate

router = APIRouter(prefix="/api/v1/places", tags=["places"])


@router.get("", response_model=list[PlacePublic])
def list_places(
    session: SessionDep, _user: CurrentUser, include_inactive: bool = False
) -> list[PlacePublic]:
    return [
        PlacePublic.model_validate(p)
        for p in service.list_places(session, include_inactive=include_inactive)
    ]


@router.post(
    "",
    response_model=PlacePublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(409),
)
def create_place(
    data: PlaceCreate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> PlacePublic:
    place = service.create_place(session, data=data, actor=user, now=clock.now(), settings=settings)
    return PlacePublic.model_validate(place)


@router.get("/{place_id}", response_model=PlacePublic)
def get_place(place_id: IdPath, session: SessionDep, _user: CurrentUser) -> PlacePublic:
    return PlacePublic.model_validate(service.get_place(session, place_id=place_id))


@router.patch("/{place_id}", response_model=PlacePublic, responses=errors.responses(409))
def update_place(
    place_id: IdPath,
    data: PlaceUpdate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> PlacePublic:
    place = flows.change_place(
        session, place_id=place_id, data=data, actor=user, now=clock.now(), settings=settings
    )
    return PlacePublic.model_validate(place)


@router.delete("/{place_id}", response_model=PlacePublic)
def delete_place(
    place_id: IdPath, session: SessionDep, user: CoordinatorUser, clock: ClockDep
) -> PlacePublic:
    place = service.deactivate_place(session, place_id=place_id, actor=user, now=clock.now())
    return PlacePublic.model_validate(place)
