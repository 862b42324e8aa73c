"""user: erased_at, when a staff member's personal data was erased

Revision ID: 0016stafferase
Revises: 0015monthly
Create Date: 2026-12-02

A caseworker or coordinator who left can have their name and address erased
(GDPR Art. 17) once their open work is handed over; the record stays, so the
requests they filed and the audit log keep pointing at someone, nameless.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispatch.storage import UTCDateTime

revision: str = '0016stafferase'
down_revision: str | None = '0015monthly'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('user', sa.Column('erased_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('erased_at')
