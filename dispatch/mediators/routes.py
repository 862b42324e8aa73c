from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status

from dispatch import errors
from dispatch.deps import ClockDep, CoordinatorUser, IdPath, SessionDep, SettingsDep
from dispatch.mediators import flows, service
from dispatch.mediators.schemas import (
    MediatorChanged,
    MediatorCreate,
    MediatorPage,
    MediatorPublic,
    MediatorUpdate,
)
from dispatch.validation import LanguageTag, Line

router = APIRouter(prefix="/api/v1/mediators", tags=["mediators"])


@router.get("", response_model=MediatorPage)
def list_mediators(
    session: SessionDep,
    _user: CoordinatorUser,
    language: Annotated[LanguageTag | None, Query(description="BCP 47 tag, e.g. ar")] = None,
    active: bool | None = None,
    paused: bool | None = None,
    q: Annotated[
        Annotated[str, Line(100)] | None, Query(description="name or phone contains")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MediatorPage:
    items, total = service.list_mediators(
        session,
        language=language,
        active=active,
        paused=paused,
        search=q,
        limit=limit,
        offset=offset,
    )
    return MediatorPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=MediatorPublic, status_code=status.HTTP_201_CREATED)
def create_mediator(
    data: MediatorCreate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> MediatorPublic:
    mediator = service.create_mediator(
        session, data=data, actor=user, now=clock.now(), settings=settings
    )
    return service.public(session, mediator)


@router.get("/{mediator_id}", response_model=MediatorPublic)
def get_mediator(
    mediator_id: IdPath, session: SessionDep, _user: CoordinatorUser
) -> MediatorPublic:
    return service.public(session, service.get_mediator(session, mediator_id=mediator_id))


@router.patch("/{mediator_id}", response_model=MediatorChanged)
def update_mediator(
    mediator_id: IdPath,
    data: MediatorUpdate,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> MediatorChanged:
    """Change the mediator. Taken out of the pool (`active` false, `paused` true), they
    get no more offers and their open ones are withdrawn; the jobs they hold stay theirs
    unless `release_jobs` is true. `jobs_held` says how many they still hold."""
    now = clock.now()
    mediator = flows.update_mediator(
        session, mediator_id=mediator_id, data=data, actor=user, now=now, settings=settings
    )
    return MediatorChanged(
        **service.public(session, mediator).model_dump(),
        jobs_held=flows.jobs_held(session, mediator_id=mediator.id, now=now),
    )


@router.delete("/{mediator_id}", response_model=MediatorPublic, responses=errors.responses(409))
def erase_mediator(
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    confirm_unpaid: Annotated[
        bool,
        Query(
            description="Erase even though Sprachpool still owes the mediator money: "
            "approved allowances not yet paid, or jobs done whose report or confirmation is "
            "still open. Once erased they cannot be paid through Sprachpool. Without it such "
            "an erasure answers 409 with `owed_euros` and `open_jobs`, and nothing is erased."
        ),
    ] = False,
    owed_euros: Annotated[
        Decimal | None,
        Query(
            ge=0,
            le=1_000_000,
            max_digits=9,
            decimal_places=2,
            description="With `confirm_unpaid`: the amount the caller confirms (the 409's "
            "`owed_euros`). When Sprachpool owes a different amount by now (a job approved "
            "meanwhile), 409 again with the new one, and nothing is erased.",
        ),
    ] = None,
) -> MediatorPublic:
    """Deactivate the mediator and erase their personal data everywhere; their jobs go out again.

    While allowances are owed to them, only with `confirm_unpaid=true` (409 otherwise).
    Their paid and owed amounts stay in the statements, budgets and the funders' report,
    under a pseudonym."""
    mediator = flows.erase_mediator(
        session,
        mediator_id=mediator_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        unpaid_confirmed=confirm_unpaid,
        confirmed_euros=owed_euros,
    )
    return service.public(session, mediator)
