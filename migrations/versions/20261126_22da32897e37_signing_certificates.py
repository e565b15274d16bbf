"""signing certificates

Revision ID: 22da32897e37
Revises: 7c1e5a9b3d42
Create Date: 2026-11-26 04:38:10.217422
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '22da32897e37'
down_revision = '7c1e5a9b3d42'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('signing_certificates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('holder', sa.Enum('agency_seal', 'pin', 'browser', name='keyholder', native_enum=False, length=16), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('protected_key', sa.LargeBinary(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_signing_certificates_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signing_certificates_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_certificates')),
    sa.UniqueConstraint('serial', name=op.f('uq_signing_certificates_serial'))
    )
    with op.batch_alter_table('signing_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_certificates_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signing_certificates_user_id'), ['user_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('signing_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_certificates_user_id'))
        batch_op.drop_index(batch_op.f('ix_signing_certificates_agency_id'))

    op.drop_table('signing_certificates')

