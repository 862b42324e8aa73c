"""offer links

Revision ID: 0004d
Revises: 0003
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0004d'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('offer_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_offer_link_offer_id_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_offer_link_token_hash'))
    )
    with op.batch_alter_table('offer_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_link_offer_id'), ['offer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('offer_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_link_offer_id'))

    op.drop_table('offer_link')
