"""The API's shapes of a staff account; the staff page checks its form with the same ones."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.users.models import Role
from dispatch.validation import MAX_ID, Email, Line, Timestamp


class UserCreate(BaseModel):
    """A colleague's account; without `organisation_id`, the inviting coordinator's own."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Annotated[str, Line(200)]
    role: Role
    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    locale: Literal["de", "en"] = "de"
    invite: bool = Field(
        default=True, description="Send the sign-in link by email now (48 hours, works once)."
    )


class UserPublic(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    organisation_id: int
    organisation_name: str
    locale: str
    active: bool
    erased: bool = Field(
        default=False,
        description="Name and address erased (GDPR Art. 17); the record stays, nameless.",
    )
    has_password: bool
    last_invited_at: Timestamp | None = Field(
        description="When the newest sign-in link was sent (invitation or forgotten password)."
    )
    created_at: Timestamp


class Invitation(BaseModel):
    """What an invitation did: the link went to `email` and works until `expires_at`."""

    user: UserPublic
    email: str
    expires_at: Timestamp


class HandOverIn(BaseModel):
    """Whom a caseworker's open work goes to: an active caseworker of their organisation."""

    model_config = ConfigDict(extra="forbid")

    to_user_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class HandedOverPublic(BaseModel):
    """What a hand-over moved: each date of a series counts as a request."""

    requests: int
    series: int
    to_user_id: int
