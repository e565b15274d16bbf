"""Directory guard: the agency codes each system may register (granted by the operator), its
own base URL (callbacks go only under it), and the log of every directory change.

Existing systems get no grant: until the operator runs ``add-system ... --may-register``,
their ``registerAgency`` of a new code is refused (``agency_not_granted``); what is already
registered stays and keeps receiving.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("axis_systems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("register_patterns", sa.String(length=500), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("base_url", sa.String(length=500), nullable=True))
    with op.batch_alter_table("axis_systems", schema=None) as batch_op:
        batch_op.alter_column("register_patterns", server_default=None)
    op.create_table(
        "axis_directory_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=True),
        sa.Column("system_id", sa.String(length=64), nullable=True),
        sa.Column("old_system_id", sa.String(length=64), nullable=True),
        sa.Column("new_system_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_axis_directory_events")),
    )
    with op.batch_alter_table("axis_directory_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_axis_directory_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_axis_directory_events_organ_id"), ["organ_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("axis_directory_events")
    with op.batch_alter_table("axis_systems", schema=None) as batch_op:
        batch_op.drop_column("base_url")
        batch_op.drop_column("register_patterns")
