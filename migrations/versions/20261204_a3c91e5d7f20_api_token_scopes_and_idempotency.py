"""API tokens get scopes and an expiry; idempotency keys of creating POSTs

Revision ID: a3c91e5d7f20
Revises: 298c0c5a181e
Create Date: 2026-12-04 07:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a3c91e5d7f20'
down_revision = '298c0c5a181e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # tokens issued before scopes keep what they could do: read and write (signing is new)
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('scopes', sa.String(length=64), nullable=False,
                                   server_default='read,write'))
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'api_idempotency_keys',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('token_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], ondelete='CASCADE',
                                name=op.f('fk_api_idempotency_keys_token_id_api_tokens')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
        sa.UniqueConstraint('token_id', 'key', name=op.f('uq_api_idempotency_keys_token_id_key')),
    )
    op.create_index(op.f('ix_api_idempotency_keys_created_at'), 'api_idempotency_keys',
                    ['created_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_api_idempotency_keys_created_at'), table_name='api_idempotency_keys')
    op.drop_table('api_idempotency_keys')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('scopes')
