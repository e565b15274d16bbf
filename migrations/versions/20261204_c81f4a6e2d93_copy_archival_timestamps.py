"""Copies: the file's newest timestamp and its expiry, and the archival revisions the
re-timestamp job adds

Revision ID: c81f4a6e2d93
Revises: 7c41e9a2d5b3
Create Date: 2026-12-04 08:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c81f4a6e2d93'
down_revision = '7c41e9a2d5b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document_copies') as batch_op:
        batch_op.add_column(sa.Column('timestamp_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('timestamp_expires', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_document_copies_timestamp_expires'),
                              ['timestamp_expires'], unique=False)
    op.create_table(
        'document_copy_archival_revisions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('copy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('previous_sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('certificate_serial', sa.String(length=80), nullable=False),
        sa.Column('timestamp_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('timestamp_expires', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['copy_id'], ['document_copies.id'],
                                name=op.f('fk_document_copy_archival_revisions_copy_id_document_copies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_copy_archival_revisions')),
    )
    op.create_index(op.f('ix_document_copy_archival_revisions_copy_id'),
                    'document_copy_archival_revisions', ['copy_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_document_copy_archival_revisions_copy_id'),
                  table_name='document_copy_archival_revisions')
    op.drop_table('document_copy_archival_revisions')
    with op.batch_alter_table('document_copies') as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_copies_timestamp_expires'))
        batch_op.drop_column('timestamp_expires')
        batch_op.drop_column('timestamp_at')
