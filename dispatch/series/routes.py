"""The JSON API of series: `/api/v1/series`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from dispatch import errors, idempotency
from dispatch.deps import (
    ClockDep,
    CurrentUser,
    IdPath,
    SessionDep,
    SettingsDep,
)
from dispatch.series import flows, service
from dispatch.series.schemas import SeriesCancel, SeriesCreate, SeriesPage, SeriesPublic

router = APIRouter(prefix="/api/v1/series", tags=["series"])


@router.post(
    "",
    response_model=SeriesPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(409),
)
def create_series(
    data: SeriesCreate,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(description="Retry-safe creation: the same key returns the same series."),
    ] = None,
) -> SeriesPublic:
    """File a request that repeats every `interval_weeks` weeks until `until`.

    Each occurrence is a request of its own, at the first one's local time
    (across the change to and from summer time), filed like a single request;
    at most 26 (422 naming `until` otherwise). The first is offered at once,
    the later ones 14 days before their start (config/policy.toml
    `[series]`), the mediator who took an earlier occurrence first.

    With an `Idempotency-Key`, a retry returns the series filed first (200,
    `Idempotent-Replayed: true`) and files nothing; the same key with another
    body is a 409.
    """
    series, _filed, replayed = flows.file_series(
        session,
        data=data,
        actor=user,
        now=clock.now(),
        settings=settings,
        idempotency_key=idempotency.key_of(idempotency_key),
    )
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return service.to_public(session, series, actor=user)


@router.get("", response_model=SeriesPage)
def list_series(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SeriesPage:
    """The series the caller may see (a caseworker their organisation's), newest first."""
    rows, total = service.list_series(session, actor=user, limit=limit, offset=offset)
    return SeriesPage(
        items=[service.to_public(session, s, actor=user) for s in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{series_id}", response_model=SeriesPublic)
def get_series(series_id: IdPath, session: SessionDep, user: CurrentUser) -> SeriesPublic:
    return service.to_public(
        session, service.get_series(session, series_id=series_id, actor=user), actor=user
    )


@router.post("/{series_id}/cancel", response_model=SeriesPublic, responses=errors.responses(409))
def cancel_series(
    series_id: IdPath,
    body: SeriesCancel,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> SeriesPublic:
    """Cancel every occurrence from the day `from` on (one alone: cancel that request).

    Each is cancelled as a single request would be: offers withdrawn, the
    assigned mediator released and told.
    """
    series, _cancelled = flows.cancel_from(
        session,
        series_id=series_id,
        from_day=body.from_day,
        reason=body.reason,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return service.to_public(session, series, actor=user)
