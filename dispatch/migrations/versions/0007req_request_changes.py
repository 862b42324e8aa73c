"""requests: phone and video connection, the wave before the terms last changed

Revision ID: 0007req
Revises: 0007_13staff
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007req'
down_revision: str | None = '0007i17'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_direction', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column('connection', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column('terms_wave', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_column('terms_wave')
        batch_op.drop_column('connection')
        batch_op.drop_column('call_direction')
