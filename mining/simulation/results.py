"""Summaries of simulation runs: each measure with an interval over runs, and differences from a baseline.

Waiting comes in two parts.  ``wait_mean_seconds`` is the mean over cases of
the total time a case waited for a person: from the moment a step could be
worked on to the start of the work (queueing for its pool, and for the
pool's hours).  ``delay_mean_seconds`` is the rest of the time between
steps: the delays the log shows that no busy person explains (see
:mod:`mining.simulation.calibrate`).  Their sum is what the log calls waiting.

A measure's interval is the 95% Student-t interval of its mean over runs.  A
difference from the baseline pairs run ``i`` of the scenario with run ``i``
of the baseline (they share their random numbers), so the interval of the
difference is narrower than the two intervals side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mining.simulation.engine import RunResult

if TYPE_CHECKING:
    from mining.simulation.costs import Pricing

__all__ = ["MEASURES", "Measure", "Outcome", "interval", "summarize"]

#: The measures of an outcome, in the order reports show them: (key, words, unit).
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("cases", "Cases", "cases"),
    ("cycle_mean_seconds", "Cycle time, mean", "seconds"),
    ("cycle_median_seconds", "Cycle time, median", "seconds"),
    ("cycle_p90_seconds", "Cycle time, 90th percentile", "seconds"),
    ("wait_mean_seconds", "Waiting for a person per case, mean", "seconds"),
    ("delay_mean_seconds", "Other waiting per case, mean", "seconds"),
    ("throughput_per_day", "Throughput", "cases per day"),
    ("cost_per_case", "Cost per case", "money"),
)


@dataclass(frozen=True)
class Measure:
    """A mean over runs with its 95% interval (``low == high == mean`` for one run)."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class Outcome:
    """What one scenario (or the baseline) gives over its runs.

    ``values`` maps each key of :data:`MEASURES` (``cost_per_case`` only with
    a rate card) to its :class:`Measure`; ``utilisation`` each pool to the
    share of its working time spent working; ``delta``/``delta_utilisation``
    the paired difference from the baseline (empty for the baseline).
    """

    name: str
    runs: int
    values: tuple[tuple[str, Measure], ...]
    utilisation: tuple[tuple[str, Measure], ...]
    delta: tuple[tuple[str, Measure], ...] = ()
    delta_utilisation: tuple[tuple[str, Measure], ...] = ()
    truncated: int = 0

    def value(self, key: str) -> Measure | None:
        return dict(self.values).get(key)


def interval(xs: Sequence[float], *, floor: float | None = None) -> Measure:
    """The mean of ``xs`` and its 95% Student-t interval; NaN values are left out.

    ``floor`` bounds the interval below for measures that cannot be lower (0 for a time or a share).
    """
    from scipy.special import stdtrit

    a = np.asarray([x for x in xs if not math.isnan(x)], dtype=float)
    if len(a) == 0:
        return Measure(math.nan, math.nan, math.nan)
    m = float(a.mean())
    if len(a) == 1:
        return Measure(m, m, m)
    half = float(stdtrit(len(a) - 1, 0.975) * a.std(ddof=1) / math.sqrt(len(a)))
    low = m - half if floor is None else max(m - half, floor)
    return Measure(m, low, m + half)


def _per_run(r: RunResult, cost: Pricing | None) -> dict[str, float]:
    c = r.cycle_times
    done = c[~np.isnan(c)]
    out = {
        "cases": float(r.cases),
        "cycle_mean_seconds": float(done.mean()) if len(done) else math.nan,
        "cycle_median_seconds": float(np.median(done)) if len(done) else math.nan,
        "cycle_p90_seconds": float(np.quantile(done, 0.9)) if len(done) else math.nan,
        "wait_mean_seconds": float(r.queue_waits.mean()) if r.cases else math.nan,
        "delay_mean_seconds": float((r.waits - r.queue_waits).mean()) if r.cases else math.nan,
        "throughput_per_day": r.completed_in_horizon / (r.horizon_seconds / 86_400),
    }
    if cost is not None:
        out["cost_per_case"] = cost.case_cost(r)
    return out


def _utilisation(r: RunResult) -> dict[str, float]:
    return {p: (r.busy[p] / r.available[p] if r.available[p] > 0 else math.nan) for p in r.busy}


def summarize(
    name: str,
    runs: Sequence[RunResult],
    *,
    baseline: Sequence[RunResult] | None = None,
    cost: Pricing | None = None,
) -> Outcome:
    """The :class:`Outcome` of ``runs``; with ``baseline`` (the same seed), the paired differences.

    ``cost`` (from a rate card) adds the cost per case.
    """
    per = [_per_run(r, cost) for r in runs]
    keys = [k for k, _, _ in MEASURES if per and k in per[0]]
    values = tuple((k, interval([p[k] for p in per], floor=0.0)) for k in keys)
    util = [_utilisation(r) for r in runs]
    pools = list(util[0]) if util else []
    utilisation = tuple((p, interval([u[p] for u in util], floor=0.0)) for p in pools)
    delta: tuple[tuple[str, Measure], ...] = ()
    delta_util: tuple[tuple[str, Measure], ...] = ()
    if baseline is not None:
        base = [_per_run(r, cost) for r in baseline]
        n = min(len(base), len(per))
        delta = tuple((k, interval([per[i][k] - base[i][k] for i in range(n)])) for k in keys)
        bu = [_utilisation(r) for r in baseline]
        delta_util = tuple(
            (p, interval([util[i][p] - bu[i][p] for i in range(n)])) for p in pools if p in bu[0]
        )
    return Outcome(
        name=name,
        runs=len(runs),
        values=values,
        utilisation=utilisation,
        delta=delta,
        delta_utilisation=delta_util,
        truncated=sum(r.truncated for r in runs),
    )
