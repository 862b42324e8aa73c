"""API routes of offers and assignments: the coordinator's override and drop-outs, no-shows,
and the SMS replies webhook."""

from __future__ import annotations

from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from dispatch import errors
from dispatch.deps import ClockDep, CoordinatorUser, CurrentUser, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput
from dispatch.jobs import flows as job_flows
from dispatch.offers import flows
from dispatch.offers.sms import handle_inbound
from dispatch.outbox.webhooks import TwilioForm
from dispatch.requests import service as requests
from dispatch.requests.schemas import RequestPublic
from dispatch.validation import MAX_ID, Text

api = APIRouter(prefix="/api/v1", tags=["dispatch"])
webhooks = APIRouter(
    prefix="/webhooks/twilio", tags=["webhooks"], responses=errors.responses(400, 403, 413)
)


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mediator_id: int = Field(ge=1, le=MAX_ID)
    reason: Annotated[str, Text(300)] | None = None


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Text(300)] | None = None


@api.post(
    "/requests/{request_id}/assign", response_model=RequestPublic, responses=errors.responses(409)
)
def assign(
    request_id: IdPath,
    body: AssignBody,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> RequestPublic:
    """Assign a mediator directly (override); pending offers are withdrawn."""
    flows.assign_directly(
        session,
        request_id=request_id,
        mediator_id=body.mediator_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        reason=body.reason,
    )
    return requests.to_public(
        session, requests.get_request(session, request_id=request_id, actor=user), actor=user
    )


@api.post(
    "/assignments/{assignment_id}/cancel",
    response_model=RequestPublic,
    responses=errors.responses(409),
)
def cancel_assignment(
    assignment_id: IdPath,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
    body: ReasonBody | None = None,
) -> RequestPublic:
    """A mediator dropped out: the request is offered again at once, skipping them."""
    request = flows.cancel_assignment(
        session,
        assignment_id=assignment_id,
        actor=user,
        now=clock.now(),
        settings=settings,
        reason=body.reason if body else None,
    )
    return requests.to_public(session, request, actor=user)


@api.post(
    "/requests/{request_id}/no-show", response_model=RequestPublic, responses=errors.responses(409)
)
def no_show(
    request_id: IdPath,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> RequestPublic:
    """The mediator did not come (caseworker of the organisation, or coordinator); the
    mediator and the coordination are told."""
    request = requests.get_request(session, request_id=request_id, actor=user)
    job_flows.record_no_show(
        session, request=request, actor=user, now=clock.now(), settings=settings
    )
    return requests.to_public(session, request, actor=user)


# --- SMS replies ------------------------------------------------------------------


@webhooks.post(
    "/sms",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "the reply as TwiML"},
        **errors.responses(422),
    },
)
def inbound_sms(
    form: TwilioForm,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """JA/NEIN with a code, STOP/START; the answer goes back as TwiML."""
    sender = form.get("From", "")
    body = form.get("Body", "")
    if not sender or len(body) > 1600:
        raise InvalidInput(
            "From is required and Body may hold at most 1600 characters.", field="Body"
        )
    reply = handle_inbound(session, sender=sender, body=body, now=clock.now(), settings=settings)
    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response>'
    if reply:
        twiml += f"<Message>{escape(reply)}</Message>"
    twiml += "</Response>"
    return Response(twiml, media_type="application/xml")
