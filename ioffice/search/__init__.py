"""Full-text search over incoming and outgoing documents (SQLite FTS5, PostgreSQL full-text
search)."""

from ioffice.search.service import (
    DIRECTIONS,
    INCOMING,
    OUTGOING,
    Filters,
    SearchError,
    SearchPage,
    SearchResult,
    delete_saved,
    get_saved,
    index_incoming,
    index_new_incoming,
    index_outgoing,
    list_saved,
    run_saved,
    save_search,
    search,
)

__all__ = ["DIRECTIONS", "INCOMING", "OUTGOING", "Filters", "SearchError", "SearchPage",
           "SearchResult", "delete_saved", "get_saved", "index_incoming", "index_new_incoming",
           "index_outgoing", "list_saved", "run_saved", "save_search", "search"]
