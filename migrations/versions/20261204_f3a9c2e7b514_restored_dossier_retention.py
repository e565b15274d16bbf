"""restored dossiers held, proposed and destroyed like dossiers of the list

Revision ID: f3a9c2e7b514
Revises: e4b8c2d61a37
Create Date: 2026-12-04 14:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'f3a9c2e7b514'
down_revision = 'e4b8c2d61a37'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('destruction_packages',
    sa.Column('destruction_id', _ID, nullable=False),
    sa.Column('package_id', _ID, nullable=False),
    sa.ForeignKeyConstraint(['destruction_id'], ['destructions.id'], name=op.f('fk_destruction_packages_destruction_id_destructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['imported_packages.id'], name=op.f('fk_destruction_packages_package_id_imported_packages')),
    sa.PrimaryKeyConstraint('destruction_id', 'package_id', name=op.f('pk_destruction_packages'))
    )
    with op.batch_alter_table('destruction_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_destruction_packages_package_id'), ['package_id'], unique=False)

    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('destruction_id', _ID, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_imported_packages_destruction_id_destructions'), 'destructions', ['destruction_id'], ['id'])

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('package_id', _ID, nullable=True))
        batch_op.alter_column('dossier_id', existing_type=_ID, nullable=True)
        batch_op.create_index(batch_op.f('ix_legal_holds_package_id'), ['package_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_legal_holds_package_id_imported_packages'), 'imported_packages', ['package_id'], ['id'])
        batch_op.create_check_constraint('one_holding', '(dossier_id IS NULL) <> (package_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM legal_holds WHERE package_id IS NOT NULL")
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_legal_holds_one_holding'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_legal_holds_package_id_imported_packages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_legal_holds_package_id'))
        batch_op.alter_column('dossier_id', existing_type=_ID, nullable=False)
        batch_op.drop_column('package_id')

    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_imported_packages_destruction_id_destructions'), type_='foreignkey')
        batch_op.drop_column('destruction_id')

    with op.batch_alter_table('destruction_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_destruction_packages_package_id'))

    op.drop_table('destruction_packages')
