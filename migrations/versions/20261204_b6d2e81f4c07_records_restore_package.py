"""records: restore an imported dossier package (its metadata, documents and files)

Revision ID: b6d2e81f4c07
Revises: c81f4a6e2d93
Create Date: 2026-12-04 08:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'b6d2e81f4c07'
down_revision = 'c81f4a6e2d93'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keeper_name', sa.String(length=255), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('end_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('page_count', _ID, nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('toc_sha256', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('title_folded', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        for name in ('keeper_name', 'description', 'toc_sha256', 'title_folded'):
            batch_op.alter_column(name, server_default=None)

    op.create_table('imported_documents',
    sa.Column('id', _ID, nullable=False),
    sa.Column('agency_id', _ID, nullable=False),
    sa.Column('package_id', _ID, nullable=False),
    sa.Column('ordinal', _ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('type_name', sa.String(length=255), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('notation', sa.String(length=255), nullable=False),
    sa.Column('issued_date', sa.String(length=32), nullable=False),
    sa.Column('organ_name', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_imported_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['package_id'], ['imported_packages.id'], name=op.f('fk_imported_documents_package_id_imported_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_documents'))
    )
    with op.batch_alter_table('imported_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_documents_package_id'), ['package_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('imported_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_documents_package_id'))
    op.drop_table('imported_documents')
    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        for name in ('title_folded', 'toc_sha256', 'description', 'page_count', 'end_date',
                     'start_date', 'keeper_name'):
            batch_op.drop_column(name)
