from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from dispatch import errors
from dispatch.allowances import service as allowances
from dispatch.deps import ClockDep, CoordinatorUser, IdPath, SessionDep, SettingsDep
from dispatch.planning import MOST_PLAN_SECONDS, service
from dispatch.requests.service import get_request
from dispatch.validation import AwareDatetime

router = APIRouter(prefix="/api/v1", tags=["matching"])


@router.get("/requests/{request_id}/candidates")
def candidates(
    request_id: IdPath,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Feasible mediators ranked with their score parts, and why the others are out: each
    reason as the engine's `code` and `params` (times ISO 8601, km, minutes) with an
    English `message`, for a client to show in its reader's language."""
    request = get_request(session, request_id=request_id, actor=user)
    now = clock.now()
    return service.candidates(
        session,
        request=request,
        now=now,
        tz=settings.tz,
        limit_reached=allowances.limit_reached(session, settings=settings, now=now),
    )


class ProposedPair(BaseModel):
    model_config = ConfigDict(extra="ignore")

    request_id: Annotated[int, Field(ge=1, le=2**62)]
    mediator_id: Annotated[int, Field(ge=1, le=2**62)]


class OptimizeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    time_limit_s: Annotated[float, Field(gt=0, le=MOST_PLAN_SECONDS, allow_inf_nan=False)] = 10.0
    previous: Annotated[list[ProposedPair], Field(max_length=20_000)] = []
    """An earlier plan's assignments (as returned): kept where nothing better
    in a higher tier needs the change, so a re-plan does not shuffle mediators."""


@router.post("/optimize", responses=errors.responses(404))
def optimize(
    body: OptimizeBody,
    session: SessionDep,
    _user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A plan for every open request in the period, to review before offers go out."""
    return service.plan_period(
        session,
        start=body.start,
        end=body.end,
        tz=settings.tz,
        time_limit_s=body.time_limit_s,
        previous=[(p.request_id, p.mediator_id) for p in body.previous],
        limit_reached=allowances.limit_reached(session, settings=settings, now=clock.now()),
    )
