"""Full-text search over incoming documents (SQLite FTS5, PostgreSQL full-text search)."""

from ioffice.search.service import (
    SearchError,
    SearchPage,
    SearchResult,
    delete_saved,
    get_saved,
    index_incoming,
    index_new_incoming,
    list_saved,
    run_saved,
    save_search,
    search,
)

__all__ = ["SearchError", "SearchPage", "SearchResult", "delete_saved", "get_saved",
           "index_incoming", "index_new_incoming", "list_saved", "run_saved", "save_search", "search"]
