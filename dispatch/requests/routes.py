from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from dispatch import errors
from dispatch.deps import ClockDep, CurrentUser, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.requests import flows, service
from dispatch.requests.models import RequestStatus
from dispatch.requests.schemas import (
    CancelBody,
    RequestChange,
    RequestCreate,
    RequestPage,
    RequestPublic,
)
from dispatch.validation import MAX_ID, AwareDatetime, LanguageTag

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])

IDEMPOTENCY_KEY_MAX = 200


@router.post(
    "",
    response_model=RequestPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors.responses(409),
)
def create_request(
    data: RequestCreate,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(description="Retry-safe creation: the same key returns the same request."),
    ] = None,
) -> RequestPublic | JSONResponse:
    """File a request; it goes out to the first mediators at once.

    A request of the same organisation for the same client reference and
    language at an overlapping time, filed within the last day, is most
    likely the same one again: 409 with `existing` (that request) unless
    `allow_duplicate` is true.
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if (
            not idempotency_key
            or len(idempotency_key) > IDEMPOTENCY_KEY_MAX
            or not idempotency_key.isprintable()
        ):
            raise InvalidInput(
                f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.",
                field="Idempotency-Key",
            )
    try:
        request, replayed = flows.file_request(
            session,
            data=data,
            actor=user,
            now=clock.now(),
            settings=settings,
            idempotency_key=idempotency_key,
        )
    except service.DuplicateRequest as exc:
        # The answer carries the request filed first, so the client can show it and ask.
        existing = service.to_public(session, exc.existing, actor=user)
        body = errors.error_body(
            exc.message, exc.code, [{"field": exc.field, "message": exc.message}]
        )
        return JSONResponse({**body, "existing": existing.model_dump(mode="json")}, 409)
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    # Built before the commit, so SQLite's write lock is taken once per request.
    return service.to_public(session, request, actor=user)


@router.get("", response_model=RequestPage)
def list_requests(
    session: SessionDep,
    user: CurrentUser,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    language: LanguageTag | None = None,
    start_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    start_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RequestPage:
    rows, total = service.list_requests(
        session,
        actor=user,
        status=status_,
        language=language,
        start_from=start_from,
        start_to=start_to,
        organisation_id=organisation_id,
        limit=limit,
        offset=offset,
    )
    return RequestPage(
        items=[service.to_public(session, r, actor=user) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{request_id}", response_model=RequestPublic)
def get_request(request_id: IdPath, session: SessionDep, user: CurrentUser) -> RequestPublic:
    return service.to_public(
        session, service.get_request(session, request_id=request_id, actor=user), actor=user
    )


@router.patch("/{request_id}", response_model=RequestPublic, responses=errors.responses(409))
def change_request(
    request_id: IdPath,
    data: RequestChange,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> RequestPublic:
    """Change time, duration, language, place, mode, notes or connection.

    A mediator who can still serve the changed request keeps it and is told
    what changed; one who cannot is released and the request is offered
    again. Offers still open for the old terms are withdrawn. A request that
    has started can no longer be changed (422 naming the field).
    """
    request, _outcome = flows.change_request(
        session, request_id=request_id, data=data, actor=user, now=clock.now(), settings=settings
    )
    return service.to_public(session, request, actor=user)


@router.post("/{request_id}/cancel", response_model=RequestPublic, responses=errors.responses(409))
def cancel_request(
    request_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
    body: CancelBody | None = None,
) -> RequestPublic:
    request = flows.cancel_request(
        session,
        request_id=request_id,
        actor=user,
        reason=body.reason if body else None,
        now=clock.now(),
        settings=settings,
    )
    return service.to_public(session, request, actor=user)
