"""search: outgoing documents (their own entries and full-text index)

Revision ID: 9d4a7e2c5b18
Revises: 817791f948e2
Create Date: 2026-12-03 08:00:00

``search_outgoing_entries`` mirrors ``search_entries`` for outgoing documents: FTS5 with external
content and three triggers on SQLite; a ``tsv`` written by the application (with the agency's
lexeme), a generated ``meta_tsv`` and a GIN index on PostgreSQL (docs/search.md). Existing
documents get their metadata indexed here (folded as ``ioffice.search.text.fold_words`` does);
their PDF text is indexed at their next version.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '9d4a7e2c5b18'
down_revision = '817791f948e2'
branch_labels = None
depends_on = None

TSV = ("setweight(to_tsvector('simple'::regconfig, meta), 'A') || "
       "setweight(to_tsvector('simple'::regconfig, body), 'D') || "
       "to_tsvector('simple'::regconfig, 'zzag' || agency_id::text)")

SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_outgoing_fts USING fts5(meta, body, "
    "content='search_outgoing_entries', content_rowid='document_id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_outgoing_entries_ai AFTER INSERT ON search_outgoing_entries BEGIN "
    "INSERT INTO search_outgoing_fts(rowid, meta, body) VALUES (new.document_id, new.meta, new.body); END",
    "CREATE TRIGGER search_outgoing_entries_ad AFTER DELETE ON search_outgoing_entries BEGIN "
    "INSERT INTO search_outgoing_fts(search_outgoing_fts, rowid, meta, body) "
    "VALUES ('delete', old.document_id, old.meta, old.body); END",
    "CREATE TRIGGER search_outgoing_entries_au AFTER UPDATE ON search_outgoing_entries BEGIN "
    "INSERT INTO search_outgoing_fts(search_outgoing_fts, rowid, meta, body) "
    "VALUES ('delete', old.document_id, old.meta, old.body); "
    "INSERT INTO search_outgoing_fts(rowid, meta, body) VALUES (new.document_id, new.meta, new.body); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_outgoing_entries_au",
    "DROP TRIGGER IF EXISTS search_outgoing_entries_ad",
    "DROP TRIGGER IF EXISTS search_outgoing_entries_ai",
    "DROP TABLE IF EXISTS search_outgoing_fts",
]
_NON_WORD = re.compile(r"[\W_]+")


def _fold_words(text: str) -> str:
    """A frozen copy of ``ioffice.search.text.fold_words`` (migrations never import app code)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.split(unicodedata.normalize("NFC", stripped).lower())).strip()


def upgrade() -> None:
    op.create_table(
        'search_outgoing_entries',
        sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('meta', sa.Text(), server_default='', nullable=False),
        sa.Column('body', sa.Text(), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_search_outgoing_entries_agency_id_agencies')),
        sa.ForeignKeyConstraint(['document_id'], ['outgoing_documents.id'], ondelete='CASCADE',
                                name=op.f('fk_search_outgoing_entries_document_id_outgoing_documents')),
        sa.PrimaryKeyConstraint('document_id', name=op.f('pk_search_outgoing_entries')))
    with op.batch_alter_table('search_outgoing_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outgoing_entries_agency_id'), ['agency_id'],
                              unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("ALTER TABLE search_outgoing_entries ADD COLUMN tsv tsvector NOT NULL "
                   "DEFAULT ''::tsvector")
        op.execute("ALTER TABLE search_outgoing_entries ALTER COLUMN tsv SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE search_outgoing_entries ADD COLUMN meta_tsv tsvector GENERATED "
                   "ALWAYS AS (setweight(to_tsvector('simple'::regconfig, meta), 'A')) STORED")
        op.execute("CREATE INDEX ix_search_outgoing_entries_tsv ON search_outgoing_entries "
                   "USING gin (tsv)")
    elif dialect == 'sqlite':
        for statement in SQLITE_UP:
            op.execute(statement)
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, agency_id, subject, number_notation, notes, signer_position "
        "FROM outgoing_documents")).all()
    if rows:
        bind.execute(sa.text("INSERT INTO search_outgoing_entries (document_id, agency_id, meta, body) "
                             "VALUES (:id, :agency_id, :meta, '')"),
                     [{"id": r.id, "agency_id": r.agency_id,
                       "meta": _fold_words(" ".join(p for p in (r.subject, r.number_notation,
                                                                 r.notes, r.signer_position) if p))}
                      for r in rows])
        if dialect == 'postgresql':
            op.execute(f"UPDATE search_outgoing_entries SET tsv = {TSV}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_outgoing_entries_tsv")
    with op.batch_alter_table('search_outgoing_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_outgoing_entries_agency_id'))
    op.drop_table('search_outgoing_entries')
