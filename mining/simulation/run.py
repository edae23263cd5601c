"""A what-if study end to end: calibrate, validate on the log's own period, then run each scenario.

The baseline and every scenario run over the same horizon with the same
seed, run ``i`` of each sharing its random numbers, so differences come from
the change, not from luck.  When the horizon is the log's own period the
baseline runs are also the validation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mining.errors import Option, SimulationError, phrase
from mining.simulation.costs import Pricing
from mining.simulation.engine import run_many
from mining.simulation.model import SimModel
from mining.simulation.results import Outcome, summarize
from mining.simulation.scenarios import Scenario, apply
from mining.simulation.validate import Validation, validate

__all__ = ["MAX_RUNS", "WhatIf", "study"]

MAX_RUNS = 200


@dataclass(frozen=True)
class WhatIf:
    """A finished (or cancelled) study: the model, its validation, the baseline and each scenario."""

    model: SimModel
    validation: Validation
    horizon_days: float
    seed: int
    baseline: Outcome
    scenarios: tuple[tuple[Scenario, Outcome], ...]
    cancelled: bool = False
    cost: Pricing | None = None


def study(
    model: SimModel,
    scenarios: Sequence[Scenario] = (),
    *,
    runs: int = 10,
    seed: int = 0,
    horizon_days: float | None = None,
    cost: Pricing | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> WhatIf:
    """Validate ``model`` and run the baseline and ``scenarios``, ``runs`` times each.

    ``horizon_days`` defaults to the log's own period; ``cost`` (see
    :func:`mining.simulation.costs.pricing`) adds the cost per case.  ``progress(share,
    message)`` is called after each run; when ``cancel()`` turns true the
    study stops and returns what it has, marked ``cancelled``.
    """
    if not 1 <= runs <= MAX_RUNS:
        msg = f"runs must be between 1 and {MAX_RUNS}, got {runs}"
        raise SimulationError(msg, hint=phrase("set ", Option("runs", str(min(max(runs, 1), MAX_RUNS)))))
    period = max(model.observed.period_days, 1 / 24)
    horizon = period if horizon_days is None else horizon_days
    if not horizon > 0:
        msg = f"the horizon must be a positive number of days, got {horizon_days}"
        raise SimulationError(msg, hint=phrase("set ", Option("horizon", "30")))
    same = abs(horizon - period) < 1e-9
    steps = runs * (1 + len(scenarios)) + (0 if same else runs)
    done = [0]

    def tick(label: str) -> Callable[[int, int], None]:
        def report(i: int, n: int) -> None:
            done[0] += 1
            if progress is not None:
                progress(done[0] / steps, f"{label}: run {i} of {n}")

        return report

    stop = cancel or (lambda: False)
    if not same:
        replay = run_many(
            model,
            period * 86_400,
            runs=runs,
            seed=seed,
            progress=tick("Replaying the log's period"),
            cancel=stop,
        )
        if not replay:
            msg = "the simulation was cancelled before its first run"
            raise SimulationError(msg)
    base_runs = run_many(
        model, horizon * 86_400, runs=runs, seed=seed, progress=tick("Baseline"), cancel=stop
    )
    if not base_runs:
        msg = "the simulation was cancelled before its first run"
        raise SimulationError(msg)
    validation = validate(model, results=base_runs if same else replay)
    baseline = summarize("Baseline", base_runs, cost=cost)
    out: list[tuple[Scenario, Outcome]] = []
    cancelled = len(base_runs) < runs or (not same and len(replay) < runs)
    for sc in scenarios:
        if stop():
            cancelled = True
            break
        changed = apply(model, sc)
        res = run_many(changed, horizon * 86_400, runs=runs, seed=seed, progress=tick(sc.name), cancel=stop)
        if len(res) < runs:
            cancelled = True
        if res:
            out.append((sc, summarize(sc.name, res, baseline=base_runs, cost=cost)))
    return WhatIf(model, validation, horizon, seed, baseline, tuple(out), cancelled, cost)
