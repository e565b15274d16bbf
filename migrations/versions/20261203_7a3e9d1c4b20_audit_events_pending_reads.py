"""audit_events: pending (unchained) events of reads: seq and prev_hash nullable, and the
chainer's partial index

Revision ID: 7a3e9d1c4b20
Revises: 2c5c2b56de90
Create Date: 2026-12-03 11:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '7a3e9d1c4b20'
down_revision = '2c5c2b56de90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events') as batch:
        batch.alter_column('seq', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                           nullable=True)
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
    op.create_index('ix_audit_events_pending', 'audit_events', ['chain', 'id'], unique=False,
                    sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))


def downgrade() -> None:
    # chain what is still pending first (flask audit chain): NOT NULL fails on pending rows
    op.drop_index('ix_audit_events_pending', table_name='audit_events')
    with op.batch_alter_table('audit_events') as batch:
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('seq', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                           nullable=False)
