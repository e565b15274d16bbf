"""long-term validation: each signed revision's PAdES level and last timestamp, archival
timestamps added by the worker (no signer)

Revision ID: 5b2e8d1c7a40
Revises: e7f2a9c4d1b6
Create Date: 2026-12-03 21:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5b2e8d1c7a40'
down_revision = 'e7f2a9c4d1b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outgoing_signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=8), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('timestamp_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('timestamp_expires', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.alter_column('signer_id', existing_type=sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True)
        batch_op.create_index(batch_op.f('ix_outgoing_signatures_timestamp_expires'),
                              ['timestamp_expires'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_signatures_timestamp_expires'))
        batch_op.alter_column('signer_id', existing_type=sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=False)
        batch_op.drop_column('timestamp_expires')
        batch_op.drop_column('timestamp_at')
        batch_op.drop_column('level')
