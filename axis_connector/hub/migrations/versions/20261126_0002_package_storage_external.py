"""Store packages uncompressed (PostgreSQL): pglz spent CPU on every insert and read of a
~300 KB package (base64 attachments compress by about a quarter) on a CPU-bound hub.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE axis_messages ALTER COLUMN package SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE axis_messages ALTER COLUMN package SET STORAGE EXTENDED")
