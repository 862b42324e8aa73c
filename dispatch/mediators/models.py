"""The pool: mediators, their languages, weekly availability and absences; the pool's version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import Field, SQLModel, col

from dispatch.storage import UTCDateTime


class Level(StrEnum):
    basic = "basic"
    fluent = "fluent"
    native = "native"


class TravelMode(StrEnum):
    car = "car"
    bike = "bike"
    foot = "foot"
    transit = "transit"


class MediatorDeadlineKind(StrEnum):
    """The timed steps of a mediator's record (handlers in ``dispatch/mediators/scheduled.py``)."""

    #: ``MEDIATOR_DATA_DAYS`` after being taken out of the pool: erase their data.
    erase_data = "mediator_data_erase"


class Mediator(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20, index=True)
    email: str | None = Field(default=None, max_length=254)
    german_level: Level | None = Field(default=None, sa_type=sa.String(10))
    gender: str | None = Field(default=None, max_length=1)
    home_lat: float | None = None
    home_lon: float | None = None
    travel_mode: TravelMode = Field(default=TravelMode.car, sa_type=sa.String(10))
    max_travel_km: float | None = None
    max_hours_per_week: float | None = None
    qualifications: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    channels: list[str] = Field(default_factory=lambda: ["sms"], sa_type=sa.JSON)
    message_locale: str = Field(default="de", max_length=10)
    active: bool = True
    #: Paused by the mediator (SMS STOP, own page) or the coordinator.
    paused: bool = False
    #: Yearly allowance limit in euros; None: the allowance rules' figure of the year
    #: (the Ehrenamtspauschale, 960 in 2026).
    annual_limit: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    #: The coordinator let this mediator take paid jobs beyond the limit in this year.
    annual_limit_override_year: int | None = None
    #: The mediator's own limit on a calendar month's allowances in euros; None: none.
    #: Some ask for one (on Bürgergeld, 250 a month stay free); only the figure is kept,
    #: never why.
    monthly_limit: Decimal | None = Field(default=None, sa_type=sa.Numeric(8, 2))
    #: Offers for urgent jobs may reach them in the quiet hours (policy, default 21-07).
    night_messages: bool = False
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Clearance (SPEC "How German pools run"): without all four, or after
    #: listed_until, no offers. Basic training, confidentiality pledge
    #: (Schweigepflichterklärung), extended police certificate (erweitertes
    #: Führungszeugnis, the day it was seen), and the last day listed.
    trained_on: date | None = None
    pledge_signed_on: date | None = None
    police_certificate_seen_on: date | None = None
    listed_until: date | None = None
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Since when the automatic erasure after `MEDIATOR_DATA_DAYS` out of the pool waits
    #: (money owed, a job not settled or to come); the coordination is told once for it.
    erasure_waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


CLEARANCE_FIELDS = ("trained_on", "pledge_signed_on", "police_certificate_seen_on", "listed_until")
"""The mediator's clearance columns, in the order of matching.model.CLEARANCE_ITEMS."""


class MediatorLanguage(SQLModel, table=True):
    __tablename__ = "mediator_language"
    __table_args__ = (sa.UniqueConstraint("mediator_id", "language"),)

    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    language: str = Field(max_length=12, index=True)
    level: Level = Field(sa_type=sa.String(10))


class AvailabilitySlot(SQLModel, table=True):
    """A weekly recurring window in local time: weekday 0 = Monday."""

    __tablename__ = "availability_slot"

    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    weekday: int
    start_minute: int
    end_minute: int


class Absence(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    mediator_id: int = Field(foreign_key="mediator.id", index=True, ondelete="CASCADE")
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)


class PoolVersion(SQLModel, table=True):
    """Rows whose tokens change in the transaction of every change to what they guard.

    Row 1 guards the pool: the ranking keeps what it reads of the pool (who
    speaks what, their homes, limits and weekly hours) in memory under its
    token, so intake does not load a thousand mediators per request. Row 2
    guards the allowance ledger (job reports, held jobs called off, places):
    the yearly totals behind the engine's ``annual_limit`` are kept under it.
    A fresh random token per change (not a counter) never repeats, even after
    the table was emptied or a backup restored; without the row nothing is kept.
    """

    __tablename__ = "pool_version"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(max_length=32)


