"""ocr jobs: scanned paper read by OCRmyPDF in the worker

Revision ID: 4f0c7d2e9a15
Revises: d4a5b6c7e8f9
Create Date: 2026-12-03 21:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '4f0c7d2e9a15'
down_revision = 'd4a5b6c7e8f9'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'ocr_jobs',
        sa.Column('id', _ID, nullable=False),
        sa.Column('agency_id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('document_id', _ID, nullable=True),
        sa.Column('file_id', _ID, nullable=True),
        sa.Column('held_token', sa.String(length=32), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('output_sha256', sa.String(length=64), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', 'skipped',
                                   name='ocrstate', native_enum=False, length=10), nullable=False),
        sa.Column('pages_done', _ID, nullable=False),
        sa.Column('pages_total', _ID, nullable=False),
        sa.Column('attempts', _ID, nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_ocr_jobs_agency_id_agencies')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ocr_jobs_user_id_users')),
        sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], ondelete='CASCADE',
                                name=op.f('fk_ocr_jobs_document_id_incoming_documents')),
        sa.ForeignKeyConstraint(['file_id'], ['incoming_files.id'], ondelete='CASCADE',
                                name=op.f('fk_ocr_jobs_file_id_incoming_files')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ocr_jobs')),
    )
    with op.batch_alter_table('ocr_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocr_jobs_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ocr_jobs_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ocr_jobs_held_token'), ['held_token'], unique=False)
        batch_op.create_index('ix_ocr_jobs_state', ['state', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('ocr_jobs')
