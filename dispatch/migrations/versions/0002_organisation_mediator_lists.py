"""organisation mediator lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisation_mediator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_organisation_mediator_mediator_id_mediator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_mediator_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_mediator')),
    sa.UniqueConstraint('organisation_id', 'mediator_id', name=op.f('uq_organisation_mediator_organisation_id'))
    )
    with op.batch_alter_table('organisation_mediator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_mediator_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_mediator_organisation_id'), ['organisation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('organisation_mediator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_mediator_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_mediator_mediator_id'))

    op.drop_table('organisation_mediator')
