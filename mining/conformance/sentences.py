"""Deviations in words a process owner can act on: one sentence per deviation, one line per case.

Durations inside a sentence are worded by :func:`mining.durations.duration_words`
(``2.1 days``), as in every other sentence of the package.
"""

from __future__ import annotations

from collections.abc import Sequence

from mining.durations import duration_words

__all__ = ["describe", "sentence", "share_words"]

_WHAT = {
    "skipped": "'{a}' skipped",
    "inserted": "'{a}' done where the model does not allow it",
    "out_of_order": "'{a}' done out of order",
    "not_in_model": "'{a}' (not in the model) done",
}

#: A skipped model task that no log activity matches: a labelling gap more likely than a deviation.
_UNMATCHED = "'{a}' (a model task no log activity matches) skipped"

_SHORT = {
    "skipped": "skipped",
    "inserted": "inserted",
    "out_of_order": "out of order",
    "not_in_model": "not in the model",
}


def share_words(share: float) -> str:
    """A share of cases as the sentences and the deviations table write it: ``18%``, ``0.1%``, ``<0.1%``.

    >>> share_words(0.18), share_words(0.022), share_words(0.001), share_words(0.00005)
    ('18%', '2%', '0.1%', '<0.1%')
    """
    pct = share * 100
    if pct >= 1 or pct == 0:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%" if pct >= 0.1 else "<0.1%"


def sentence(
    kind: str,
    activity: str,
    cases: int,
    total: int,
    with_s: float | None,
    without_s: float | None,
    *,
    unmatched: bool = False,
) -> str:
    """One plain sentence, e.g. "'Approve' skipped in 18% of cases (412 of 2,300); these cases took a
    median 2.1 days longer than the rest (an association; other differences between these cases may
    explain it)."

    The duration is worded as an association: the cases with a deviation differ from the rest in
    more than the deviation, so the sentence never says the deviation caused the difference.
    ``unmatched``: the activity is a model task that matches no log activity, so every case skips
    it; the sentence says so, since the cause is likely the labels, not the process.
    """
    what = _UNMATCHED if unmatched and kind == "skipped" else _WHAT[kind]
    text = f"{what.format(a=activity)} in {share_words(cases / total)} of cases ({cases:,} of {total:,})"
    if with_s is None or without_s is None:
        return text + "; no cases without it to compare durations."
    diff = with_s - without_s
    if diff == 0:
        return text + "; these cases took as long as the rest (median)."
    word = "longer" if diff > 0 else "shorter"
    return (
        text + f"; these cases took a median {duration_words(diff)} {word} than the rest "
        "(an association; other differences between these cases may explain it)."
    )


def describe(deviations: Sequence[tuple[str, str, int]]) -> str:
    """A case's deviations ``(kind, activity, count)`` on one line: ``skipped 'C'; inserted 'X' (2x)``."""
    return "; ".join(f"{_SHORT[k]} '{a}'" + (f" ({n}x)" if n > 1 else "") for k, a, n in deviations)
