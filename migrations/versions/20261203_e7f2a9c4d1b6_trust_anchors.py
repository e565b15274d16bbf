"""trust anchors: root and intermediate CA certificates imported by the administrator

Revision ID: e7f2a9c4d1b6
Revises: c5e8a1f40b93
Create Date: 2026-12-03 18:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e7f2a9c4d1b6'
down_revision = 'c5e8a1f40b93'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trust_anchors',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('der', sa.LargeBinary(), nullable=False),
        sa.Column('subject', sa.String(length=1000), nullable=False),
        sa.Column('issuer', sa.String(length=1000), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('is_root', sa.Boolean(), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('imported_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.ForeignKeyConstraint(['imported_by'], ['users.id'],
                                name=op.f('fk_trust_anchors_imported_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_anchors')),
        sa.UniqueConstraint('fingerprint', name=op.f('uq_trust_anchors_fingerprint')),
    )


def downgrade() -> None:
    op.drop_table('trust_anchors')
