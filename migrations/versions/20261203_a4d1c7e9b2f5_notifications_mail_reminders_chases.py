"""notifications, their channels, the mail outbox, deadline reminders and chases (issue 21)

Revision ID: a4d1c7e9b2f5
Revises: 5b2e8d1c7a40
Create Date: 2026-12-03 21:14:50.321087
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a4d1c7e9b2f5'
down_revision = '5b2e8d1c7a40'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('mail_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_address', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=255), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'dead', name='mailstate', native_enum=False, length=8), nullable=False),
    sa.Column('attempts', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_mail_outbox_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_outbox_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('notification_mail_settings',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.Column('digest_after_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest_sent_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_mail_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_mail_settings'))
    )
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('to_register', 'assigned', 'due_soon', 'overdue', 'chased', 'to_review', 'to_sign', 'returned', 'exchange_request', 'status_back', 'dead_letter', name='kind', native_enum=False, length=24), nullable=False),
    sa.Column('channel', sa.Enum('app', 'email', 'both', 'none', name='channel', native_enum=False, length=8), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('to_register', 'assigned', 'due_soon', 'overdue', 'chased', 'to_review', 'to_sign', 'returned', 'exchange_request', 'status_back', 'dead_letter', name='kind', native_enum=False, length=24), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('link', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('in_app', sa.Boolean(), nullable=False),
    sa.Column('by_email', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_notifications_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)
        batch_op.create_index('ix_notifications_user_subject', ['user_id', 'subject_type', 'subject_id'], unique=False)

    op.create_table('reminder_settings',
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('days_before', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_reminder_settings_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_reminder_settings'))
    )
    op.create_table('chases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_chases_agency_id_agencies')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_chases_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_chases_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_chases_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chases'))
    )
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.create_index('ix_chases_agency_created', ['agency_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chases_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chases_department_id'), ['department_id'], unique=False)

    op.create_table('reminders_sent',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assignment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('to_register', 'assigned', 'due_soon', 'overdue', 'chased', 'to_review', 'to_sign', 'returned', 'exchange_request', 'status_back', 'dead_letter', name='kind', native_enum=False, length=24), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_reminders_sent_assignment_id_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('assignment_id', 'kind', 'deadline', name=op.f('uq_reminders_sent_assignment_id_kind_deadline'))
    )



def downgrade() -> None:

    op.drop_table('reminders_sent')
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chases_department_id'))
        batch_op.drop_index(batch_op.f('ix_chases_assignment_id'))
        batch_op.drop_index('ix_chases_agency_created')

    op.drop_table('chases')
    op.drop_table('reminder_settings')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_subject')
        batch_op.drop_index('ix_notifications_user_unread')
        batch_op.drop_index('ix_notifications_user_id')

    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    op.drop_table('notification_mail_settings')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_state_next')

    op.drop_table('mail_outbox')

