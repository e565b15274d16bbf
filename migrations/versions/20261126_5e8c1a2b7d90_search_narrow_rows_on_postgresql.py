"""search on PostgreSQL: narrow rows, the agency inside the index, ranking by metadata

Revision ID: 5e8c1a2b7d90
Revises: 1fddddad3198
Create Date: 2026-11-26 05:20:00

Measured on 1,000,000 documents (docs/benchmarks.md, "registry"): the generated ``tsv`` kept the
folded text in every heap row (about 1.2 KB a row), the GIN index returned the matches of all
agencies, and ``ts_rank`` read every matching ``tsv``. Now:

- ``tsv`` is a plain column written by the application, stored out of line (EXTERNAL), and it
  carries a lexeme ``zzag<agency id>`` so the GIN index itself keeps only the agency's matches;
- ``body`` is no longer stored on PostgreSQL (the text is in ``incoming_texts``);
- ``meta_tsv`` (metadata only, small, kept in the row) is what ``ts_rank`` reads.

SQLite (FTS5) is unchanged.
"""
from __future__ import annotations

from alembic import op

revision = '5e8c1a2b7d90'
down_revision = '1fddddad3198'
branch_labels = None
depends_on = None

TSV = ("setweight(to_tsvector('simple'::regconfig, meta), 'A') || "
       "setweight(to_tsvector('simple'::regconfig, body), 'D') || "
       "to_tsvector('simple'::regconfig, 'zzag' || agency_id::text)")
OLD_TSV = ("setweight(to_tsvector('simple'::regconfig, meta), 'A') || "
           "setweight(to_tsvector('simple'::regconfig, body), 'D')")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
    op.execute("ALTER TABLE search_entries DROP COLUMN tsv")
    op.execute("ALTER TABLE search_entries ADD COLUMN tsv tsvector NOT NULL DEFAULT ''::tsvector")
    op.execute("ALTER TABLE search_entries ALTER COLUMN tsv SET STORAGE EXTERNAL")
    op.execute(f"UPDATE search_entries SET tsv = {TSV}, body = ''")
    op.execute("ALTER TABLE search_entries ADD COLUMN meta_tsv tsvector GENERATED ALWAYS AS "
               "(setweight(to_tsvector('simple'::regconfig, meta), 'A')) STORED")
    op.execute("ALTER TABLE search_entries ALTER COLUMN meta_tsv SET STORAGE MAIN")
    op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # the folded text is not kept on PostgreSQL any more: re-index after downgrading
    op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")
    op.execute("ALTER TABLE search_entries DROP COLUMN meta_tsv")
    op.execute("ALTER TABLE search_entries DROP COLUMN tsv")
    op.execute(f"ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({OLD_TSV}) STORED")
    op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
