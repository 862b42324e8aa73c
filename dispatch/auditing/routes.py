"""GET /api/v1/audit: the audit trail for coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dispatch.auditing import service
from dispatch.auditing.schemas import AuditPage
from dispatch.deps import CoordinatorUser, SessionDep, SettingsDep
from dispatch.validation import MAX_ID, Day

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def audit_events(
    session: SessionDep,
    _user: CoordinatorUser,
    settings: SettingsDep,
    entity: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="a staff member")] = None,
    mediator_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="A mediator's history: events about them, their offers, jobs and job "
            "reports, and what they did by their link or SMS. An unknown id is a 422.",
        ),
    ] = None,
    request_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="A request's history: events about it, its offers, jobs and job "
            "reports. An unknown id is a 422.",
        ),
    ] = None,
    start: Annotated[Day | None, Query(alias="from", description="first day, local")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day, local")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 50,
) -> AuditPage:
    """Who did what to which record and when, newest first; filtered by record, person,
    period, or to one mediator's or one request's history."""
    return service.events(
        session,
        where=service.AuditFilter(
            entity=entity,
            entity_id=entity_id,
            actor_id=actor_id,
            start=start,
            end=end,
            mediator_id=mediator_id,
            request_id=request_id,
        ),
        tz=settings.tz,
        page=page,
        per_page=per_page,
    )
