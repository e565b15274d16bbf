"""outgoing: a review step reassigned by the admin; incoming: the note of an agreed revocation

Revision ID: 817791f948e2
Revises: b3c9e4f1a2d7
Create Date: 2026-12-03 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '817791f948e2'
down_revision = 'b3c9e4f1a2d7'
branch_labels = None
depends_on = None

FK = 'fk_outgoing_documents_assigned_reviewer_id_users'


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not batch mode: a batch rebuild would drop the FTS5 triggers
    if op.get_bind().dialect.name == 'sqlite':  # SQLite takes the key only inside ADD COLUMN
        op.execute('ALTER TABLE outgoing_documents ADD COLUMN assigned_reviewer_id INTEGER '
                   f'CONSTRAINT {FK} REFERENCES users (id)')
    else:
        op.add_column('outgoing_documents', sa.Column('assigned_reviewer_id', sa.Integer(),
                                                      nullable=True))
        op.create_foreign_key(FK, 'outgoing_documents', 'users', ['assigned_reviewer_id'], ['id'])
    op.add_column('incoming_documents', sa.Column('revocation_note', sa.Text(), nullable=False,
                                                  server_default=''))


def downgrade() -> None:
    op.drop_column('incoming_documents', 'revocation_note')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK, 'outgoing_documents', type_='foreignkey')
    op.drop_column('outgoing_documents', 'assigned_reviewer_id')