#: The rows of ``pool_version``: what each token guards.
POOL_ROW = 1
LEDGER_ROW = 2

#: The models whose rows the ranking keeps under the pool's token (absences are read per request).
_POOL_MODELS = (Mediator, MediatorLanguage, AvailabilitySlot)

_VERSIONS_KEY = "sprachpool.versions"


@dataclass(frozen=True)
class Versions:
    """The tokens as one transaction sees them (None: keep nothing under that row)."""

    pool: str | None
    ledger: str | None


def bump_version(session: Session, row: int) -> None:
    """Give `row` a new token, in the session's transaction (commits or rolls back with it)."""
    connection = session.connection()
    table = SQLModel.metadata.tables["pool_version"]
    postgresql = connection.dialect.name == "postgresql"
    insert: Any = postgresql_insert(table) if postgresql else sqlite_insert(table)
    token = uuid.uuid4().hex
    connection.execute(
        insert.values(id=row, token=token).on_conflict_do_update(
            index_elements=["id"], set_={"token": token}
        )
    )
    session.info.pop(_VERSIONS_KEY, None)


def bump_pool_version(session: Session) -> None:
    """Give the pool a new token, in the session's transaction."""
    bump_version(session, POOL_ROW)


#: Built once: intake asks for the tokens with every request.
_TOKENS_QUERY = sa.select(col(PoolVersion.id), col(PoolVersion.token)).where(
    col(PoolVersion.id).in_((POOL_ROW, LEDGER_ROW))
)


def versions(session: Session) -> Versions:
    """Both tokens, read once per transaction (one statement for the pool and the ledger).

    The answer is remembered for the session's current transaction only, and
    forgotten when this session bumps a token; another transaction's change
    is seen by the next transaction, as with any read.
    """
    transaction = session.get_transaction()
    remembered = session.info.get(_VERSIONS_KEY)
    if transaction is not None and remembered is not None and remembered[0] is transaction:
        return cast(Versions, remembered[1])
    tokens: dict[int, str] = dict(session.execute(_TOKENS_QUERY).all())
    found = Versions(pool=tokens.get(POOL_ROW), ledger=tokens.get(LEDGER_ROW))
    session.info[_VERSIONS_KEY] = (session.get_transaction(), found)
    return found


def pool_version(session: Session) -> str | None:
    """The pool's current token as this transaction sees it; None: keep nothing."""
    return versions(session).pool


@dataclass(frozen=True)
class Guard:
    """Which models' changes renew which row's token.

    `changed`: any of their rows changed or deleted (and added, unless `new`
    narrows that down) renews it; `new`: the models whose added rows count.
    """

    row: int
    changed: tuple[type[SQLModel], ...]
    new: tuple[type[SQLModel], ...]

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(str(model.__tablename__) for model in self.changed)


#: Every row's guard; the ledger's is added by ``dispatch.allowances.ledger``.
GUARDS: list[Guard] = [Guard(POOL_ROW, _POOL_MODELS, _POOL_MODELS)]


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _context: Any, _instances: Any) -> None:
    """A guarded row added, changed or deleted (a mediator, a language, a weekly slot for
    the pool): a new token for what it guards, once per flush."""
    for guard in GUARDS:
        if (
            any(isinstance(obj, guard.new) for obj in session.new)
            or any(isinstance(obj, guard.changed) for obj in session.deleted)
            or any(
                isinstance(obj, guard.changed) and session.is_modified(obj) for obj in session.dirty
            )
        ):
            bump_version(session, guard.row)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE or DELETE of a guarded table (``sa.update(Mediator)...``): a new token."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    for guard in GUARDS:
        if table in guard.tables:
            bump_version(state.session, guard.row)
