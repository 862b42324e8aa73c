"""mediator clearance: training, confidentiality pledge, police certificate, listed until

Existing mediators get no dates: nobody knows them but the coordination, so
they wait for clearance (the dashboard lists them) until someone enters them.

Revision ID: 0007pool
Revises: 0006u
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007pool'
down_revision: str | None = '0008pay'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('trained_on', 'pledge_signed_on', 'police_certificate_seen_on', 'listed_until')


def upgrade() -> None:
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
