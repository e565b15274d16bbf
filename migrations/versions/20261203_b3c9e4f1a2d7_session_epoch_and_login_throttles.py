"""sessions: users.session_epoch; failed logins per typed username in login_throttles

The lock moves from users (failed_logins, locked_until) to login_throttles, keyed by a hash of
the typed username, so a name that does not exist locks exactly like one that does. Locks in
progress are not carried over: they last minutes, and the old columns held them per account.

Revision ID: b3c9e4f1a2d7
Revises: 3b9d0c6e1f27
Create Date: 2026-12-03 03:25:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b3c9e4f1a2d7'
down_revision = '3b9d0c6e1f27'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', BIGINT, nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )
    op.add_column('users', sa.Column('session_epoch', BIGINT, server_default='0', nullable=False))
    op.drop_column('users', 'failed_logins')
    op.drop_column('users', 'locked_until')


def downgrade() -> None:
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('failed_logins', BIGINT, server_default='0', nullable=False))
    op.drop_column('users', 'session_epoch')
    op.drop_table('login_throttles')
