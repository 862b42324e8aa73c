"""pool version: a token that changes with every change to the pool, for the ranking's cache

Revision ID: 0007h18
Revises: 0007_13staff
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007h18'
down_revision: str | None = '0007pool'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pool_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_version')),
    )


def downgrade() -> None:
    op.drop_table('pool_version')
