"""ledger token: row 2 of pool_version guards the yearly allowance totals (issue 18)

Revision ID: 0009load
Revises: 0007req
Create Date: 2026-11-30
"""
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009load'
down_revision: str | None = '0007req'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # With the row in place the totals are kept from the first request on; without it
    # (an emptied table) they are computed each time, which is slower but still right.
    op.execute(
        sa.text("INSERT INTO pool_version (id, token) VALUES (2, :token)").bindparams(
            token=uuid.uuid4().hex
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM pool_version WHERE id = 2"))
