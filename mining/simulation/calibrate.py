"""Calibrate a simulation model from a stored log: arrivals, routing, processing times, pools, hours.

* **Arrivals**: case starts (the first activity's start) per hour of the week
  in the log's time zone, divided by how often that hour occurs in the
  period.  When a chi-square test cannot tell the counts from a steady rate
  (p > 0.001) the steady rate is used, so a few noisy hours do not invent
  peaks.  The period is the log's main one: when a thin tail of case starts
  stretches it beyond :data:`STRETCH` times the span where most cases start
  (counted in :data:`_BINS` spans), the cases starting outside it are left out (an ERP extract of one
  year that holds a few purchase orders of years before, as BPIC 2019,
  arrived at a quarter of its real rate).
* **Routing**: the first activity, and for each activity what follows it in
  the case by completion order, as probabilities (a first-order Markov chain
  over the directly-follows graph); rework loops are transitions back.
  Parallel branches are played one after the other.
* **Processing times**: start to completion, from a start-timestamp column or
  lifecycle ``start``/``complete`` pairs (see
  :mod:`mining.analysis.performance`).  A log with completions only gets
  *estimated* starts: the later of the case's previous completion and the same
  person's previous completion (the resource-availability estimate of
  Chapela-Campa and Dumas, 2022); a log without resources either has no
  queueing at all, and each step takes the whole gap since the previous one.
* **Pools (roles)**: people linked through the activities that make up at
  least :data:`ROLE_SHARE` of their own work form one pool (connected
  components of the person-activity graph), so a pool is everyone who can
  pick up its steps.  Its capacity is the number of its people working in a
  typical week: the week of its median step (weeks weighted by the steps done in them); its hours are the hours of the week in which it
  started work in at least :data:`HOUR_SHARE` of the weeks, with the fewest
  hours holding :data:`WORK_COVER` of its starts when it has such regular
  hours (each day from its first such hour to its last; round the clock when
  it has none), or a business calendar's hours when one
  is given.
* **Queueing** (in the engine): first come, first served per pool.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.performance import instances_sql
from mining.errors import SimulationError
from mining.simulation.model import END, HOURS_PER_WEEK, ActivityModel, Observed, Pool, SimModel, local_hour
from mining.words import plural

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.analysis.filters import Filter
    from mining.store import Store

__all__ = ["HOUR_SHARE", "MAX_SAMPLES", "MIN_CASES", "ROLE_SHARE", "calibrate", "calibrate_frame"]

#: An activity is part of a person's role when it is at least this share of their work.
ROLE_SHARE = 0.05
#: A pool works in an hour of the week when it started work then in at least this share of weeks.
HOUR_SHARE = 0.2
#: ... or when it is among the fewest hours of the week that hold this share of the pool's starts.
WORK_COVER = 0.9
#: Processing-time samples kept per activity (evenly spaced quantiles beyond this).
MAX_SAMPLES = 5000
#: Fewer cases than this make the validation weak; the verdict says so.
MIN_CASES = 200
#: Arrivals are calibrated on the shortest span where this share of the cases start, widened while as busy ...
MAIN_SHARE = 0.95
#: ... when the log's whole span of starts is more than this many times that span.
STRETCH = 1.25
#: The spans the case starts are counted in to tell the main period, and the share of its median span's
#: starts that a span beyond it must hold to widen it.
_BINS = 200
_LEVEL = 0.1
WEEK = 7 * 86_400


def calibrate(
    store: Store,
    log_id: int,
    name: str,
    *,
    calendar: Calendar | None = None,
    timezone: str | None = None,
    flt: Filter | None = None,
) -> SimModel:
    """The simulation model of log ``log_id`` (named ``name`` in notes), from the cases ``flt`` keeps.

    ``calendar`` sets the pools' working hours (its weekdays and daily window)
    instead of reading them from the data; hours of the week are read in the
    calendar's zone, else ``timezone``, else the log's.
    """
    import polars as pl

    tz = store.scalar("SELECT timezone FROM logs WHERE log_id = ?", [log_id]) or "UTC"
    inst = instances_sql(store, log_id, flt)
    table = store.arrow(
        f"SELECT case_no, activity, resource, epoch(st) AS st, epoch(en) AS en FROM ({inst.sql}) i "
        "ORDER BY case_no, en, row_no",
        inst.params,
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame, outside = _within_robust_range(store, log_id, frame)
    tz = (calendar.timezone if calendar is not None else None) or timezone or tz
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {tz!r}"
        raise SimulationError(msg, hint="use an IANA name such as Europe/Amsterdam") from None
    frame, thin = _within_main_period(frame, tz)
    model = calibrate_frame(frame, name=name, timezone=tz, timing=inst.source, calendar=calendar)
    notes = tuple(n for n in (outside, thin) if n)
    return model if not notes else dataclasses.replace(model, notes=(*notes, *model.notes))


def _within_main_period(frame: Any, timezone: str) -> tuple[Any, str]:
    """``frame`` without the cases that start before or after the log's main period, and a note.

    The starts are counted in :data:`_BINS` equal spans of at least a day.  The main period is the
    shortest stretch holding :data:`MAIN_SHARE` of the starts, widened span by span while the next
    span holds at least :data:`_LEVEL` of the stretch's median span; it is used when the whole span
    of starts is more than :data:`STRETCH` times as long.  BPIC 2019's 11,893 cases of 2018 came
    with 80 of 1948-2017 and 2019: over the whole span its arrival rate was 8.5 cases a day, against
    about 33 in 2018, so a pool would never have queued.
    """
    import datetime as dt
    from zoneinfo import ZoneInfo

    import polars as pl

    begin = frame.group_by("case_no").agg(pl.coalesce("st", "en").min().alias("b"))
    starts = np.sort(begin["b"].to_numpy().astype(float))
    n = len(starts)
    if n < MIN_CASES:
        return frame, ""
    first, last = starts[0], starts[-1]
    width = max((last - first) / _BINS, 86_400.0)
    counts = np.bincount(((starts - first) // width).astype(int))
    k = math.ceil(MAIN_SHARE * n)
    a = int(np.argmin(starts[k - 1 :] - starts[: n - k + 1]))
    low, high = int((starts[a] - first) // width), int((starts[a + k - 1] - first) // width)
    core = counts[low : high + 1]
    level = _LEVEL * float(np.median(core[core > 0]))
    while low > 0 and counts[low - 1] >= level:
        low -= 1
    while high < len(counts) - 1 and counts[high + 1] >= level:
        high += 1
    inside = (starts >= first + low * width) & (starts < first + (high + 1) * width)
    lo, hi = starts[inside][0], starts[inside][-1]
    if last - first <= STRETCH * max(hi - lo, 86_400.0):
        return frame, ""
    kept_cases = begin.filter(pl.col("b").is_between(lo, hi)).select("case_no")
    kept = frame.join(kept_cases, on="case_no", how="semi")
    left = n - kept_cases.height

    def day(t: float) -> str:
        return dt.datetime.fromtimestamp(t, ZoneInfo(timezone)).date().isoformat()

    share = kept_cases.height / n
    # 99.6% would round to "100%" beside the cases it leaves out.
    most = f"{share:.0%}" if share < 0.995 else "over 99%"
    return kept, (
        f"calibrated on the log's main period, {day(lo)} to {day(hi)}, where {most} of its "
        f"cases start: the {plural(left, 'case')} starting before or after it, in the log's "
        f"{(last - first) / 86_400:,.0f} days from {day(first)} to {day(last)}, are left out, or they would "
        "thin its arrival rate"
    )


def _within_robust_range(store: Store, log_id: int, frame: Any) -> tuple[Any, str]:
    """``frame`` without the cases that have an instant outside the log's robust range, and a note.

    BPIC 2019 has events dated 1948: with them, the simulated period ran 25,916 days and the
    arrival rate was a seventieth of the real one.
    """
    import polars as pl

    from mining.analysis.span import robust_span

    rng = robust_span(store, log_id)
    if rng.complete or rng.first is None or rng.last is None or frame.height == 0:
        return frame, ""
    lo, hi = rng.first.timestamp(), rng.last.timestamp()
    outside = (pl.col("en") < lo) | (pl.col("en") > hi) | (pl.col("st") < lo) | (pl.col("st") > hi)
    bad = frame.filter(outside.fill_null(False))["case_no"].unique()
    kept = frame.filter(~pl.col("case_no").is_in(bad.implode()))
    if kept.height == 0:
        return frame, ""
    cases = len(bad)
    they = "it belongs" if rng.left_out == 1 else "they belong"
    return kept, f"{rng.note}, with the {cases:,} case{'' if cases == 1 else 's'} {they} to"


def calibrate_frame(
    frame: object, *, name: str, timezone: str, timing: str, calendar: Calendar | None = None
) -> SimModel:
    """The model of activity instances ``frame`` (polars: ``case_no, activity, resource, st, en``,
    epoch seconds, sorted by case and completion); ``timing`` is where starts came from."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        msg = f"log {name!r} has no completed activities to simulate"
        raise SimulationError(msg)
    notes: list[str] = []
    case = frame["case_no"].to_numpy()
    acts = frame["activity"].to_list()
    res = frame["resource"].to_list()
    en = frame["en"].to_numpy().astype(float)
    st = frame["st"].to_numpy().astype(float)  # NaN where unknown
    n = len(en)
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = case[:-1] != case[1:]
    prev_en = np.full(n, np.nan)
    prev_en[1:] = en[:-1]
    prev_en[first] = np.nan
    has_resources = any(r is not None for r in res)

    prev_res = _previous_by_resource(res, en)
    if timing == "none":
        st, timing = _estimate_starts(acts, en, prev_en, prev_res, first, has_resources, notes)
    else:
        missing = int(np.isnan(st).sum())
        if missing:
            notes.append(
                f"{missing:,} of {n:,} activity instances have no usable start; "
                "their activity's measured times stand in for them"
            )
    # The case's start: its first instance's start (or completion when unknown).
    begin = np.where(np.isnan(st), en, st)
    case_start = begin[first]
    case_end = en[last]
    cycle = np.maximum(case_end - case_start, 0.0)
    wait_each = np.where(first | np.isnan(st), 0.0, np.maximum(np.nan_to_num(st - prev_en, nan=0.0), 0.0))
    case_index = np.cumsum(first) - 1
    waits = np.bincount(case_index, weights=wait_each, minlength=len(case_start))

    period_start = float(case_start.min())
    period_end = float(case_start.max())
    span = max(period_end - period_start, 3600.0)
    period_days = span / 86_400
    dates_only = _dates_only(np.concatenate([en, st[~np.isnan(st)]]), timezone)
    if dates_only:
        notes.append(
            "the log's times are dates without a time of day: cases arrive, and people work, over whole days"
        )
    arrivals, pattern = _arrivals(case_start, period_start, span, timezone, notes, dates_only=dates_only)

    start_counts = Counter(a for a, f in zip(acts, first, strict=True) if f)
    follows: dict[str, Counter[str]] = defaultdict(Counter)
    for i in range(n):
        follows[acts[i]][END if last[i] else acts[i + 1]] += 1
    total_starts = sum(start_counts.values())
    start = tuple((a, c / total_starts) for a, c in sorted(start_counts.items(), key=lambda x: (-x[1], x[0])))
    routing = tuple(
        (a, tuple((b, c / sum(cnt.values())) for b, c in sorted(cnt.items(), key=lambda x: (-x[1], x[0]))))
        for a, cnt in sorted(follows.items())
    )

    proc = en - st
    counts = Counter(acts)
    by_act: dict[str, list[float]] = defaultdict(list)
    for a, p in zip(acts, proc, strict=True):
        if not math.isnan(p):
            by_act[a].append(max(float(p), 0.0))
    pools, pool_of = _pools(acts, res, begin, period_start, calendar, timezone, notes, dates_only=dates_only)
    delays = _delays(acts, st, en, prev_en, first, pools, pool_of, period_start, timezone)
    activities = []
    instantaneous: list[str] = []
    for a in sorted(counts):
        samples = np.sort(np.asarray(by_act.get(a, []), dtype=float))
        if len(samples) > MAX_SAMPLES:
            samples = np.quantile(samples, (np.arange(MAX_SAMPLES) + 0.5) / MAX_SAMPLES)
        if len(samples) == 0:
            instantaneous.append(a)
            samples = np.zeros(1)
        waits_a = np.sort(np.asarray(delays.get(a, [0.0]), dtype=float))
        if len(waits_a) > MAX_SAMPLES:
            waits_a = np.quantile(waits_a, (np.arange(MAX_SAMPLES) + 0.5) / MAX_SAMPLES)
        activities.append(
            ActivityModel(
                a,
                pool_of.get(a),
                tuple(float(x) for x in samples),
                counts[a],
                tuple(float(x) for x in waits_a),
            )
        )

    if instantaneous:
        notes.append(_instantaneous_words(instantaneous))
    reasons = _reasons(timing, len(case_start), case_start, period_start, span)
    observed = Observed(
        cases=len(case_start),
        period_days=period_days,
        cycle_times=tuple(float(x) for x in cycle),
        waits=tuple(float(x) for x in waits),
        activity_counts=tuple(sorted(counts.items())),
    )
    return SimModel(
        log=name,
        timezone=timezone,
        period_start=period_start,
        arrivals=arrivals,
        arrival_pattern=pattern,
        start=start,
        routing=routing,
        activities=tuple(activities),
        pools=pools,
        timing=timing,
        observed=observed,
        notes=tuple(notes),
        reasons=reasons,
    )


