"""allowances: annual limit per mediator, paid months and their frozen lines

Revision ID: 0008pay
Revises: 0007job, 0007_13staff (joins the two heads: one chain again)
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0008pay'
down_revision: str | Sequence[str] | None = '0007job'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('annual_limit', sa.Numeric(precision=8, scale=2), nullable=True)
        )
        batch_op.add_column(sa.Column('annual_limit_override_year', sa.Integer(), nullable=True))

    op.create_table(
        'allowance_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('paid_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('paid_by_user_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['paid_by_user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('allowance_month', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_month_month'), ['month'], unique=False)

    op.create_table(
        'allowance_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('funding_source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('job_date', sa.Date(), nullable=False),
        sa.Column('paid_minutes', sa.Integer(), nullable=False),
        sa.Column('km', sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['payment_id'], ['allowance_month.id']),
        sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id']),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id']),
        sa.ForeignKeyConstraint(['request_id'], ['request.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('allowance_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_line_payment_id'), ['payment_id'])
        batch_op.create_index(batch_op.f('ix_allowance_line_month'), ['month'])
        batch_op.create_index(batch_op.f('ix_allowance_line_mediator_id'), ['mediator_id'])
        batch_op.create_index(batch_op.f('ix_allowance_line_assignment_id'), ['assignment_id'])


def downgrade() -> None:
    op.drop_table('allowance_line')
    op.drop_table('allowance_month')
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.drop_column('annual_limit_override_year')
        batch_op.drop_column('annual_limit')
