"""Folding text for the index and queries, and marking query terms in what is shown."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from ioffice.documents.vocabulary import FOLD_TABLE, fold

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
    pattern = _terms_pattern(tuple(terms))
    if pattern is None:
        return escape(text)
    if _UNFOLDED.search(text):  # a letter not folded char by char (a combining mark...)
        return Markup("".join(f"<mark>{escape(piece)}</mark>" if hit else str(escape(piece))
                              for piece, hit in highlight(text, terms)))
    # the words are found by one regular expression over ``text`` (each letter of a term stands
    # for every letter that folds to it), not folded and compared word by word in Python: a
    # results page marks ~150 texts
    out, end = [], 0
    for match in pattern.finditer(text):
        start, stop = match.span()
        out.append(f"{escape(text[end:start])}<mark>{escape(text[start:stop])}</mark>")
        end = stop
    out.append(str(escape(text[end:])))
    return Markup("".join(out))


def _folding_to() -> dict[str, str]:
    """Each ASCII letter or digit -> a regular-expression class of what folds to it."""
    sources: dict[str, set[str]] = {}
    for char in [chr(c) for c in range(128)] + [chr(c) for c in FOLD_TABLE]:
        folded = fold(char)
        if len(folded) == 1 and folded.isalnum():
            sources.setdefault(folded, set()).add(char)
    return {k: "[" + "".join(re.escape(c) for c in sorted(v)) + "]" for k, v in sources.items()}


_FOLDING_TO = _folding_to()
# what neither ASCII nor the fold table covers: such a text is marked word by word
_UNFOLDED = re.compile("[^\x00-\x7f" + "".join(re.escape(chr(c)) for c in sorted(FOLD_TABLE)) + "]")


@lru_cache(maxsize=256)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """A whole word (``\\w+``, as :func:`highlight` splits) that folds to one of ``terms``;
    None without terms."""
    words = "|".join("".join(_FOLDING_TO.get(c, re.escape(c)) for c in t)
                     for t in sorted({t for t in terms if t}, key=len, reverse=True))
    return re.compile(rf"\b(?:{words})\b") if words else None
