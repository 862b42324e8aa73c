"""The API of staff accounts (coordinator only): list, invite, send a new link, deactivate."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from dispatch import errors
from dispatch.deps import ClockDep, CoordinatorUser, IdPath, SessionDep, SettingsDep
from dispatch.users import flows
from dispatch.users.schemas import (
    HandedOverPublic,
    HandOverIn,
    Invitation,
    UserCreate,
    UserPublic,
)
from dispatch.validation import MAX_ID

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
def list_users(
    session: SessionDep, _user: CoordinatorUser, include_inactive: bool = True
) -> list[UserPublic]:
    return flows.public_users(session, flows.list_users(session, include_inactive=include_inactive))


@router.post(
    "",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(409),
)
def create_user(
    data: UserCreate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> UserPublic:
    """The account, without a password; with `invite` (the default) the sign-in link goes out."""
    created = flows.create_user(session, data=data, actor=user, settings=settings, now=clock.now())
    return flows.public_user(session, created)


@router.post("/{user_id}/invite", response_model=Invitation)
def invite_user(
    user_id: IdPath,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Invitation:
    """A new sign-in link by email (48 hours, works once); older unused links stop working."""
    return flows.invite(session, user_id=user_id, actor=user, settings=settings, now=clock.now())


@router.delete("/{user_id}", response_model=UserPublic, responses=errors.responses(409))
def deactivate_user(
    user_id: IdPath,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    hand_to: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="An active caseworker of the same organisation who takes over the "
            "open requests and running series; without, the coordination gets their news.",
        ),
    ] = None,
) -> UserPublic:
    """The account stops working at once (sessions, tokens and links); the record stays."""
    gone = flows.deactivate(
        session,
        user_id=user_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        hand_to=hand_to,
    )
    return flows.public_user(session, gone)


@router.post("/{user_id}/hand-over", response_model=HandedOverPublic)
def hand_over(
    user_id: IdPath,
    data: HandOverIn,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> HandedOverPublic:
    """A caseworker's open requests and running series go to a colleague, who is told
    once; jobs waiting for their confirmation are asked of the colleague anew."""
    moved = flows.hand_over(
        session,
        user_id=user_id,
        to_user_id=data.to_user_id,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return HandedOverPublic(**asdict(moved))


@router.post("/{user_id}/erase", response_model=UserPublic, responses=errors.responses(409))
def erase_user(
    user_id: IdPath, session: SessionDep, user: CoordinatorUser, clock: ClockDep
) -> UserPublic:
    """Erase a deactivated staff member's name and address everywhere (messages too); only
    once no open request still needs them (hand it over first). The record stays, nameless."""
    gone = flows.erase(session, user_id=user_id, actor=user, now=clock.now())
    return flows.public_user(session, gone)
