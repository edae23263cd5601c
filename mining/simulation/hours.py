"""Working time of a pool over the week: how much of a stretch is working time, and when d working seconds end.

Times are *week seconds*: seconds since Monday 00:00 local time of the week
the model's period starts in.  A pool's hours are 168 flags; its working time
W(t) grows one second per second inside them and stands still outside.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from mining.simulation.model import HOURS_PER_WEEK

__all__ = ["WEEK", "WeekHours"]

WEEK = HOURS_PER_WEEK * 3600.0


class WeekHours:
    """W(t) and its inverse for one pool's hours (``None``: round the clock)."""

    def __init__(self, hours: Sequence[bool] | None) -> None:
        self.always = hours is None or all(hours)
        on = np.ones(HOURS_PER_WEEK) if hours is None else np.asarray(hours, dtype=float)
        self.on = on.tolist()
        self.cum = np.concatenate([[0.0], np.cumsum(on) * 3600.0]).tolist()
        self.per_week = self.cum[-1]

    def work(self, t: np.ndarray) -> np.ndarray:
        """W(t) for week seconds ``t`` (an array)."""
        if self.always or self.per_week == 0:
            return np.asarray(t, dtype=float)
        t = np.asarray(t, dtype=float)
        weeks = np.floor(t / WEEK)
        r = t - weeks * WEEK
        h = np.minimum((r // 3600).astype(int), HOURS_PER_WEEK - 1)
        cum, on = np.asarray(self.cum), np.asarray(self.on)
        return weeks * self.per_week + cum[h] + on[h] * (r - h * 3600.0)

    def advance(self, t: float, d: float) -> float:
        """The week second at which ``d`` working seconds after ``t`` have passed."""
        if self.always or d <= 0 or self.per_week == 0:
            return t + d
        weeks = t // WEEK
        r = t - weeks * WEEK
        h = min(int(r // 3600), HOURS_PER_WEEK - 1)
        target = self.cum[h] + self.on[h] * (r - h * 3600.0) + d
        extra = target // self.per_week
        rem = target - extra * self.per_week
        k = bisect_right(self.cum, rem) - 1
        while k < HOURS_PER_WEEK and not self.on[k]:
            k += 1
        if k >= HOURS_PER_WEEK:  # exactly the end of the week's working time: the next week's first hour
            extra += 1
            k = self.on.index(1.0)
            rem = 0.0
        return (weeks + extra) * WEEK + k * 3600.0 + max(rem - self.cum[k], 0.0)
