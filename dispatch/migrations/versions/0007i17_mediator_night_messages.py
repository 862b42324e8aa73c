"""mediator night messages: urgent offers may reach them in the quiet hours

Revision ID: 0007i17
Revises: 0007_13staff
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007i17'
down_revision: str | None = '0007h18'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy the table on SQLite, and dropping the
    # old one cascades to the mediators' languages and slots.
    op.add_column(
        'mediator',
        sa.Column('night_messages', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.drop_column('night_messages')
