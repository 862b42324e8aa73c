"""Audit trail: who did what to which record, when.

Details carry field names and ids, never personal data, so erasing a
mediator does not have to rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from dispatch.storage import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_kind: str = Field(max_length=20)
    actor_id: int | None = None
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: int | None = Field(default=None, index=True)
    details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


def record(
    session: Session,
    *,
    at: datetime,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=details,
    )
    session.add(event)
    return event
