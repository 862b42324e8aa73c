"""A request's own timed work: its personal data are erased some time after its end."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.settings import Settings
from dispatch.deadlines.models import Deadline
from dispatch.deadlines.registry import handles
from dispatch.outbox import service as outbox
from dispatch.requests import service
from dispatch.requests.models import Request, RequestDeadlineKind


@handles(RequestDeadlineKind.erase_data)
def erase_request_data(
    session: Session,
    deadline: Deadline,
    *,
    now: datetime,
    settings: Settings,  # noqa: ARG001 - every deadline handler is called with the settings
) -> str:
    """``REQUEST_DATA_DAYS`` after the end: contact, notes, connection and a home visit's
    street and point go, from the request and from the messages sent about it."""
    request = session.get(Request, deadline.subject_id)
    if request is None:
        return "no-op: no request"
    traces = service.personal_traces(request)
    erased = service.erase_request_data(session, request=request, now=now)
    scrubbed = outbox.scrub_request_messages(session, request_ids=[request.id], traces=traces)
    if not erased and not scrubbed:
        return "no-op: nothing to erase"
    return f"erased {len(erased)} fields, {scrubbed} messages"
