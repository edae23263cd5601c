"""A stretch of calendar time in the units a person plans in."""

from __future__ import annotations

import pytest

from mining.durations import span_words

DAY = 86_400


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0.5, "12.0 hours"),
        (3, "3.0 days"),
        (60, "60.0 days"),  # two months still read in days
        (61, "2.0 months"),
        (120, "3.9 months"),
        (729, "24.0 months"),
        (730, "2.0 years"),
        (1_415.35, "3.9 years"),  # Helpdesk, which the Logs page cut to "1,415.4 d..."
        (4_917, "13.5 years"),  # Road Traffic Fines
    ],
)
def test_span_words(days: float, words: str) -> None:
    assert span_words(days * DAY) == words
