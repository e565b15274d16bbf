"""incoming documents and assignments

Revision ID: 3ae22f949cf7
Revises: d04220ca81cf
Create Date: 2026-11-26 04:24:25.049070
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '3ae22f949cf7'
down_revision = 'd04220ca81cf'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('saved_searches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_saved_searches_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_searches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    sa.UniqueConstraint('user_id', 'agency_id', 'name', name=op.f('uq_saved_searches_user_id_agency_id_name'))
    )
    op.create_table('incoming_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('register_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('incoming_number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('awaiting_registration', 'registered', 'distributed', 'in_progress', 'done', 'rejected', 'revoked', 'replaced', name='documentstatus', native_enum=False, length=24), nullable=False),
    sa.Column('source', sa.Enum('paper', 'axis', name='source', native_enum=False, length=8), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=True),
    sa.Column('document_identifier', sa.String(length=255), nullable=True),
    sa.Column('issuer_code', sa.String(length=35), nullable=False),
    sa.Column('issuer_name', sa.String(length=255), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('notation', sa.String(length=60), nullable=False),
    sa.Column('number_notation', sa.String(length=90), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('doc_type', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('signer', sa.String(length=255), nullable=False),
    sa.Column('page_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'very_urgent', 'flash', name='urgency', native_enum=False, length=16), nullable=False),
    sa.Column('confidentiality', sa.Enum('normal', 'confidential', 'secret', 'top_secret', name='confidentiality', native_enum=False, length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('distributed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_number', sa.String(length=90), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_incoming_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_incoming_documents_register_id_registers')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_incoming_documents_registered_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_documents')),
    sa.UniqueConstraint('agency_id', 'submission_id', name=op.f('uq_incoming_documents_agency_id_submission_id')),
    sa.UniqueConstraint('register_id', 'incoming_number', name=op.f('uq_incoming_documents_register_id_incoming_number'))
    )
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_documents_agency_arrived', ['agency_id', 'arrived_at'], unique=False)
        batch_op.create_index('ix_incoming_documents_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.create_index('ix_incoming_documents_docid', ['agency_id', 'document_identifier'], unique=False)
        batch_op.create_index('ix_incoming_documents_dup', ['agency_id', 'issuer_code', 'number_notation'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('role', sa.Enum('lead', 'co', 'info', name='assignmentrole', native_enum=False, length=8), nullable=False),
    sa.Column('assignee_department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assignee_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'in_progress', 'extension_requested', 'delegated', 'done', 'returned', name='assignmentstatus', native_enum=False, length=24), nullable=False),
    sa.Column('assigned_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_note', sa.Text(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('reply_number', sa.String(length=90), nullable=False),
    sa.Column('return_reason', sa.Text(), nullable=False),
    sa.Column('requested_deadline', sa.Date(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_assignments_agency_id_agencies')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['assignee_department_id'], ['departments.id'], name=op.f('fk_assignments_assignee_department_id_departments')),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['users.id'], name=op.f('fk_assignments_assignee_user_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_assignments_document_id_incoming_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['assignments.id'], name=op.f('fk_assignments_parent_id_assignments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_agency_deadline', ['agency_id', 'status', 'deadline'], unique=False)
        batch_op.create_index('ix_assignments_dept_open', ['assignee_department_id', 'status', 'deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_assignments_user_open', ['assignee_user_id', 'status', 'deadline'], unique=False)

    op.create_table('incoming_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('page_count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signature_verdict', sa.String(length=20), nullable=False),
    sa.Column('signature_summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_incoming_files_document_id_incoming_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_files'))
    )
    with op.batch_alter_table('incoming_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_files_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incoming_files_sha256'), ['sha256'], unique=False)

    op.create_table('incoming_texts',
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_incoming_texts_document_id_incoming_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_incoming_texts'))
    )



def downgrade() -> None:

    op.drop_table('incoming_texts')
    with op.batch_alter_table('incoming_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_files_sha256'))
        batch_op.drop_index(batch_op.f('ix_incoming_files_document_id'))

    op.drop_table('incoming_files')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_user_open')
        batch_op.drop_index(batch_op.f('ix_assignments_document_id'))
        batch_op.drop_index('ix_assignments_dept_open')
        batch_op.drop_index('ix_assignments_agency_deadline')

    op.drop_table('assignments')
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_documents_dup')
        batch_op.drop_index('ix_incoming_documents_docid')
        batch_op.drop_index('ix_incoming_documents_agency_status')
        batch_op.drop_index('ix_incoming_documents_agency_arrived')

    op.drop_table('incoming_documents')
    op.drop_table('saved_searches')

