"""dashboard daily sums: updated_at on the counted tables, the summaries and their state

The worker's ``dashboard-sums`` job keeps per agency and day the grouped rows the dashboards'
live queries produce (``dashboard_days``); it finds the days to recompute by ``updated_at``
(set on every insert and update) of incoming documents, assignments and outgoing documents.
Open assignments, read live, get a partial (covering on PostgreSQL) index.
Existing rows keep NULL: the job's first run computes every day.

Revision ID: 227102a4cc76
Revises: 4f0c7d2e9a15
Create Date: 2026-12-04 07:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '227102a4cc76'
down_revision = '4f0c7d2e9a15'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TABLES = ('incoming_documents', 'assignments', 'outgoing_documents')
_OPEN = "status IN ('pending', 'in_progress', 'extension_requested')"


def upgrade() -> None:
    op.create_table(
        'dashboard_days',
        sa.Column('id', _ID, nullable=False),
        sa.Column('agency_id', _ID, nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('department_id', _ID, nullable=True),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('n', _ID, nullable=False),
        sa.Column('signed', _ID, nullable=False),
        sa.Column('axis', _ID, nullable=False),
        sa.Column('on_time', _ID, nullable=False),
        sa.Column('late', _ID, nullable=False),
        sa.Column('seconds', sa.Double(), nullable=False),
        sa.Column('timed', _ID, nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_dashboard_days_agency_id_agencies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_days')),
    )
    op.create_index('ix_dashboard_days_agency_day', 'dashboard_days',
                    ['agency_id', 'day'], unique=False)
    op.create_table(
        'dashboard_sums_state',
        sa.Column('id', _ID, nullable=False),
        sa.Column('watermark', sa.DateTime(timezone=True), nullable=False),
        sa.Column('offset_s', _ID, nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('full_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('days', _ID, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_sums_state')),
    )
    for table in _TABLES:
        op.add_column(table, sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        op.create_index(op.f(f'ix_{table}_updated_at'), table, ['updated_at'], unique=False)
    # the open assignments, always read live by the dashboards: index-only on PostgreSQL
    op.create_index('ix_assignments_open_assigned', 'assignments', ['agency_id', 'assigned_at'],
                    unique=False,
                    postgresql_include=['assignee_department_id', 'assignee_user_id', 'deadline',
                                        'role'],
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))


def downgrade() -> None:
    op.drop_index('ix_assignments_open_assigned', table_name='assignments')
    for table in _TABLES:  # a plain column: SQLite drops it natively (no table rebuilt)
        op.drop_index(op.f(f'ix_{table}_updated_at'), table_name=table)
        op.drop_column(table, 'updated_at')
    op.drop_table('dashboard_sums_state')
    op.drop_index('ix_dashboard_days_agency_day', table_name='dashboard_days')
    op.drop_table('dashboard_days')
