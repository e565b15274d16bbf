"""search: full-text index (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 7c1e5a9b3d42
Revises: 25f552df7754
Create Date: 2026-11-26 09:00:00

``search_entries`` gets ``meta`` (folded metadata, ranked above the text). The engine-specific
index is not in the models; migrations/env.py keeps ``alembic check`` from reporting it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '7c1e5a9b3d42'
down_revision = '25f552df7754'
branch_labels = None
depends_on = None

PG_TSV = ("setweight(to_tsvector('simple'::regconfig, meta), 'A') || "
          "setweight(to_tsvector('simple'::regconfig, body), 'D')")

SQLITE_UP = [
    # external content: the text lives once, in search_entries; FTS5 keeps only the index
    "CREATE VIRTUAL TABLE search_fts USING fts5(meta, body, content='search_entries', "
    "content_rowid='document_id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, meta, body) VALUES (new.document_id, new.meta, new.body); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, meta, body) "
    "VALUES ('delete', old.document_id, old.meta, old.body); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, meta, body) "
    "VALUES ('delete', old.document_id, old.meta, old.body); "
    "INSERT INTO search_fts(rowid, meta, body) VALUES (new.document_id, new.meta, new.body); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_entries_au",
    "DROP TRIGGER IF EXISTS search_entries_ad",
    "DROP TRIGGER IF EXISTS search_entries_ai",
    "DROP TABLE IF EXISTS search_fts",
]


def upgrade() -> None:
    op.add_column('search_entries', sa.Column('meta', sa.Text(), server_default='', nullable=False))
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"ALTER TABLE search_entries ADD COLUMN tsv tsvector "
                   f"GENERATED ALWAYS AS ({PG_TSV}) STORED")
        op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
    elif dialect == 'sqlite':
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
        op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv")
    elif dialect == 'sqlite':
        for statement in SQLITE_DOWN:
            op.execute(statement)
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.drop_column('meta')
