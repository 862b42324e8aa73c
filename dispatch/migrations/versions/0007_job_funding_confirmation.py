"""funding policy on requests (category, urgency, funding source) and the Einsatzbestätigung

Revision ID: 0007job
Revises: 0006u
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import dispatch.storage

revision: str = '0007job'
down_revision: str | None = '0006u'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'category',
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default='other',
            )
        )
        batch_op.add_column(
            sa.Column('urgency_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column('funding_source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                'policy_override_reason',
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f('ix_request_funding_source'), ['funding_source'], unique=False
        )

    op.create_table(
        'job_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        sa.Column('actual_start', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actual_end', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('waiting_minutes', sa.Integer(), nullable=False),
        sa.Column('travel_km', sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column('ticket_cost', sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('reported_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_by_user_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
        sa.Column('dispute_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('approved_by_user_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
        sa.Column('approval_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ['approved_by_user_id'], ['user.id'], name=op.f('fk_job_report_approved_by_user_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['assignment_id'], ['assignment.id'], name=op.f('fk_job_report_assignment_id_assignment')
        ),
        sa.ForeignKeyConstraint(
            ['confirmed_by_user_id'],
            ['user.id'],
            name=op.f('fk_job_report_confirmed_by_user_id_user'),
        ),
        sa.ForeignKeyConstraint(
            ['mediator_id'], ['mediator.id'], name=op.f('fk_job_report_mediator_id_mediator')
        ),
        sa.ForeignKeyConstraint(
            ['request_id'], ['request.id'], name=op.f('fk_job_report_request_id_request')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_report')),
        sa.UniqueConstraint('assignment_id', name=op.f('uq_job_report_assignment_id')),
    )
    with op.batch_alter_table('job_report', schema=None) as batch_op:
        batch_op.create_index(
            'ix_job_report_state_reported', ['state', 'reported_at'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_job_report_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_report_request_id'), ['request_id'], unique=False)

    op.create_table(
        'confirmation_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_report_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', dispatch.storage.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', dispatch.storage.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['job_report_id'],
            ['job_report.id'],
            name=op.f('fk_confirmation_link_job_report_id_job_report'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'],
            ['organisation.id'],
            name=op.f('fk_confirmation_link_organisation_id_organisation'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_confirmation_link_user_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmation_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_confirmation_link_token_hash')),
    )
    with op.batch_alter_table('confirmation_link', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_confirmation_link_job_report_id'), ['job_report_id'], unique=False
        )


def downgrade() -> None:
    op.drop_table('confirmation_link')
    op.drop_table('job_report')
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_funding_source'))
        batch_op.drop_column('policy_override_reason')
        batch_op.drop_column('funding_source')
        batch_op.drop_column('urgency_reason')
        batch_op.drop_column('category')
