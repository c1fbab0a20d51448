"""Ranks node types against a search text, for the Tab search and the palette.

Tiers, best first: the title exactly; the title starting with the text; every word starting a word of the
title; every word somewhere in the title, type id, category or description; then close spellings (rapidfuzz)
of the title or type id. Within a tier, shorter titles first, then alphabetical.
"""

from __future__ import annotations

import re

FUZZY_CUTOFF = 62.0  # WRatio out of 100: "sav vido" finds Save Video (67), not Save Frames (32)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def score(cls, text: str) -> float | None:
    """Higher is better; None when the node type does not match at all."""
    query = " ".join(_words(text))
    if not query:
        return 0.0
    title = " ".join(_words(cls.display_name()))
    words = query.split()
    title_words = title.split()
    if title == query:
        return 500.0
    if title.startswith(query):
        return 400.0
    if all(any(tw.startswith(w) for tw in title_words) for w in words):
        return 300.0
    hay = " ".join([cls.display_name(), cls.type_id, cls.category, cls.description()]).lower()
    if all(w in hay for w in words):
        return 200.0
    from rapidfuzz import fuzz

    best = max(fuzz.WRatio(query, title), fuzz.WRatio(query, " ".join(_words(cls.type_id))))
    return best if best >= FUZZY_CUTOFF else None


def rank(classes, text: str) -> list:
    """The classes that match `text`, best first (all of them, in the given order, for an empty text)."""
    if not text.strip():
        return list(classes)
    scored = [(s, cls) for cls in classes if (s := score(cls, text)) is not None]
    scored.sort(key=lambda pair: (-pair[0], len(pair[1].display_name()), pair[1].display_name()))
    return [cls for _, cls in scored]
