"""documents destroyed with their dossiers: incoming/outgoing destruction_id

Revision ID: d5e1a7c3b920
Revises: b6d2e81f4c07
Create Date: 2026-12-04 08:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'd5e1a7c3b920'
down_revision = 'b6d2e81f4c07'
branch_labels = None
depends_on = None

TABLES = ('incoming_documents', 'outgoing_documents')


def _fk(table: str) -> str:
    return f'fk_{table}_destruction_id_destructions'


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not batch mode: a batch rebuild would drop the FTS5 triggers
    for table in TABLES:
        if op.get_bind().dialect.name == 'sqlite':  # SQLite takes the key only inside ADD COLUMN
            op.execute(f'ALTER TABLE {table} ADD COLUMN destruction_id INTEGER '
                       f'CONSTRAINT {_fk(table)} REFERENCES destructions (id)')
        else:
            op.add_column(table, sa.Column('destruction_id', sa.BigInteger(), nullable=True))
            op.create_foreign_key(_fk(table), table, 'destructions', ['destruction_id'], ['id'])


def downgrade() -> None:
    for table in reversed(TABLES):
        if op.get_bind().dialect.name != 'sqlite':
            op.drop_constraint(_fk(table), table, type_='foreignkey')
        op.drop_column(table, 'destruction_id')
