"""search: the filter fields of a document copied into its search entry

Revision ID: 0ebffe5124a5
Revises: 5e8c1a2b7d90
Create Date: 2026-11-26 05:24:22.644751
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0ebffe5124a5'
down_revision = '5e8c1a2b7d90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not batch mode: a batch rebuild would drop the FTS5 triggers
    op.add_column('search_entries', sa.Column('confidential', sa.Boolean(), server_default='0',
                                              nullable=False))
    op.add_column('search_entries', sa.Column('doc_type', sa.String(length=32), server_default='',
                                              nullable=False))
    op.add_column('search_entries', sa.Column('document_date', sa.Date(), nullable=True))
    op.execute("UPDATE search_entries SET "
               "confidential = (SELECT d.confidentiality <> 'normal' FROM incoming_documents d "
               "WHERE d.id = search_entries.document_id), "
               "doc_type = (SELECT d.doc_type FROM incoming_documents d "
               "WHERE d.id = search_entries.document_id), "
               "document_date = (SELECT d.document_date FROM incoming_documents d "
               "WHERE d.id = search_entries.document_id)")


def downgrade() -> None:
    for column in ('document_date', 'doc_type', 'confidential'):
        op.execute(f"ALTER TABLE search_entries DROP COLUMN {column}")
