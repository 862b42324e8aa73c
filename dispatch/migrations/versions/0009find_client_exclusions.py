"""requests: "not again for this client" exclusions, the mediator must not know the client

Revision ID: 0009find
Revises: 0009addr
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import dispatch.storage
from alembic import op

revision: str = '0009find'
down_revision: str | None = '0009addr'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('unknown_to_client', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        'client_exclusion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('client_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        sa.Column('marked_by', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('organisation_id', 'client_ref', 'mediator_id'),
    )
    with op.batch_alter_table('client_exclusion', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_client_exclusion_mediator_id'), ['mediator_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('client_exclusion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_exclusion_mediator_id'))
    op.drop_table('client_exclusion')
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_column('unknown_to_client')
