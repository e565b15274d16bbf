"""documents destroyed with their dossiers: incoming/outgoing destruction_id

Revision ID: d5e1a7c3b920
Revises: 7c41e9a2d5b3
Create Date: 2026-12-04 08:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'd5e1a7c3b920'
down_revision = '7c41e9a2d5b3'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    for table in ('incoming_documents', 'outgoing_documents'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('destruction_id', _ID, nullable=True))
            batch_op.create_foreign_key(f'fk_{table}_destruction_id_destructions', 'destructions',
                                        ['destruction_id'], ['id'])


def downgrade() -> None:
    for table in ('outgoing_documents', 'incoming_documents'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_destruction_id_destructions',
                                     type_='foreignkey')
            batch_op.drop_column('destruction_id')
