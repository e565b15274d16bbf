"""agencies: a position title per membership (a person holding posts in two agencies)

Revision ID: 29f166be5b6d
Revises: 9d4a7e2c5b18
Create Date: 2026-12-03 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '29f166be5b6d'
down_revision = '9d4a7e2c5b18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('memberships', sa.Column('position_title', sa.String(length=255),
                                           server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('memberships', 'position_title')
