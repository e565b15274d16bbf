"""Full-text search over incoming documents (SQLite FTS5, PostgreSQL full-text search)."""
