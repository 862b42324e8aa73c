"""The outbox for the coordinator: every SMS and email and how its delivery went."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dispatch.deps import CoordinatorUser, SessionDep
from dispatch.outbox import service
from dispatch.outbox.models import MessageStatus
from dispatch.outbox.schemas import MessagePage, MessagePublic
from dispatch.validation import MAX_ID

router = APIRouter(prefix="/api/v1/messages", tags=["messages"])

#: Template kinds are snake_case words ("offer", "reminder_24h").
KindQuery = Annotated[
    str, Query(pattern=r"^[a-z0-9_]{1,60}$", description="message kind, e.g. offer")
]


@router.get("", response_model=MessagePage)
def list_messages(
    session: SessionDep,
    _user: CoordinatorUser,
    status_: Annotated[MessageStatus | None, Query(alias="status")] = None,
    channel: Literal["sms", "email"] | None = None,
    kind: KindQuery | None = None,
    request_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MessagePage:
    """Outbox messages, newest first, with their delivery status (coordinators only)."""
    rows, total = service.list_messages(
        session,
        status=status_,
        channel=channel,
        kind=kind,
        request_id=request_id,
        limit=limit,
        offset=offset,
    )
    return MessagePage(
        items=[MessagePublic.of(m) for m in rows], total=total, limit=limit, offset=offset
    )
