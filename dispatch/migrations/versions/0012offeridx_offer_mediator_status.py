"""offer: one index on (mediator_id, status) instead of mediator_id alone

Revision ID: 0012offeridx
Revises: 0011habits
Create Date: 2026-11-30

A wave's reply codes are checked against its mediators' pending and accepted
offers. With an index on the mediator alone, SQLite (without statistics)
took the (status, expires_at) index and read every accepted offer on file:
11 ms with half a year of a 1,000-mediator pool's offers, 0.08 ms with this
index. It serves the mediator's lookups alone as well.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012offeridx'
down_revision: str | None = '0011habits'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_offer_mediator_status', 'offer', ['mediator_id', 'status'], unique=False)
    op.drop_index('ix_offer_mediator_id', table_name='offer')


def downgrade() -> None:
    op.create_index('ix_offer_mediator_id', 'offer', ['mediator_id'], unique=False)
    op.drop_index('ix_offer_mediator_status', table_name='offer')
