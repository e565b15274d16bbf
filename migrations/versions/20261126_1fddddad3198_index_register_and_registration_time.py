"""index register and registration time

Revision ID: 1fddddad3198
Revises: 2d86a1acbe60
Create Date: 2026-11-26 04:56:31.188172
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '1fddddad3198'
down_revision = '2d86a1acbe60'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_documents_register_registered', ['register_id', 'registered_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_documents_register_registered')


