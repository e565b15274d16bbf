"""users: must_change_password (an admin's password reset; changed at the next login)

Revision ID: 2c5c2b56de90
Revises: 29f166be5b6d
Create Date: 2026-12-03 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '2c5c2b56de90'
down_revision = '29f166be5b6d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default='0',
                                     nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