def _previous_by_resource(res: list[str | None], en: np.ndarray) -> np.ndarray:
    """For each instance, its resource's previous completion (any case), NaN for none."""
    import polars as pl

    f = pl.DataFrame({"r": res, "en": en, "i": np.arange(len(en))}).sort(["r", "en", "i"])
    prev = f.select(pl.col("en").shift(1).over("r").alias("p"), "i", "r")
    out = np.full(len(en), np.nan)
    idx = prev["i"].to_numpy()
    vals = prev["p"].to_numpy().astype(float)
    vals[prev["r"].is_null().to_numpy()] = np.nan
    out[idx] = vals
    return out


def _estimate_starts(
    acts: list[str],
    en: np.ndarray,
    prev_en: np.ndarray,
    prev_res: np.ndarray,
    first: np.ndarray,
    has_resources: bool,
    notes: list[str],
) -> tuple[np.ndarray, str]:
    """Starts for a log of completions only; see the module docstring."""
    st = prev_en.copy()
    if has_resources:
        st = np.fmax(st, np.where(prev_res <= en, prev_res, np.nan))
        notes.append(
            "the log has no start times: each start is estimated as the later of the case's previous "
            "completion and the same person's previous completion, so waiting is understated where "
            "people did other work in between"
        )
    else:
        notes.append(
            "the log has neither start times nor resources: each step takes the whole time since the "
            "previous one and nobody queues, so staffing changes cannot show an effect"
        )
    st = np.where(st <= en, st, en)
    # A case's first step has no earlier completion to bound it: it takes its activity's median time.
    codes, inverse = np.unique(np.asarray(acts, dtype=object).astype(str), return_inverse=True)
    known = ~first & ~np.isnan(st)
    for k in range(len(codes)):
        sel = (inverse == k) & known
        med = float(np.median(en[sel] - st[sel])) if sel.any() else 0.0
        todo = (inverse == k) & first
        st[todo] = en[todo] - med
    return st, "estimated"


