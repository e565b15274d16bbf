"""dashboards indexes and the work calendar

The dashboards' scans read covering indexes on PostgreSQL (INCLUDE): the incoming documents'
(agency, arrived) index is rebuilt with the columns the monthly counts need; assignments and
outgoing documents get an (agency, moment) index each, the outbox one for its sent packages.

Revision ID: d4a5b6c7e8f9
Revises: a4d1c7e9b2f5
Create Date: 2026-12-03 21:12:35.943914
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd4a5b6c7e8f9'
down_revision = 'a4d1c7e9b2f5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feed_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_calendar_feed_tokens_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_tokens_token_hash')),
    sa.UniqueConstraint('user_id', 'agency_id', name=op.f('uq_calendar_feed_tokens_user_id_agency_id'))
    )
    op.create_table('calendar_weeks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_calendar_weeks_agency_id_agencies')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_calendar_weeks_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_weeks')),
    sa.UniqueConstraint('agency_id', 'week_start', name=op.f('uq_calendar_weeks_agency_id_week_start'))
    )
    op.create_table('calendar_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('week_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('chair', sa.String(length=255), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('preparation', sa.String(length=255), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_calendar_events_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calendar_events_created_by_id_users')),
    sa.ForeignKeyConstraint(['week_id'], ['calendar_weeks.id'], name=op.f('fk_calendar_events_week_id_calendar_weeks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_events'))
    )
    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_events_agency_day', ['agency_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_events_week_id'), ['week_id'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_agency_assigned', ['agency_id', 'assigned_at'], unique=False,
                              postgresql_include=['assignee_department_id', 'assignee_user_id',
                                                  'status', 'role', 'deadline', 'finished_at'])

    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_outbox_agency_sent', ['agency_id', 'sent_at'], unique=False)

    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_documents_agency_dispatched', ['agency_id', 'dispatched_at'], unique=False,
                              postgresql_include=['signed_at'])

    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_incoming_documents_agency_arrived', table_name='incoming_documents')
        op.create_index('ix_incoming_documents_agency_arrived', 'incoming_documents',
                        ['agency_id', 'arrived_at'],
                        postgresql_include=['source', 'status', 'registered_at', 'receipt_flags'])



def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_incoming_documents_agency_arrived', table_name='incoming_documents')
        op.create_index('ix_incoming_documents_agency_arrived', 'incoming_documents',
                        ['agency_id', 'arrived_at'])
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_documents_agency_dispatched')

    with op.batch_alter_table('exchange_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_outbox_agency_sent')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_agency_assigned')

    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_events_week_id'))
        batch_op.drop_index('ix_calendar_events_agency_day')

    op.drop_table('calendar_events')
    op.drop_table('calendar_weeks')
    op.drop_table('calendar_feed_tokens')
