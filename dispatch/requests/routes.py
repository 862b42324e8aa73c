from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from dispatch import errors, idempotency
from dispatch.deps import (
    ClockDep,
    CurrentUser,
    IdPath,
    SessionDep,
    SettingsDep,
)
from dispatch.requests import conflicts, flows, service
from dispatch.requests.models import RequestStatus
from dispatch.requests.schemas import (
    CancelBody,
    ClientErase,
    ClientErased,
    ClientExclusionPublic,
    RequestChange,
    RequestCreate,
    RequestPage,
    RequestPublic,
)
from dispatch.validation import MAX_ID, AwareDatetime, LanguageTag

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])


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
    idempotency_key: Annotated[
        str | None,
        Header(description="Retry-safe creation: the same key returns the same request."),
    ] = None,
) -> Response:
    """File a request; it goes out to the first mediators at once.

    A request of the same organisation for the same client reference and
    language at an overlapping time, filed within the last day, is most
    likely the same one again: 409 with `existing` (that request) unless
    `allow_duplicate` is true.
    """
    idempotency_key = idempotency.key_of(idempotency_key)
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
    # Built before the commit, so SQLite's write lock is taken once per request, and
    # written as JSON here: the model is ours and valid, and FastAPI's validation and
    # encoding of it again cost a few percent of a filing's CPU.
    public = service.to_public(session, request, actor=user, new=not replayed)
    return Response(
        public.model_dump_json(),
        status_code=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
        media_type="application/json",
    )


@router.get("", response_model=RequestPage)
def list_requests(
    session: SessionDep,
    user: CurrentUser,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    language: LanguageTag | None = None,
    start_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    start_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    client_ref: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9._/\-]{1,64}$",
            description="Search by case reference: references containing this (any case).",
        ),
    ] = None,
    created_by_user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="The caseworker who filed it.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RequestPage:
    """The requests the caller may see, over the whole history, a page at a time.

    Ordered by start, then id, so pages are stable; `total` counts every
    match. `to` must be after `from` (else 422).
    """
    rows, total = service.list_requests(
        session,
        actor=user,
        status=status_,
        language=language,
        start_from=start_from,
        start_to=start_to,
        organisation_id=organisation_id,
        client_ref=client_ref,
        created_by_user_id=created_by_user_id,
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


@router.post(
    "/{request_id}/not-for-this-client",
    response_model=ClientExclusionPublic,
    responses=errors.responses(409),
)
def not_for_this_client(
    request_id: IdPath, session: SessionDep, user: CurrentUser, clock: ClockDep
) -> ClientExclusionPublic:
    """After the job: the mediator who served it is never offered this client reference's
    requests of the organisation again (reason code `not_for_this_client`). 409 for a
    request without a client reference, before its start, or that nobody served."""
    request = service.get_request(session, request_id=request_id, actor=user)
    mark = conflicts.mark_not_for_client(
        session, request=request, marked_by="caseworker", actor_id=user.id, now=clock.now()
    )
    return ClientExclusionPublic.model_validate(mark, from_attributes=True)


clients = APIRouter(prefix="/api/v1/clients", tags=["requests"])


@clients.post("/erase", response_model=ClientErased)
def erase_client(
    body: ClientErase, session: SessionDep, user: CurrentUser, clock: ClockDep
) -> ClientErased:
    """Erase a client reference of an organisation (GDPR Art. 17): it is removed from every
    request, and the "not again for this client" marks for it are deleted. Coordinators
    name the organisation; a caseworker erases their own organisation's references."""
    organisation_id = service.organisation_for(session, user, body.organisation_id)
    count = conflicts.forget_client(
        session,
        organisation_id=organisation_id,
        client_ref=body.client_ref,
        actor_id=user.id,
        now=clock.now(),
    )
    return ClientErased(requests=count)
