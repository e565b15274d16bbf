"""records retention: legal holds, destruction proposals and records

Revision ID: 7c41e9a2d5b3
Revises: a3c91e5d7f20
Create Date: 2026-12-04 08:05:52.300294
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '7c41e9a2d5b3'
down_revision = 'a3c91e5d7f20'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('destructions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'destroyed', 'rejected', name='destructionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=255), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_destructions_agency_id_agencies')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_destructions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_destructions_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destructions'))
    )
    with op.batch_alter_table('destructions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_destructions_agency_id'), ['agency_id'], unique=False)

    op.create_table('destruction_dossiers',
    sa.Column('destruction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['destruction_id'], ['destructions.id'], name=op.f('fk_destruction_dossiers_destruction_id_destructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_destruction_dossiers_dossier_id_dossiers')),
    sa.PrimaryKeyConstraint('destruction_id', 'dossier_id', name=op.f('pk_destruction_dossiers'))
    )
    with op.batch_alter_table('destruction_dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_destruction_dossiers_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('legal_holds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dossier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_legal_holds_agency_id_agencies')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_legal_holds_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_legal_holds_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_legal_holds_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_dossier_id'), ['dossier_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_dossier_id'))

    op.drop_table('legal_holds')
    with op.batch_alter_table('destruction_dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_destruction_dossiers_dossier_id'))

    op.drop_table('destruction_dossiers')
    with op.batch_alter_table('destructions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_destructions_agency_id'))

    op.drop_table('destructions')

