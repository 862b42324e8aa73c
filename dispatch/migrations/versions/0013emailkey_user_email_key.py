"""user: email_key, the address lower-cased and unique: one account per address in any letters

Revision ID: 0013emailkey
Revises: 0012offeridx
Create Date: 2026-12-01

The flows looked an address up lower-cased before they added an account, but
the column's unique constraint compares letters as typed: two coordinators
adding "Neu@jobcenter.example" and "neu@jobcenter.example" at the same moment
(on PostgreSQL, where writers run side by side) both passed the lookup, and
sign-in then found either. The key is filled from the addresses on file. A
database that already holds such a pair cannot take the unique index: the
upgrade stops and names the addresses, to be changed first.
"""
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013emailkey'
down_revision: str | None = '0012offeridx'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    # The keys as the app makes them (`users.service.email_key`), in Python: SQLite's
    # lower() folds only A-Z, and an address may hold other letters ("JÖRG@...").
    keys = {
        user_id: email.strip().lower()
        for user_id, email in connection.execute(sa.text('SELECT id, email FROM "user"'))
    }
    twice = sorted(key for key, count in Counter(keys.values()).items() if count > 1)
    if twice:
        raise RuntimeError(
            "Several staff accounts share an e-mail address in different letters: "
            + ", ".join(twice)
            + ". Give all but one of each another address (UPDATE \"user\" SET email = ...)"
            " or delete the surplus account, then migrate again."
        )
    # Not in batch mode: on SQLite that copies the table, and the requests' and the
    # tokens' references to it refuse the drop. A column with a default and an index
    # need no copy on either database.
    op.add_column(
        'user',
        sa.Column(
            'email_key',
            sqlmodel.sql.sqltypes.AutoString(length=254),
            nullable=False,
            server_default='',
        ),
    )
    if keys:
        connection.execute(
            sa.text('UPDATE "user" SET email_key = :key WHERE id = :id'),
            [{"id": user_id, "key": key} for user_id, key in keys.items()],
        )
    if connection.dialect.name != 'sqlite':  # SQLite keeps the default (it cannot drop one)
        op.alter_column('user', 'email_key', server_default=None)
    op.create_index(op.f('ix_user_email_key'), 'user', ['email_key'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_user_email_key'), table_name='user')
    op.drop_column('user', 'email_key')
