"""mediator: monthly_limit, a mediator's own limit on the allowances of a month

Revision ID: 0015monthly
Revises: 0014homekm
Create Date: 2026-12-01

A mediator on Bürgergeld keeps allowances for volunteering only up to 250 EUR
a month (SGB II § 11b Abs. 2 Satz 3); more costs them benefits. Pools tracked
this by hand. The mediator's own figure is kept (never why they asked for it);
null is no monthly limit, which every mediator so far has.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015monthly'
down_revision: str | None = '0014homekm'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column needs no copy of the table on either database.
    op.add_column(
        'mediator', sa.Column('monthly_limit', sa.Numeric(precision=8, scale=2), nullable=True)
    )


def downgrade() -> None:
    # Not in batch mode: the languages', slots' and jobs' references refuse a table copy.
    op.drop_column('mediator', 'monthly_limit')
