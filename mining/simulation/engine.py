"""The discrete-event engine: cases arrive, queue first come first served for a pool, are worked, move on.

A purpose-built event loop (a binary heap of timed events, random numbers
drawn from numpy in blocks).  It was chosen over SimPy by measurement on the
same model: see ``bench/simulation.py`` and the README.

Rules of play:

* arrivals are a Poisson process whose rate is constant within each hour
  of the week (the model's ``arrivals``);
* a step whose activity has a pool waits until one of the pool's people is
  free *and* the pool is working (its hours); the earliest ready step goes
  first; once started, work runs to completion (no pre-emption);
* a step becomes ready after a delay drawn from its activity's delays (in
  its pool's working time): waiting the log shows that no busy person explains;
* a step without a pool starts at once when ready;
* the processing time is drawn from the activity's measured times;
* after a step the next activity is drawn from the routing; a case that has
  taken :data:`MAX_STEPS` steps ends there (a guard against endless loops);
* cases arrive during the horizon and are all played to their end.

Runs are independent: run ``i`` of seed ``s`` draws from
``numpy.random.SeedSequence([s, i])``, so a baseline and a scenario with the
same seed share their random numbers as far as their paths allow (common
random numbers), and the same seed gives the same numbers.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from mining.errors import Option, SimulationError, phrase
from mining.simulation.hours import WeekHours
from mining.simulation.model import END, HOURS_PER_WEEK, SimModel, local_hour

__all__ = ["MAX_CASES", "MAX_STEPS", "RunResult", "arrival_times", "run_many", "run_once"]

MAX_STEPS = 500
#: Cases one run may bring; more is a mistake in the horizon or the arrivals, not a study.
MAX_CASES = 2_000_000
_BLOCK = 65_536


@dataclass(frozen=True)
class RunResult:
    """One run: per case (in arrival order) its cycle time, total waiting and waiting for a person, plus totals.

    ``waits`` run from each step's readiness (the previous step's completion)
    to its start: delays plus queueing; ``queue_waits`` only the queueing.

    ``activity_work`` and ``activity_queue`` are per activity, the seconds
    worked and waited for a person, over the whole run (for costs);
    ``busy`` and ``available`` are per pool, in person-seconds of the pool's
    working hours within the horizon; ``completed_in_horizon`` counts cases that ended before it.
    """

    horizon_seconds: float
    cycle_times: np.ndarray
    waits: np.ndarray
    queue_waits: np.ndarray
    activity_counts: dict[str, int]
    activity_work: dict[str, float]
    activity_queue: dict[str, float]
    busy: dict[str, float]
    available: dict[str, float]
    completed_in_horizon: int
    truncated: int

    @property
    def cases(self) -> int:
        return len(self.cycle_times)


def _uniforms(rng: np.random.Generator) -> Iterator[float]:
    """Uniform numbers in [0, 1), drawn from numpy a block at a time (``next`` is cheaper than a call)."""
    while True:
        yield from rng.random(_BLOCK).tolist()


def arrival_times(
    model: SimModel, horizon: float, hw0: int, frac0: float, rng: np.random.Generator
) -> np.ndarray:
    hours = math.ceil((horizon + frac0) / 3600)
    k = np.arange(hours)
    lo = np.maximum(k * 3600.0 - frac0, 0.0)
    hi = np.minimum((k + 1) * 3600.0 - frac0, horizon)
    rates = np.asarray(model.arrivals)[(hw0 + k) % HOURS_PER_WEEK]
    expected = rates * np.maximum(hi - lo, 0.0) / 3600.0
    if expected.sum() > MAX_CASES:
        msg = f"the simulation would bring about {expected.sum():,.0f} cases (at most {MAX_CASES:,})"
        raise SimulationError(msg, hint=phrase("shorten ", Option("horizon"), " or lower the arrivals"))
    n = rng.poisson(expected)
    starts = np.repeat(lo, n)
    widths = np.repeat(hi - lo, n)
    return np.sort(starts + rng.random(len(starts)) * widths)


def run_once(model: SimModel, horizon: float, seed: int, run: int) -> RunResult:
    """One run of ``model`` over ``horizon`` seconds from the model's period start."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, run]))
    arrivals_rng = np.random.default_rng(rng.integers(2**63))
    draw = _uniforms(rng).__next__
    names = [a.name for a in model.activities]
    index = {a: i for i, a in enumerate(names)}
    pools = list(model.pools)
    pool_index = {p.name: i for i, p in enumerate(pools)}
    act_pool = [pool_index[a.pool] if a.pool is not None else -1 for a in model.activities]
    durations = [list(a.durations) or [0.0] for a in model.activities]
    delays = [list(a.delays) or [0.0] for a in model.activities]
    has_delay = [any(d > 0 for d in ds) for ds in delays]
    start_targets = [index[a] for a, _ in model.start]
    start_cum = list(accumulate(p for _, p in model.start))
    route_targets: list[list[int]] = [[-1] for _ in names]
    route_cum: list[list[float]] = [[1.0] for _ in names]
    for a, targets in model.routing:
        if a in index:
            route_targets[index[a]] = [-1 if b == END else index[b] for b, _ in targets]
            route_cum[index[a]] = list(accumulate(p for _, p in targets))
    if not start_targets:
        msg = f"the model of {model.log!r} has no first activity"
        raise SimulationError(msg)

    hw0 = local_hour(model.period_start, model.timezone)
    frac0 = model.period_start % 3600.0
    hours = [p.hours for p in pools]
    offset = hw0 * 3600.0 + frac0
    clocks = [WeekHours(p.hours) for p in pools]
    always = [all(h) for h in hours]
    free = [p.capacity for p in pools]
    queues: list[deque[tuple[float, int, int]]] = [deque() for _ in pools]
    open_pending = [False] * len(pools)
    # Each pool's work as (start, end) within the horizon; its working seconds are summed at the end.
    work_starts: list[list[float]] = [[] for _ in pools]
    work_ends: list[list[float]] = [[] for _ in pools]
    counts = [0] * len(names)
    work = [0.0] * len(names)
    queue_by_act = [0.0] * len(names)

    arr = arrival_times(model, horizon, hw0, frac0, arrivals_rng)
    n_cases = len(arr)
    arrival = arr.tolist()
    cycle = [math.nan] * n_cases
    wait = [0.0] * n_cases
    queued = [0.0] * n_cases
    steps = [0] * n_cases
    truncated = 0
    heap: list[tuple[float, int, int, int, int]] = [(t, i, 0, i, -1) for i, t in enumerate(arrival)]
    seq = n_cases
    push, pop = heapq.heappush, heapq.heappop

    def is_open(p: int, t: float) -> bool:
        return always[p] or hours[p][(hw0 + int((t + frac0) // 3600)) % HOURS_PER_WEEK]

    def next_open(p: int, t: float) -> float:
        k = int((t + frac0) // 3600)
        for j in range(1, HOURS_PER_WEEK + 1):
            if hours[p][(hw0 + k + j) % HOURS_PER_WEEK]:
                return (k + j) * 3600.0 - frac0
        return math.inf

    def begin(case: int, a: int, p: int, ready: float, t: float) -> None:
        nonlocal seq
        wait[case] += t - ready
        queued[case] += t - ready
        queue_by_act[a] += t - ready
        ds = durations[a]
        d = ds[int(draw() * len(ds))]
        work[a] += d
        if p >= 0 and t < horizon:
            work_starts[p].append(t)
            work_ends[p].append(t + d if t + d < horizon else horizon)
        seq += 1
        push(heap, (t + d, seq, 1, case, a))

    def request(case: int, a: int, t: float) -> None:
        nonlocal seq
        counts[a] += 1
        p = act_pool[a]
        if p < 0:
            begin(case, a, p, t, t)
        elif free[p] > 0 and is_open(p, t):
            free[p] -= 1
            begin(case, a, p, t, t)
        else:
            queues[p].append((t, case, a))
            if not open_pending[p] and not is_open(p, t):
                open_pending[p] = True
                seq += 1
                push(heap, (next_open(p, t), seq, 2, p, -1))

    while heap:
        t, _, kind, x, a = pop(heap)
        if kind == 0:
            steps[x] = 1
            request(x, start_targets[bisect_right(start_cum, draw() * start_cum[-1])], t)
            continue
        if kind == 3:
            request(x, a, t)
            continue
        if kind == 2:
            open_pending[x] = False
            q = queues[x]
            while free[x] > 0 and q:
                free[x] -= 1
                ready, case, b = q.popleft()
                begin(case, b, x, ready, t)
            continue
        p = act_pool[a]
        if p >= 0:
            q = queues[p]
            if q and is_open(p, t):
                ready, case, b = q.popleft()
                begin(case, b, p, ready, t)
            else:
                free[p] += 1
                if q and not open_pending[p]:
                    open_pending[p] = True
                    seq += 1
                    push(heap, (next_open(p, t), seq, 2, p, -1))
        cum = route_cum[a]
        nxt = route_targets[a][min(bisect_right(cum, draw() * cum[-1]), len(cum) - 1)]
        if nxt < 0 or steps[x] >= MAX_STEPS:
            if nxt >= 0:
                truncated += 1
            cycle[x] = t - arrival[x]
            continue
        steps[x] += 1
        if has_delay[nxt]:
            ds = delays[nxt]
            d = ds[int(draw() * len(ds))]
            if d > 0:
                q = act_pool[nxt]
                ready = t + d if q < 0 else clocks[q].advance(t + offset, d) - offset
                wait[x] += ready - t
                seq += 1
                push(heap, (ready, seq, 3, x, nxt))
                continue
        request(x, nxt, t)

    cycles = np.asarray(cycle, dtype=float)
    ends = np.asarray(arrival, dtype=float) + cycles
    k = np.arange(math.ceil((horizon + frac0) / 3600))
    overlap = np.minimum((k + 1) * 3600.0 - frac0, horizon) - np.maximum(k * 3600.0 - frac0, 0.0)
    available = {
        p.name: p.capacity * float(overlap[np.asarray(p.hours)[(hw0 + k) % HOURS_PER_WEEK]].sum())
        for p in pools
    }
    return RunResult(
        horizon_seconds=horizon,
        cycle_times=cycles,
        waits=np.asarray(wait, dtype=float),
        queue_waits=np.asarray(queued, dtype=float),
        activity_counts={names[i]: c for i, c in enumerate(counts)},
        activity_work={names[i]: w for i, w in enumerate(work)},
        activity_queue={names[i]: q for i, q in enumerate(queue_by_act)},
        busy={
            p.name: _working_seconds(clocks[i], work_starts[i], work_ends[i], offset)
            for i, p in enumerate(pools)
        },
        available=available,
        completed_in_horizon=int((ends < horizon).sum()),
        truncated=truncated,
    )


def _working_seconds(clock: WeekHours, starts: list[float], ends: list[float], offset: float) -> float:
    """Seconds of the spans inside the pool's hours.

    Work runs to completion, also past the end of the working day; counted in
    wall-clock seconds against the pool's working time it gave utilisations
    over 100% (a one-person desk with 12-hour steps).  So only working time counts.
    """
    if not starts:
        return 0.0
    a = np.asarray(starts) + offset
    b = np.asarray(ends) + offset
    return float((clock.work(b) - clock.work(a)).sum())


def run_many(
    model: SimModel,
    horizon: float,
    *,
    runs: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[RunResult]:
    """``runs`` runs of ``model``; ``progress(done, runs)`` after each; stops early when ``cancel()`` is true."""
    if horizon <= 0:
        msg = f"the horizon must be positive, got {horizon / 86_400:g} days"
        raise SimulationError(msg)
    out = []
    for i in range(runs):
        if cancel is not None and cancel():
            break
        out.append(run_once(model, horizon, seed, i))
        if progress is not None:
            progress(i + 1, runs)
    return out
