"""Counts in words, for every sentence a person reads (notes, captions, CLI lines)."""

from __future__ import annotations

__all__ = ["agree", "plural"]


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``'1 issue'``, ``'1,204 issues'``: a count and its noun."""
    return f"{n:,} {singular if n == 1 else plural_form or singular + 's'}"


def agree(n: int, one: str, many: str) -> str:
    """The words that agree with a count: "1 event repeats", "2 events repeat"."""
    return one if n == 1 else many
