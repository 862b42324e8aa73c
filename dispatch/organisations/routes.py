"""The API of organisations (coordinator only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from dispatch import errors
from dispatch.deps import ClockDep, CoordinatorUser, IdPath, SessionDep
from dispatch.organisations import service
from dispatch.organisations.schemas import (
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
)

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])


@router.get("", response_model=list[OrganisationPublic])
def list_organisations(session: SessionDep, _user: CoordinatorUser) -> list[OrganisationPublic]:
    return service.public_all(session)


@router.post(
    "",
    response_model=OrganisationPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(409),
)
def create_organisation(
    data: OrganisationCreate, session: SessionDep, user: CoordinatorUser, clock: ClockDep
) -> OrganisationPublic:
    created = service.create_organisation(session, data=data, actor=user, now=clock.now())
    return service.public(session, created)


@router.get(
    "/{organisation_id}",
    response_model=OrganisationPublic,
)
def get_organisation(
    organisation_id: IdPath, session: SessionDep, _user: CoordinatorUser
) -> OrganisationPublic:
    found = service.get_organisation(session, organisation_id=organisation_id)
    return service.public(session, found)


@router.patch(
    "/{organisation_id}",
    response_model=OrganisationPublic,
    responses=errors.responses(409),
)
def update_organisation(
    organisation_id: IdPath,
    data: OrganisationUpdate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
) -> OrganisationPublic:
    changed = service.update_organisation(
        session, organisation_id=organisation_id, data=data, actor=user, now=clock.now()
    )
    return service.public(session, changed)
