"""incoming: what the exchange noticed on receipt (unsigned envelope, no valid PDF signature...)

Revision ID: c5e8a1f40b93
Revises: 7a3e9d1c4b20
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c5e8a1f40b93'
down_revision = '7a3e9d1c4b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not batch mode: a batch rebuild would drop the FTS5 triggers
    op.add_column('incoming_documents', sa.Column('receipt_flags', sa.String(length=255),
                                                  server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('incoming_documents', 'receipt_flags')
