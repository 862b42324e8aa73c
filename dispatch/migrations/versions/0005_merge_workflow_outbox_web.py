"""merge the workflow, outbox and web branches

Revision ID: 0005
Revises: 0004d, 0004o, 0004w
Create Date: 2026-11-25
"""
from collections.abc import Sequence

revision: str = '0005'
down_revision: str | Sequence[str] | None = ('0004d', '0004o', '0004w')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