def _saturated(st: np.ndarray, en: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """S(t) as points ``(times, S)``: time up to t during which at least ``capacity`` of the pool worked."""
    ok = ~np.isnan(st)
    times = np.concatenate([st[ok], en[ok]])
    step = np.concatenate([np.ones(ok.sum()), -np.ones(ok.sum())])
    order = np.lexsort((step, times))  # ends before starts at the same instant
    times, step = times[order], step[order]
    busy = np.cumsum(step)
    full = (busy[:-1] >= capacity).astype(float)
    s = np.concatenate([[0.0], np.cumsum(full * np.diff(times))])
    return times, s


def _delays(
    acts: list[str],
    st: np.ndarray,
    en: np.ndarray,
    prev_en: np.ndarray,
    first: np.ndarray,
    pools: tuple[Pool, ...],
    pool_of: dict[str, str],
    period_start: float,
    timezone: str,
) -> dict[str, list[float]]:
    """Per activity, the waiting before each instance that a busy pool does not explain.

    A step is ready at the case's previous completion.  Of its waiting, the
    time during which all of its pool's people were at work is queueing (the
    engine plays that itself); the rest is a delay (a customer's reply, a
    batch, a priority), counted in the pool's working seconds so that nights
    and weekends are not counted twice (the engine waits for the pool's hours
    anyway).  First steps have none: a case arrives at its first start.
    """
    from mining.simulation.hours import WeekHours

    ok = ~first & ~np.isnan(st) & ~np.isnan(prev_en) & (st >= prev_en)
    offset = local_hour(period_start, timezone) * 3600.0 + period_start % 3600.0
    act_arr = np.asarray(acts, dtype=object)
    queue = np.zeros(len(st))
    for p in pools:
        inp = np.isin(act_arr, p.activities)
        times, s = _saturated(st[inp], en[inp], p.capacity)
        if len(times):
            sel = ok & inp
            queue[sel] = np.interp(st[sel], times, s) - np.interp(prev_en[sel], times, s)
    clocks = {p.name: WeekHours(p.hours) for p in pools}
    out: dict[str, list[float]] = {}
    for a in sorted(set(acts)):
        sel = ok & (act_arr == a)
        if not sel.any():
            continue
        pool = pool_of.get(a)
        if pool is None:
            d = st[sel] - prev_en[sel]
        else:
            w = clocks[pool]
            d = w.work(st[sel] - period_start + offset) - w.work(prev_en[sel] - period_start + offset)
            d = d - queue[sel]
        out[a] = np.maximum(d, 0.0).tolist()
    return out


def _local_hours(epochs: np.ndarray, timezone: str) -> np.ndarray:
    """Hour of the week (0 = Monday 00:00) of each instant, in ``timezone``."""
    import polars as pl

    s = pl.Series((epochs * 1_000_000).astype(np.int64)).cast(pl.Datetime("us", "UTC"))
    local = s.dt.convert_time_zone(timezone)
    return (
        ((local.dt.weekday().cast(pl.Int32) - 1) * 24 + local.dt.hour().cast(pl.Int32)).to_numpy().astype(int)
    )


def _exposure(period_start: float, span: float, timezone: str) -> np.ndarray:
    """Hours each hour of the week is covered by the period (fractions at the ends)."""
    first = math.floor(period_start / 3600) * 3600.0
    starts = np.arange(first, period_start + span, 3600.0)
    cover = np.minimum(starts + 3600.0, period_start + span) - np.maximum(starts, period_start)
    return np.bincount(_local_hours(starts, timezone), weights=cover / 3600.0, minlength=HOURS_PER_WEEK)


def _dates_only(epochs: np.ndarray, timezone: str) -> bool:
    """Whether every instant is a local midnight: an export of dates (Road Traffic Fines), whose
    hour of the day says nothing, not even that the work happened at night."""
    import polars as pl

    if len(epochs) == 0:
        return False
    s = pl.Series((epochs * 1_000_000).astype(np.int64)).cast(pl.Datetime("us", "UTC"))
    local = s.dt.convert_time_zone(timezone)
    return bool((local.dt.truncate("1d") == local).all())


def _arrivals(
    case_start: np.ndarray,
    period_start: float,
    span: float,
    timezone: str,
    notes: list[str],
    *,
    dates_only: bool = False,
) -> tuple[tuple[float, ...], str]:
    from scipy.special import chdtrc

    counts = np.bincount(_local_hours(case_start, timezone), minlength=HOURS_PER_WEEK).astype(float)
    exposure = _exposure(period_start, span, timezone)
    if dates_only:
        # Every case starts "at midnight": the weekdays are the bins, and a day's arrivals are
        # spread over its hours.
        counts, exposure = counts.reshape(7, 24).sum(axis=1), exposure.reshape(7, 24).sum(axis=1) / 24
    n = counts.sum()
    steady = n / (span / 3600)
    expected = exposure / exposure.sum() * n
    keep = exposure >= 1.0  # an hour (a day) seen for minutes only at the period's ends says nothing
    stat = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
    p = float(chdtrc(keep.sum() - 1, stat)) if n > 1 and keep.sum() > 1 else 1.0
    if p > 0.001:
        return tuple([float(steady)] * HOURS_PER_WEEK), "steady"
    if dates_only:
        per_day = np.where(keep, counts / np.maximum(exposure * 24, 1e-9), steady)
        return tuple(float(x) for x in np.repeat(per_day, 24)), "weekday"
    rates = np.where(keep, counts / np.maximum(exposure, 1e-9), steady)
    return tuple(float(x) for x in rates), "weekly"


#: Activity names listed in a note before "and N more".
_NAMES_SHOWN = 6


def _instantaneous_words(names: list[str]) -> str:
    """One note for every activity without a processing time: BPIC 2012 has 16 (its A_ and O_ events)."""
    if len(names) == 1:
        return f"{names[0]}: no processing time in the log; taken as instantaneous"
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else ""
    return (
        f"{len(names)} activities have no processing time in the log ({shown}{more}); taken as instantaneous"
    )


def _pools(
    acts: list[str],
    res: list[str | None],
    begin: np.ndarray,
    period_start: float,
    calendar: Calendar | None,
    timezone: str,
    notes: list[str],
    *,
    dates_only: bool = False,
) -> tuple[tuple[Pool, ...], dict[str, str]]:
    work: dict[str, Counter[str]] = defaultdict(Counter)
    for a, r in zip(acts, res, strict=True):
        if r is not None:
            work[r][a] += 1
    if not work:
        return (), {}
    # Union-find over activities: a person joins the activities of their role.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    role: dict[str, list[str]] = {}
    for r, cnt in work.items():
        total = sum(cnt.values())
        mine = sorted(a for a, c in cnt.items() if c >= ROLE_SHARE * total) or [cnt.most_common(1)[0][0]]
        role[r] = mine
        for a in mine[1:]:
            parent[find(a)] = find(mine[0])
    by_activity: dict[str, Counter[str]] = defaultdict(Counter)
    for r, cnt in work.items():
        for a, c in cnt.items():
            by_activity[a][r] += c
    for a, cnt in by_activity.items():
        if a not in parent:  # nobody has it as part of their role: join its main doer's
            parent[find(a)] = find(role[cnt.most_common(1)[0][0]][0])
    groups: dict[str, list[str]] = defaultdict(list)
    for a in sorted(by_activity):
        groups[find(a)].append(a)
    members: dict[str, set[str]] = defaultdict(set)
    for r, mine in role.items():
        members[find(mine[0])].add(r)

    weeks = np.floor((begin - period_start) / WEEK).astype(int)
    hour = _local_hours(begin, timezone)
    n_weeks = int(weeks.max()) + 1
    act_arr = np.array(acts, dtype=object)
    res_arr = np.array([r or "" for r in res], dtype=object)
    pools: list[Pool] = []
    pool_of: dict[str, str] = {}
    used: set[str] = set()
    for root in sorted(groups, key=lambda g: (-sum(by_activity[a].total() for a in groups[g]), g)):
        its = groups[root]
        people = sorted(members[root])
        sel = np.isin(act_arr, its) & np.isin(res_arr, people)
        capacity = _typical_headcount(weeks[sel], res_arr[sel], n_weeks) or max(1, len(people))
        if calendar is not None:
            hours = _calendar_hours(calendar)
        else:
            seen = np.zeros((n_weeks, HOURS_PER_WEEK), dtype=bool)
            seen[weeks[sel], hour[sel]] = True
            exposure = np.ceil(_exposure(period_start, n_weeks * WEEK, timezone))
            share = seen.sum(axis=0) / np.maximum(exposure, 1)
            regular = share >= HOUR_SHARE
            # no regular hour at all: too little work to tell its hours, so round the clock (below)
            on = (regular | _busiest_hours(hour[sel], WORK_COVER) if regular.any() else regular).reshape(
                7, 24
            )
            for d in range(7):  # a working day is one stretch: a quiet lunch hour is still worked
                hit = np.flatnonzero(on[d])
                if len(hit):
                    on[d, hit[0] : hit[-1] + 1] = True
            if dates_only:  # work dated to a day was done some time in that day
                on[on.any(axis=1)] = True
            hours = tuple(bool(x) for x in on.ravel())
            if not any(hours):
                hours = tuple([True] * HOURS_PER_WEEK)
        top = max(its, key=lambda a: (by_activity[a].total(), a))
        name = top if len(its) == 1 else f"{top} team"
        while name in used:
            name += "'"
        used.add(name)
        pools.append(Pool(name, tuple(its), tuple(people), capacity, hours))
        for a in its:
            pool_of[a] = name
    if any(r is None for r in res):
        notes.append("steps without a resource in the log need nobody in the simulation")
    return tuple(pools), pool_of


def _busiest_hours(hours: np.ndarray, cover: float) -> np.ndarray:
    """The fewest hours of the week (flags) in which ``cover`` of the starts ``hours`` fell.

    A pool that works at scattered hours (a hospital's releases, a few a day at any hour) starts work
    in only an hour or two of the week in a fifth of the weeks; staffed for those alone its queue grows
    without end (Sepsis: a cycle time of 162 days simulated against 28.5 in the log).
    """
    counts = np.bincount(hours, minlength=HOURS_PER_WEEK)
    on = np.zeros(HOURS_PER_WEEK, dtype=bool)
    if counts.sum() == 0:
        return on
    order = np.argsort(-counts, kind="stable")
    needed = int(np.searchsorted(np.cumsum(counts[order]), cover * counts.sum())) + 1
    on[order[:needed]] = True
    return on


def _typical_headcount(weeks: np.ndarray, people: np.ndarray, n_weeks: int) -> int:
    """People at work in the week where the pool's median step falls (0 when it has no steps).

    Weeks are weighted by the steps done in them: a log with a year of trickle before the bulk (BPIC
    2013: 6 people a week for months, then a thousand) must be staffed as in the bulk, where its work
    and its queues are; in a steady log this is the plain median week.
    """
    if len(weeks) == 0:
        return 0
    heads = np.zeros(n_weeks, dtype=np.int64)
    for w in range(n_weeks):
        at = weeks == w
        if at.any():
            heads[w] = len(set(people[at]))
    steps = np.bincount(weeks, minlength=n_weeks)
    active = np.flatnonzero(steps)
    order = active[np.argsort(heads[active], kind="stable")]
    cum = np.cumsum(steps[order])
    return max(1, int(heads[order[np.searchsorted(cum, cum[-1] / 2)]]))


def _calendar_hours(calendar: Calendar) -> tuple[bool, ...]:
    start, end = calendar.window()
    h0 = start.hour + start.minute / 60
    h1 = 24.0 if end is None else end.hour + end.minute / 60
    out = []
    for d in range(7):
        for h in range(24):
            out.append((d + 1) in calendar.workdays and h0 <= h < h1)
    return tuple(out)


def _reasons(
    timing: str, cases: int, case_start: np.ndarray, period_start: float, span: float
) -> tuple[str, ...]:
    """Why a model might not reproduce its log, checked from the data, for the verdict."""
    out = []
    if timing in {"estimated", "none"}:
        out.append("missing start timestamps: processing and waiting times are estimated")
    if cases < MIN_CASES:
        out.append(f"too few cases ({cases:,}; at least {MIN_CASES} are needed)")
    mid = period_start + span / 2
    a, b = int((case_start < mid).sum()), int((case_start >= mid).sum())
    # Enough cases on the busier side to tell; the quiet side may hold almost none (an export whose
    # first year holds a few stragglers and whose last weeks hold the bulk is the strongest case).
    if max(a, b) >= 20 and max(a, b) > 1.5 * min(a, b):
        out.append(
            f"changing arrivals: {a:,} cases started in the first half of the period, {b:,} in the second"
        )
    return tuple(out)
