"""mediator_habit: each mediator's answers to offers as running totals, filled from the offers

Revision ID: 0011habits
Revises: 0010serieskey
Create Date: 2026-11-30

Who answers used to read every offer of every candidate on each wave. The
totals now move with each answer and each offer that runs out; this fills
them from the offers already on file, by the same rules as
``dispatch.offers.estimate.record_tallies`` (a migration keeps its own copy of
the query; the pure helpers for time slots, waking minutes and policies are
the application's).
"""
import json
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import dispatch.storage
from config.settings import Settings
from dispatch.offers.estimate import time_slot
from dispatch.offers.policy import awake_minutes, policy_from

revision: str = '0011habits'
down_revision: str | None = '0010serieskey'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_stamp = dispatch.storage.UTCDateTime(timezone=True)
_offer = sa.table(
    "offer",
    sa.column("id", sa.Integer()),
    sa.column("request_id", sa.Integer()),
    sa.column("mediator_id", sa.Integer()),
    sa.column("wave", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("created_at", _stamp),
    sa.column("responded_at", _stamp),
)
_request = sa.table(
    "request",
    sa.column("id", sa.Integer()),
    sa.column("organisation_id", sa.Integer()),
    sa.column("policy", sa.JSON()),
)
_organisation = sa.table("organisation", sa.column("id", sa.Integer()), sa.column("policy", sa.JSON()))
_mediator = sa.table("mediator", sa.column("id", sa.Integer()), sa.column("erased_at", _stamp))
_assignment = sa.table("assignment", sa.column("offer_id", sa.Integer()))
ANSWERED = ("accepted", "declined", "returned", "revoked")
YES = ("accepted", "returned", "revoked", "withdrawn")


def upgrade() -> None:
    habit = op.create_table(
        'mediator_habit',
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        sa.Column('slot', sa.String(length=10), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('unanswered', sa.Integer(), nullable=False),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.Column('declined', sa.Integer(), nullable=False),
        sa.Column('log_minutes', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mediator_id', 'slot'),
    )
    took = sa.select(sa.literal(1)).where(_assignment.c.offer_id == _offer.c.id).exists()
    rows = op.get_bind().execute(
        sa.select(
            _offer.c.mediator_id,
            _offer.c.status,
            _offer.c.created_at,
            _offer.c.responded_at,
            _request.c.policy,
            _organisation.c.policy,
            took,
        )
        .join(_request, _request.c.id == _offer.c.request_id)
        .join(_organisation, _organisation.c.id == _request.c.organisation_id)
        .join(_mediator, _mediator.c.id == _offer.c.mediator_id)
        .where(
            _offer.c.wave > 0,
            _mediator.c.erased_at.is_(None),
            _offer.c.status.in_((*ANSWERED, "expired", "withdrawn")),
        )
    ).all()
    if not rows:
        return
    tz = Settings().tz
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    for mediator_id, status, sent, responded_at, request_policy, org_policy, was_taken in rows:
        if status != "expired" and (
            responded_at is None or (status == "withdrawn" and not was_taken)
        ):
            continue
        slot = time_slot(sent, tz)
        row = totals.setdefault(
            (mediator_id, slot),
            {
                "mediator_id": mediator_id,
                "slot": slot,
                "answered": 0,
                "unanswered": 0,
                "accepted": 0,
                "declined": 0,
                "log_minutes": 0.0,
            },
        )
        if status == "expired":
            row["unanswered"] += 1
            continue
        policy = policy_from(
            json.loads(org_policy) if isinstance(org_policy, str) else org_policy,
            json.loads(request_policy) if isinstance(request_policy, str) else request_policy,
        )
        row["answered"] += 1
        row["accepted" if status in YES else "declined"] += 1
        row["log_minutes"] += math.log(max(awake_minutes(policy, sent, responded_at, tz), 0.5))
    op.bulk_insert(habit, [totals[key] for key in sorted(totals)])


def downgrade() -> None:
    op.drop_table('mediator_habit')
