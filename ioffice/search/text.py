"""Folding text for the index and queries, and marking query terms in what is shown."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from ioffice.documents.vocabulary import fold

# Only letters and digits reach either full-text engine: punctuation becomes a space on both
# sides, so "15/QĐ-UBND" is the words 15, qd, ubnd for the index and for the query alike, and no
# FTS5 or tsquery syntax character can get through.
_NON_WORD = re.compile(r"[\W_]+")
MAX_QUERY_CHARS = 500
MAX_TERMS = 24
_WORD = re.compile(r"(\w+)")


def fold_words(text: str) -> str:
    """``"Số 15/QĐ-UBND"`` -> ``"so 15 qd ubnd"``."""
    return " ".join(_NON_WORD.split(fold(text))).strip()


def query_terms(query: str) -> list[str]:
    """The distinct folded words of a query, in order, at most ``MAX_TERMS``."""
    seen: dict[str, None] = {}
    for word in fold_words(query).split():
        seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


def highlight(text: str, terms: list[str] | set[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_match) pieces; a word matches when its folded form is a
    query term. The pieces join back to ``text`` exactly."""
    wanted = set(terms)
    pieces: list[tuple[str, bool]] = []
    for part in _WORD.split(text):
        if not part:
            continue
        hit = bool(wanted) and part[0].isalnum() and _folded_word(part) in wanted
        if pieces and pieces[-1][1] == hit:
            pieces[-1] = (pieces[-1][0] + part, hit)
        else:
            pieces.append((part, hit))
    return pieces


@lru_cache(maxsize=8192)
def _folded_word(word: str) -> str:
    """A shown word folded: a results page folds hundreds, mostly the same few (issuers,
    subjects' common words)."""
    return fold(word)


def marked(text: str | None, terms: list[str] | set[str]) -> Markup:
    """``text`` escaped, with the words matching ``terms`` in ``<mark>`` (the search results)."""
    if not text:
        return Markup("")
    if not terms:
        return escape(text)
    return Markup("".join(f"<mark>{escape(piece)}</mark>" if hit else str(escape(piece))
                          for piece, hit in highlight(text, terms)))
