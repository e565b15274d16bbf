"""incoming: the issuer name a package declared, kept when it differs from the directory's

Revision ID: 3b9d0c6e1f27
Revises: 0ebffe5124a5
Create Date: 2026-12-03 03:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3b9d0c6e1f27'
down_revision = '0ebffe5124a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not batch mode: a batch rebuild would drop the FTS5 triggers
    op.add_column('incoming_documents', sa.Column('declared_issuer_name', sa.String(length=255),
                                                  nullable=True))


def downgrade() -> None:
    op.drop_column('incoming_documents', 'declared_issuer_name')
