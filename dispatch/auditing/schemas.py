"""The audit trail as the API shows it: one page of events, newest first."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dispatch.validation import Timestamp


class AuditEventPublic(BaseModel):
    id: int
    at: Timestamp
    actor_kind: str = Field(description="user, mediator (by their link or SMS) or system")
    actor_id: int | None
    actor_name: str | None = Field(description="The staff member's name, for actor_kind user.")
    action: str = Field(description="What was done, e.g. place.create, user.invite.")
    entity: str = Field(description="The kind of record: place, organisation, user, request, ...")
    entity_id: int | None
    details: dict[str, Any] | None = Field(description="Field names and ids, no personal data.")


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    total: int
    page: int
    per_page: int
