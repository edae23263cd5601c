"""Logs to measure monitoring with: a stationary process, and the same process with one step slowing down.

A small claims process, simulated case by case from a seeded generator::

    Register -> Check -> Approve [-> Check -> Approve, in 15 % of the cases] -> Close

Cases arrive as a Poisson process, :data:`PER_DAY` a day around the clock,
each with a channel (web, phone, mail in fixed shares); the waiting time
before each step is log-normal with a fixed median (:data:`WAITS`).  Nothing
in it changes over time: it is **stationary**.  With ``shift_week`` the wait
before *Approve* is :data:`SLOWDOWN` times longer for every Approve that
becomes ready from the Monday of that week on: one step slows from a known
week, and the cycle time rises by about a fifth.

The export is what a person would pull from a running system: the events
between a Wednesday 13:00 (:data:`ORIGIN` plus 2 days 13 hours, so the cases
in flight then lose their first events) and the export's end, by default a
Thursday 15:00 ``weeks`` weeks later: the last week is cut mid-week and the
cases still running then are open.  ``end`` cuts the same simulated process
earlier, as an export taken on that day would.  Times are UTC.

:func:`drift_rows` gives the events; :func:`write_drift_log` writes them as a
CSV the ingest reads without options.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

__all__ = [
    "ORIGIN",
    "PER_DAY",
    "REWORK",
    "SLOWDOWN",
    "WAITS",
    "drift_rows",
    "export_end",
    "shift_start",
    "write_drift_log",
]

#: The Monday the simulated weeks count from (UTC).
ORIGIN = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
#: Cases a day.
PER_DAY = 8.0
#: Median waiting time before each step, in hours, and the spread (sigma of its logarithm).
WAITS = {"Check": (6.0, 0.6), "Approve": (10.0, 0.6), "Close": (4.0, 0.5)}
#: Share of the cases that go through Check and Approve twice.
REWORK = 0.15
#: After the shift, the wait before Approve is this many times longer.
SLOWDOWN = 1.5
_WARM_UP = dt.timedelta(weeks=3)  # cases arrive this long before the export starts
_EXPORT_START = dt.timedelta(days=2, hours=13)
_CHANNELS = (("web", 0.6), ("phone", 0.3), ("mail", 0.1))


def shift_start(week: int) -> dt.datetime:
    """The Monday 00:00 (UTC) from which Approve slows down in a log shifted at ``week``."""
    return ORIGIN + dt.timedelta(weeks=week)


def export_end(weeks: int) -> dt.datetime:
    """The default end of the export: Thursday 15:00 of week ``weeks`` (counted from 0 at :data:`ORIGIN`)."""
    return ORIGIN + dt.timedelta(weeks=weeks, days=3, hours=15)


def drift_rows(
    seed: int, *, weeks: int = 30, shift_week: int | None = None, end: dt.datetime | None = None
) -> list[tuple[str, str, dt.datetime, str]]:
    """``(case_id, activity, timestamp, channel)`` of the export, in time order (see the module docstring)."""
    rng = np.random.default_rng([seed, 0 if shift_week is None else 1])
    # The process is simulated to the default end whatever ``end`` is, so that exports cut earlier are
    # views of the very same process (a job run every Monday sees the same cases grow).
    horizon = export_end(weeks)
    stop = end or horizon
    first = ORIGIN - _WARM_UP
    span_days = (horizon - first).total_seconds() / 86_400
    n = int(rng.poisson(PER_DAY * span_days))
    arrivals = np.sort(rng.uniform(0, span_days * 86_400, n)) + first.timestamp()
    channels = rng.choice(len(_CHANNELS), size=n, p=[share for _, share in _CHANNELS])
    rework = rng.random(n) < REWORK
    slow_from = None if shift_week is None else shift_start(shift_week).timestamp()

    def wait(step: str) -> np.ndarray:
        median, sigma = WAITS[step]
        return rng.lognormal(np.log(median * 3600), sigma, n)

    steps = [("Register", np.ones(n, dtype=bool))]
    times = [arrivals]
    t = arrivals
    plan = [("Check", None), ("Approve", None), ("Check", rework), ("Approve", rework), ("Close", None)]
    for step, only in plan:
        waited = wait(step)
        if step == "Approve" and slow_from is not None:
            waited = np.where(t >= slow_from, waited * SLOWDOWN, waited)
        nxt = t + waited
        if only is not None:
            nxt = np.where(only, nxt, t)
        steps.append((step, np.ones(n, dtype=bool) if only is None else only))
        times.append(nxt)
        t = nxt
    lo, hi = (ORIGIN + _EXPORT_START).timestamp(), stop.timestamp()
    rows = []
    for (step, present), at in zip(steps, times, strict=True):
        keep = present & (at >= lo) & (at <= hi)
        for i in np.flatnonzero(keep).tolist():
            when = dt.datetime.fromtimestamp(round(float(at[i])), dt.UTC)
            rows.append((f"C{seed:02d}-{i:05d}", step, when, _CHANNELS[int(channels[i])][0]))
    # Time order, and within a case the order of its steps (a rework's Check after the first Approve).
    order = {name: k for k, (name, _) in enumerate(steps)}
    rows.sort(key=lambda r: (r[2], r[0], order[r[1]]))
    return rows


def write_drift_log(
    path: str | Path,
    seed: int,
    *,
    weeks: int = 30,
    shift_week: int | None = None,
    end: dt.datetime | None = None,
) -> Path:
    """Write :func:`drift_rows` as a CSV (``case_id, activity, timestamp, channel``) and return its path."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "channel"])
        for case, activity, when, channel in drift_rows(seed, weeks=weeks, shift_week=shift_week, end=end):
            w.writerow([case, activity, when.isoformat(), channel])
    return path
