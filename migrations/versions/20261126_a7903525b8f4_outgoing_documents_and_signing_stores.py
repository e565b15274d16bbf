"""outgoing documents and signing stores

Revision ID: a7903525b8f4
Revises: 22da32897e37
Create Date: 2026-11-26 04:44:29.938962
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'a7903525b8f4'
down_revision = '22da32897e37'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_pending',
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('record', sa.LargeBinary(), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('handle', name=op.f('pk_signing_pending'))
    )
    op.create_table('signing_pin_attempts',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_pin_attempts'))
    )
    op.create_table('outgoing_review_chains',
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('steps', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_outgoing_review_chains_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_outgoing_review_chains'))
    )
    op.create_table('outgoing_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'approved', 'signed', 'numbered', 'sealed', 'dispatched', 'revoked', 'replaced', name='outgoingstatus', native_enum=False, length=16), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'very_urgent', 'flash', name='urgency', native_enum=False, length=16), nullable=False),
    sa.Column('confidentiality', sa.Enum('normal', 'confidential', 'secret', 'top_secret', name='confidentiality', native_enum=False, length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('drafting_department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signer_position', sa.String(length=255), nullable=False),
    sa.Column('reply_to_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('replaces_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('copies', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('review_step', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stamp_page', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stamp_x1', sa.Double(), nullable=True),
    sa.Column('stamp_y1', sa.Double(), nullable=True),
    sa.Column('current_sha256', sa.String(length=64), nullable=False),
    sa.Column('page_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('register_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('number_text', sa.String(length=20), nullable=False),
    sa.Column('notation', sa.String(length=60), nullable=False),
    sa.Column('number_notation', sa.String(length=90), nullable=False),
    sa.Column('promulgation_date', sa.Date(), nullable=True),
    sa.Column('document_identifier', sa.String(length=255), nullable=False),
    sa.Column('numbered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pending_handle', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_outgoing_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_outgoing_documents_created_by_id_users')),
    sa.ForeignKeyConstraint(['drafting_department_id'], ['departments.id'], name=op.f('fk_outgoing_documents_drafting_department_id_departments')),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_outgoing_documents_register_id_registers')),
    sa.ForeignKeyConstraint(['replaces_id'], ['outgoing_documents.id'], name=op.f('fk_outgoing_documents_replaces_id_outgoing_documents')),
    sa.ForeignKeyConstraint(['reply_to_id'], ['incoming_documents.id'], name=op.f('fk_outgoing_documents_reply_to_id_incoming_documents')),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_outgoing_documents_signer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_documents')),
    sa.UniqueConstraint('register_id', 'number', name=op.f('uq_outgoing_documents_register_id_number'))
    )
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_documents_agency_status', ['agency_id', 'status'], unique=False)

    op.create_table('outgoing_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('version_no', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_outgoing_comments_author_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['outgoing_documents.id'], name=op.f('fk_outgoing_comments_document_id_outgoing_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_comments'))
    )
    with op.batch_alter_table('outgoing_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_comments_document_id'), ['document_id'], unique=False)

    op.create_table('outgoing_recipients',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('department', 'agency', name='recipientkind', native_enum=False, length=16), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agency_code', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'sent', 'revoked', name='recipientstatus', native_enum=False, length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_outgoing_recipients_department_id_departments')),
    sa.ForeignKeyConstraint(['document_id'], ['outgoing_documents.id'], name=op.f('fk_outgoing_recipients_document_id_outgoing_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_recipients'))
    )
    with op.batch_alter_table('outgoing_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_recipients_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_recipients_document_id'), ['document_id'], unique=False)

    op.create_table('outgoing_signatures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('previous_sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('certificate_serial', sa.String(length=64), nullable=False),
    sa.Column('signer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['outgoing_documents.id'], name=op.f('fk_outgoing_signatures_document_id_outgoing_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_outgoing_signatures_signer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_signatures'))
    )
    with op.batch_alter_table('outgoing_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_signatures_document_id'), ['document_id'], unique=False)

    op.create_table('outgoing_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_no', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('page_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_filename', sa.String(length=255), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('uploaded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['outgoing_documents.id'], name=op.f('fk_outgoing_versions_document_id_outgoing_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_outgoing_versions_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_versions')),
    sa.UniqueConstraint('document_id', 'version_no', name=op.f('uq_outgoing_versions_document_id_version_no'))
    )


def downgrade() -> None:
    op.drop_table('outgoing_versions')
    with op.batch_alter_table('outgoing_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_signatures_document_id'))

    op.drop_table('outgoing_signatures')
    with op.batch_alter_table('outgoing_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_recipients_document_id'))
        batch_op.drop_index(batch_op.f('ix_outgoing_recipients_department_id'))

    op.drop_table('outgoing_recipients')
    with op.batch_alter_table('outgoing_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_comments_document_id'))

    op.drop_table('outgoing_comments')
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_documents_agency_status')

    op.drop_table('outgoing_documents')
    op.drop_table('outgoing_review_chains')
    op.drop_table('signing_pin_attempts')
    op.drop_table('signing_pending')
