"""Conflicts of interest: "not again for this client", and erasing a client reference.

After a job the caseworker (request page, API) or the mediator (their report
link) may mark that this mediator must not serve this client again (they know
the family, the community, ...). The mark is a `ClientExclusion` of the
organisation, the pseudonymous client reference and the mediator; the engine
leaves the mediator out of every later request of that organisation with that
reference (`matching.Request.not_for_client`, reason code
`not_for_this_client`). Service functions: they add and flush, the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dispatch import audit
from dispatch.errors import Conflict
from dispatch.offers.models import Assignment
from dispatch.outbox import service as outbox
from dispatch.requests.models import ClientExclusion, Request
from dispatch.series.models import Series
from dispatch.storage import wipe_after_commit

MARKED_BY = ("caseworker", "mediator")


class NotAfterTheJob(Conflict):
    """Only a job that has started, with a client reference and a mediator, can be marked."""

    code = "not_markable"


def served_by(session: Session, request: Request) -> Assignment | None:
    """The assignment that served the request (the live one), if any."""
    return session.exec(
        select(Assignment).where(
            Assignment.request_id == request.id, col(Assignment.cancelled_at).is_(None)
        )
    ).first()


def markable(session: Session, request: Request, *, now: datetime) -> Assignment | None:
    """The assignment to mark "not again for this client", if the request allows it now."""
    if request.client_ref is None or now < request.start:
        return None
    return served_by(session, request)


def markable_or_refused(session: Session, request: Request, *, now: datetime) -> Assignment:
    """The assignment to mark, or 409 when the request cannot be marked now."""
    assignment = markable(session, request, now=now)
    if assignment is None or request.client_ref is None:
        raise NotAfterTheJob(
            "Only a request with a client reference, after its start and with a mediator, "
            "can be marked 'not again for this client'.",
            reason="not_markable",
        )
    return assignment


def is_marked(session: Session, *, request: Request, mediator_id: int) -> bool:
    if request.client_ref is None:
        return False
    return (
        session.exec(
            select(ClientExclusion.id).where(
                ClientExclusion.organisation_id == request.organisation_id,
                ClientExclusion.client_ref == request.client_ref,
                ClientExclusion.mediator_id == mediator_id,
            )
        ).first()
        is not None
    )


def mark_not_for_client(
    session: Session,
    *,
    request: Request,
    marked_by: str,
    actor_id: int | None,
    now: datetime,
) -> ClientExclusion:
    """Leave the mediator who served `request` out of this client's later requests.

    Marking twice keeps the first mark. A request without a client reference,
    one that has not started or one nobody served is refused (409).
    """
    assert marked_by in MARKED_BY
    assignment = markable_or_refused(session, request, now=now)
    assert request.client_ref is not None  # markable_or_refused saw it
    existing = session.exec(
        select(ClientExclusion).where(
            ClientExclusion.organisation_id == request.organisation_id,
            ClientExclusion.client_ref == request.client_ref,
            ClientExclusion.mediator_id == assignment.mediator_id,
        )
    ).first()
    if existing is not None:
        return existing
    exclusion = ClientExclusion(
        organisation_id=request.organisation_id,
        client_ref=request.client_ref,
        mediator_id=assignment.mediator_id,
        marked_by=marked_by,
        request_id=request.id,
        created_at=now,
    )
    session.add(exclusion)
    session.flush()
    audit.record(
        session,
        at=now,
        actor_kind="user" if marked_by == "caseworker" else "mediator",
        actor_id=actor_id,
        action="request.not_for_client",
        entity="request",
        entity_id=request.id,
        details={"mediator_id": assignment.mediator_id},
    )
    return exclusion


def not_for_client(session: Session, request: Request) -> tuple[str, ...]:
    """The engine's ids of the mediators marked for the request's client reference."""
    if request.client_ref is None:
        return ()
    return tuple(
        str(mediator_id)
        for mediator_id in session.exec(
            select(ClientExclusion.mediator_id)
            .where(
                ClientExclusion.organisation_id == request.organisation_id,
                ClientExclusion.client_ref == request.client_ref,
            )
            .order_by(col(ClientExclusion.mediator_id))
        )
    )


def not_for_clients(session: Session, requests: Sequence[Request]) -> dict[int, tuple[str, ...]]:
    """`not_for_client` of each request, by request id, in one statement for all of them."""
    refs = {(r.organisation_id, r.client_ref) for r in requests if r.client_ref is not None}
    marks: dict[tuple[int, str], list[str]] = {}
    if refs:
        for organisation_id, client_ref, mediator_id in session.exec(
            select(
                ClientExclusion.organisation_id,
                ClientExclusion.client_ref,
                ClientExclusion.mediator_id,
            )
            .where(
                col(ClientExclusion.organisation_id).in_({o for o, _ in refs}),
                col(ClientExclusion.client_ref).in_({c for _, c in refs}),
            )
            .order_by(col(ClientExclusion.mediator_id))
        ):
            if (organisation_id, client_ref) in refs:
                marks.setdefault((organisation_id, client_ref), []).append(str(mediator_id))
    return {
        r.id: tuple(marks.get((r.organisation_id, r.client_ref), ()))
        if r.client_ref is not None
        else ()
        for r in requests
        if r.id is not None
    }


def forget_client(
    session: Session, *, organisation_id: int, client_ref: str, actor_id: int, now: datetime
) -> int:
    """Erase a client reference of an organisation: it leaves every request, and its
    "not again for this client" marks are deleted. Returns how many requests carried it."""
    session.exec(
        sa.delete(ClientExclusion).where(
            col(ClientExclusion.organisation_id) == organisation_id,
            col(ClientExclusion.client_ref) == client_ref,
        )
    )
    carried_ids = list(
        session.exec(
            select(Request.id).where(
                Request.organisation_id == organisation_id, Request.client_ref == client_ref
            )
        )
    )
    carried = len(carried_ids)
    # The caseworker's e-mails named the reference ("Request no. 12, reference JC-1").
    outbox.scrub_request_messages(session, request_ids=carried_ids, traces=[client_ref])
    # A series keeps its occurrences' terms, the reference among them.
    for series in session.exec(select(Series).where(Series.organisation_id == organisation_id)):
        if series.template.get("client_ref") == client_ref:
            series.template = {**series.template, "client_ref": None}
            session.add(series)
    session.exec(
        sa.update(Request)
        .where(
            col(Request.organisation_id) == organisation_id, col(Request.client_ref) == client_ref
        )
        .values(client_ref=None)
    )
    # The audit event names no reference: that is what is being erased.
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor_id,
        action="client.erase",
        entity="organisation",
        entity_id=organisation_id,
        details={"requests": carried},
    )
    session.flush()
    wipe_after_commit(session)
    return int(carried)


def forget_mediator(session: Session, *, mediator_id: int) -> None:
    """An erased mediator's marks go too: they link a client reference to a person."""
    session.exec(sa.delete(ClientExclusion).where(col(ClientExclusion.mediator_id) == mediator_id))
