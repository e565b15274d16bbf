"""document copies: sao y, sao lục, trích sao (Decree 30 articles 25-27)

Revision ID: 298c0c5a181e
Revises: 8b3e5d1c9f27
Create Date: 2026-12-04 07:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '298c0c5a181e'
down_revision = '8b3e5d1c9f27'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'document_copies',
        sa.Column('id', _ID, nullable=False),
        sa.Column('agency_id', _ID, nullable=False),
        sa.Column('kind', sa.Enum('sao_y', 'sao_luc', 'trich_sao', name='copykind',
                                  native_enum=False, length=16), nullable=False),
        sa.Column('status', sa.Enum('requested', 'made', name='copystatus', native_enum=False,
                                    length=16), nullable=False),
        sa.Column('submission_id', sa.String(length=64), nullable=False),
        sa.Column('incoming_id', _ID, nullable=True),
        sa.Column('outgoing_id', _ID, nullable=True),
        sa.Column('from_copy_id', _ID, nullable=True),
        sa.Column('pages', sa.String(length=200), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('decided_by_id', _ID, nullable=False),
        sa.Column('signer_title', sa.String(length=255), nullable=False),
        sa.Column('requested_by_id', _ID, nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('register_id', _ID, nullable=True),
        sa.Column('year', _ID, nullable=True),
        sa.Column('number', _ID, nullable=True),
        sa.Column('number_notation', sa.String(length=90), nullable=False),
        sa.Column('copy_date', sa.Date(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', _ID, nullable=False),
        sa.Column('page_count', _ID, nullable=False),
        sa.Column('certificate_serial', sa.String(length=80), nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('made_by_id', _ID, nullable=True),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(incoming_id IS NULL) <> (outgoing_id IS NULL)',
                           name=op.f('ck_document_copies_one_original')),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_document_copies_agency_id_agencies')),
        sa.ForeignKeyConstraint(['incoming_id'], ['incoming_documents.id'],
                                name=op.f('fk_document_copies_incoming_id_incoming_documents')),
        sa.ForeignKeyConstraint(['outgoing_id'], ['outgoing_documents.id'],
                                name=op.f('fk_document_copies_outgoing_id_outgoing_documents')),
        sa.ForeignKeyConstraint(['from_copy_id'], ['document_copies.id'],
                                name=op.f('fk_document_copies_from_copy_id_document_copies')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_document_copies_decided_by_id_users')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_document_copies_requested_by_id_users')),
        sa.ForeignKeyConstraint(['made_by_id'], ['users.id'],
                                name=op.f('fk_document_copies_made_by_id_users')),
        sa.ForeignKeyConstraint(['register_id'], ['registers.id'],
                                name=op.f('fk_document_copies_register_id_registers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_copies')),
        sa.UniqueConstraint('agency_id', 'year', 'number',
                            name=op.f('uq_document_copies_agency_id_year_number')),
        sa.UniqueConstraint('agency_id', 'submission_id',
                            name=op.f('uq_document_copies_agency_id_submission_id')),
    )
    with op.batch_alter_table('document_copies', schema=None) as batch_op:
        batch_op.create_index('ix_document_copies_incoming', ['incoming_id'], unique=False)
        batch_op.create_index('ix_document_copies_outgoing', ['outgoing_id'], unique=False)
        batch_op.create_index('ix_document_copies_agency_requested',
                              ['agency_id', 'requested_at'], unique=False)


def downgrade() -> None:
    op.drop_table('document_copies')
