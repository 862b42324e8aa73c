"""organisation kind: public body or non-profit (who may book a lay pool)

Revision ID: 0007_13staff
Revises: 0006u
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007_13staff'
down_revision: str | None = '0006u'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'kind',
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default='public',
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('kind')
