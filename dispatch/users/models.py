"""Organisations, staff users and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from dispatch.storage import UTCDateTime


class Role(StrEnum):
    coordinator = "coordinator"
    caseworker = "caseworker"


class OrganisationKind(StrEnum):
    """Who may book a lay pool: public bodies and non-profits (PRACTICE.md)."""

    public = "public"
    non_profit = "non_profit"


class Organisation(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    kind: OrganisationKind = Field(
        default=OrganisationKind.public,
        sa_type=sa.String(20),
        sa_column_kwargs={"server_default": "public"},
    )
    #: Dispatch policy values that differ from config/policy.toml.
    policy: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class UserDeadlineKind(StrEnum):
    """The timed steps of a staff account (handlers in ``dispatch/users/scheduled.py``)."""

    #: ``STAFF_DATA_DAYS`` after deactivation: erase the name and address.
    erase_account = "user_account_erase"


class User(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    #: The address lower-cased (`email_key`): one account per address in any letters,
    #: kept by the database, so two coordinators adding "Neu@…" and "neu@…" at the same
    #: moment cannot both get through the lookup before the insert; sign-in looks it up.
    email_key: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=sa.String(20))
    #: The language their messages are written in (``de`` or ``en``); the web
    #: pages' language switch sets it, so a caseworker reads mail as they read pages.
    locale: str = Field(default="de", max_length=10, sa_column_kwargs={"server_default": "de"})
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: When their name and address were erased (``users.flows.erase``); the record stays.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Since when the automatic erasure waits for open work nobody took over
    #: (``users/scheduled.py``); the coordination was told then, once. None again when
    #: the account comes back.
    erasure_waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored (tokens are 256-bit random)."""

    __tablename__ = "api_token"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    #: First characters of the token, so a user can tell their tokens apart.
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrganisationMediator(SQLModel, table=True):
    """An organisation's own list: mediators it prefers or never wants offered."""

    __tablename__ = "organisation_mediator"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "mediator_id"),)

    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    #: "preferred" (offered first) or "excluded" (never offered its jobs).
    kind: str = Field(max_length=10)
    created_at: datetime = Field(sa_type=UTCDateTime)
