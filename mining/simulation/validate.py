"""Validate before predicting: replay the log's own period and compare the simulation with the log.

The model is run over the calibration period (same length, same start) a
few times and compared with what the log shows:

* **case arrivals**: relative error of the number of cases;
* **activity frequencies**: half the sum of absolute differences of each
  activity's share of all executions (0 = the same mix, 1 = nothing shared);
* **cycle time**: the earth mover's (Wasserstein-1) distance between the
  log's and the simulation's cycle-time distributions, in seconds, and
  relative to the log's mean cycle time;
* **waiting**: error of the mean waiting per case, relative to the log's mean
  waiting, or to :data:`WAIT_FLOOR` of its mean cycle time when waiting is less:
  an hour's difference in cases that last months (Road Traffic Fines: 1.4 against
  2.7 hours of waiting in 342 days) changes nothing the model predicts.

The model is **trusted** when both the cycle-time error and the waiting
error are at most :data:`TRUST_LIMIT`; otherwise scenarios are still
computed but marked as not trustworthy, with the likely reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mining.simulation.engine import RunResult, run_many
from mining.simulation.model import SimModel

__all__ = ["TRUST_LIMIT", "WAIT_FLOOR", "Validation", "validate"]

TRUST_LIMIT = 0.25
#: The waiting error's smallest denominator, as a share of the log's mean cycle time.
WAIT_FLOOR = 0.05


@dataclass(frozen=True)
class Validation:
    """How well the model replays its log (see the module docstring)."""

    runs: int
    cases_log: int
    cases_sim: float
    arrival_error: float
    activity_error: float
    activities: tuple[tuple[str, int, float], ...]  # (activity, log count, simulated mean count)
    cycle_mean_log: float
    cycle_mean_sim: float
    cycle_time_emd_seconds: float
    cycle_error: float
    wait_mean_log: float
    wait_mean_sim: float
    wait_error: float
    trusted: bool
    reasons: tuple[str, ...]

    @property
    def verdict(self) -> str:
        """One sentence a manager can act on."""
        worst = max(self.cycle_error, self.wait_error)
        if self.trusted:
            return (
                f"Trustworthy: the model replays the log's period with cycle times within {_pct(self.cycle_error)} "
                f"and waiting within {_pct(self.wait_error)} (limit {TRUST_LIMIT:.0%})."
            )
        why = "; ".join(self.reasons)
        return (
            f"Not trustworthy: replaying the log's period misses by {worst:.0%} "
            f"(limit {TRUST_LIMIT:.0%}); scenarios are computed but read them as rough directions only. "
            f"Likely reason: {why}."
        )


def _pct(share: float) -> str:
    # "within 0%" read as a perfect replay; anything under a percent is within 1%.
    return f"{share:.0%}" if share >= 0.005 else "1%"


def _relative(sim: float, log: float, floor: float = 0.0) -> float:
    # A log that shows (almost) no waiting: any visible simulated waiting is all error.
    if max(log, floor) <= 1.0:
        return 0.0 if sim <= 60.0 else 1.0
    return abs(sim - log) / max(log, floor)


def validate(
    model: SimModel,
    *,
    runs: int = 5,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    results: list[RunResult] | None = None,
) -> Validation:
    """Replay the log's period ``runs`` times (or use ``results`` of such runs) and compare."""
    from scipy.stats import wasserstein_distance

    obs = model.observed
    if results is None:
        results = run_many(
            model,
            max(obs.period_days, 1 / 24) * 86_400,
            runs=runs,
            seed=seed,
            progress=progress,
            cancel=cancel,
        )
    cycles = (
        np.concatenate([r.cycle_times[~np.isnan(r.cycle_times)] for r in results]) if results else np.zeros(0)
    )
    waits = np.concatenate([r.waits for r in results]) if results else np.zeros(0)
    log_cycles = np.asarray(obs.cycle_times, dtype=float)
    cases_sim = float(np.mean([r.cases for r in results])) if results else 0.0
    log_counts = dict(obs.activity_counts)
    sim_counts = {a: float(np.mean([r.activity_counts.get(a, 0) for r in results])) for a in log_counts}
    lt, st = sum(log_counts.values()), sum(sim_counts.values())
    activity_error = (
        0.5 * sum(abs(log_counts[a] / lt - (sim_counts[a] / st if st else 0.0)) for a in log_counts)
        if lt
        else 0.0
    )
    emd = float(wasserstein_distance(log_cycles, cycles)) if len(cycles) and len(log_cycles) else math.nan
    cycle_mean_log = float(log_cycles.mean()) if len(log_cycles) else 0.0
    cycle_error = emd / cycle_mean_log if cycle_mean_log > 0 else (0.0 if emd == 0 else 1.0)
    wait_sim = float(waits.mean()) if len(waits) else 0.0
    wait_error = _relative(wait_sim, obs.wait_mean, WAIT_FLOOR * cycle_mean_log)
    trusted = cycle_error <= TRUST_LIMIT and wait_error <= TRUST_LIMIT
    reasons = model.reasons
    if not trusted and not reasons:
        reasons = (
            "the log's waiting is not explained by people being busy (waiting on customers, batches, "
            "priorities or hand-offs the model does not see)",
        )
    return Validation(
        runs=len(results),
        cases_log=obs.cases,
        cases_sim=cases_sim,
        arrival_error=abs(cases_sim - obs.cases) / obs.cases if obs.cases else 0.0,
        activity_error=activity_error,
        activities=tuple(
            (a, log_counts[a], sim_counts[a]) for a in sorted(log_counts, key=lambda a: -log_counts[a])
        ),
        cycle_mean_log=cycle_mean_log,
        cycle_mean_sim=float(cycles.mean()) if len(cycles) else math.nan,
        cycle_time_emd_seconds=emd,
        cycle_error=cycle_error,
        wait_mean_log=obs.wait_mean,
        wait_mean_sim=wait_sim,
        wait_error=wait_error,
        trusted=trusted,
        reasons=reasons if not trusted else (),
    )
