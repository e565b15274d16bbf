"""dossiers added to an approved list; the archive told once when retention ends

Revision ID: a7c4e9d2b815
Revises: f3a9c2e7b514
Create Date: 2026-12-04 16:20:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'a7c4e9d2b815'
down_revision = 'f3a9c2e7b514'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('added_by_id', _ID, nullable=True))
        batch_op.add_column(sa.Column('expiry_notified_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_added_by_id_users'), 'users', ['added_by_id'], ['id'])

    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_notified_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('imported_packages', schema=None) as batch_op:
        batch_op.drop_column('expiry_notified_on')

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossiers_added_by_id_users'), type_='foreignkey')
        batch_op.drop_column('expiry_notified_on')
        batch_op.drop_column('added_by_id')
        batch_op.drop_column('added_at')
