"""Hand-over records: the accepted record's level, last timestamp and its expiry, and the
archival revisions the re-timestamp job adds

Revision ID: e4b8c2d61a37
Revises: d5e1a7c3b920
Create Date: 2026-12-04 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e4b8c2d61a37'
down_revision = 'd5e1a7c3b920'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handovers') as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=8), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('timestamp_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('timestamp_expires', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_handovers_timestamp_expires'),
                              ['timestamp_expires'], unique=False)
    op.create_table(
        'handover_archival_revisions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('handover_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('previous_sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('certificate_serial', sa.String(length=80), nullable=False),
        sa.Column('timestamp_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('timestamp_expires', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'],
                                name=op.f('fk_handover_archival_revisions_handover_id_handovers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_archival_revisions')),
    )
    op.create_index(op.f('ix_handover_archival_revisions_handover_id'),
                    'handover_archival_revisions', ['handover_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_handover_archival_revisions_handover_id'),
                  table_name='handover_archival_revisions')
    op.drop_table('handover_archival_revisions')
    with op.batch_alter_table('handovers') as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_timestamp_expires'))
        batch_op.drop_column('timestamp_expires')
        batch_op.drop_column('timestamp_at')
        batch_op.drop_column('level')
