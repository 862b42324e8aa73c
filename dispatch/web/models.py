"""Browser sessions of staff and single-purpose links, both stored hashed.

A stolen database copy must not let anyone sign in: only the SHA-256 of
each random token is kept, like API tokens (dispatch/security.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class WebSession(SQLModel, table=True):
    """A signed-in browser. Ends at `expires_at` (idle) or `absolute_expires_at`."""

    __tablename__ = "web_session"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    absolute_expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LinkPurpose(StrEnum):
    #: A staff member's one-time sign-in link (`sprachpool user add --link`).
    sign_in = "sign_in"
    #: A mediator's personal page: upcoming jobs, pause and resume.
    mediator_page = "mediator_page"


class AccessLink(SQLModel, table=True):
    """A link that grants exactly one thing to whoever holds it, until it expires.

    A sign-in link works once (`used_at`); a mediator's page link can be
    opened again until it expires, but only ever shows that mediator's page.
    """

    __tablename__ = "access_link"
    __table_args__ = (
        sa.CheckConstraint(
            "(purpose = 'sign_in' AND user_id IS NOT NULL) OR "
            "(purpose = 'mediator_page' AND mediator_id IS NOT NULL)",
            name="subject",
        ),
    )

    id: int = Field(default=None, primary_key=True)
    purpose: LinkPurpose = Field(sa_type=sa.String(20))
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    mediator_id: int | None = Field(
        default=None, foreign_key="mediator.id", index=True, ondelete="CASCADE"
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
