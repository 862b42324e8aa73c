"""assignment: home_road_km, the estimated way from home kept when the mediator is erased

Revision ID: 0014homekm
Revises: 0013emailkey
Create Date: 2026-12-01

The allowance of an in-person job reported without km counts travel time
estimated from the mediator's home to the job. Erasing the mediator blanks the
home, so their paid months showed a correction and the funders' report and
the budgets lost the travel. Erasure now keeps the estimate's distance on each
of their assignments. Mediators erased before this revision have no home to
take it from: nothing to fill.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014homekm'
down_revision: str | None = '0013emailkey'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column needs no copy of the table on either database.
    op.add_column('assignment', sa.Column('home_road_km', sa.Float(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: the reports' and the paid lines' references refuse a table copy.
    op.drop_column('assignment', 'home_road_km')
