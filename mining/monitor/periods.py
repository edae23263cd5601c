"""KPIs per day, week or month, with open (censored) cases counted explicitly.

Every case is first reduced to a handful of facts (:func:`case_facts`, one
SQL query): when it started and ended, whether it is complete, its cycle time,
rework, cost, processing time.  The per-period figures (:func:`summarize`)
and the before/after comparison (:mod:`mining.monitor.compare`) are computed
from those facts, so both use the same case definitions.

Assignment to periods
---------------------
A case belongs to the period in which it **started** (its first start or
completion): ``started``, cycle times, rework, SLA, cost and PCE of a period
describe the cases that started in it.  Completion-based counts use the
period of the last event: ``completed`` (throughput) counts the cases that
completed in the period.  ``wip_end`` counts the cases open at the end of the
period.  Periods are local days, ISO weeks (Monday first) or months in the
calendar's time zone, else the log's (:func:`~mining.analysis.throughput.period_sql`).

When is a case complete?
------------------------
A log does not say which cases are finished, so the rule is explicit:

* the **data end** (``as_of``) is the log's last recorded instant;
* the **quiet horizon** is the 99th percentile of the gaps between consecutive
  steps of a case (activity completions: a start, a schedule or a suspension
  is no step, and the time from a start to its completion is work, not
  silence): a case silent for longer than almost every observed gap is
  unlikely to see another event;
* the **end activities** are given (``end_activities``), or else learned from
  the *settled* cases (silent for longer than the horizon; all cases when none
  is): every activity that ends at least 1 % of them.  An ending shared by one
  settled case in a hundred is a way the process ends (a cancellation, a
  refund); rarer endings are interruptions.

A case is then **complete** when its last activity is an end activity,
**open** (censored: it may still continue) when it is not and its last event
lies within the quiet horizon of the data end, and **stalled** when it is not
and it has been silent for longer (an abandoned case).  A learned end activity
can also be a step that usually leads on (a fine sent: most are paid later,
some never): a case that stopped at one within the quiet horizon is **open**
when, of that activity's occurrences silent as long, more than half went on
to another event (``likely_to_continue`` counts them).  Cycle time, rework,
cost and PCE are measured on complete cases only; open and stalled cases are
counted per period, never dropped silently.  Open cases stay in the work in
progress up to the data end; stalled ones leave it at their last event
(unlike :func:`~mining.analysis.throughput.work_in_progress`, which takes
every case as completed at its last event).  ``cycle_median_km_s`` is the
Kaplan-Meier median, which also uses the open cases (censored at the data end)
and the stalled ones (censored at their last event).

Where the export cuts the process
---------------------------------
An export is a window on a running process, and its edges distort what lies
near them; such periods are shown, and marked, but a control chart never
judges them (:mod:`mining.monitor.run`).  A period is **cut** (``cut`` says
why) when

* the data cover it only partly (``partial``): the newest period of a run, or
  the first one;
* it lies at the export's start and more than :data:`TRUNCATED_SHARE` of the
  cases that start in it began before the export: their first recorded
  activity is none of the **start activities** (learned like the end
  activities, from the cases that start later than the quiet horizon or the
  95th percentile cycle time after the first event, whichever is longer);
  every leading period in a row that is so is cut;
* no case starts in or after it although events go on: when the last case
  start lies more than ten mean inter-arrival times (and a day) before the data
  end, the export selected the cases that started up to then, and the periods
  from it on hold only their tails;
* no case completes before its end: when the first completion comes later
  than the median cycle time plus ten mean times between completions (and a
  day) after the first case start, the export selected the cases that
  completed from then on, and the cases that started earlier are only the long
  ones still open then.

Time range and calendar
-----------------------
Periods cover the log's robust range (:func:`~mining.analysis.span.robust_span`):
cases with an event dated outside it (placeholder dates such as 9999-12-31)
are left out and counted, and a run refuses to lay out more than
:data:`MAX_PERIODS` periods.  Each period has its **working days**: the
calendar's working weekdays without its public holidays (the holidays are
named in ``holidays``); without a calendar, the weekdays on which cases start
(a weekday with less than a tenth of the average starts is taken as closed),
so that volumes can be judged per working day.

The SLA is a limit on the elapsed cycle time.  A case's outcome is *decided*
when it is complete, or when it is open or stalled and has already run past
the limit (a known breach); the breach rate is breaches over decided cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.calendar import Calendar, Clock, clock
from mining.analysis.filters import Filter
from mining.analysis.performance import instances_sql, timed_sql
from mining.analysis.span import TimeSpan, robust_span
from mining.analysis.throughput import PERIODS, cases_sql, next_period, period_starts
from mining.durations import duration_words, format_duration
from mining.errors import MonitorError, Option, phrase
from mining.rates import RateCard
from mining.schema import IS_COMPLETION
from mining.store import numpy_column
from mining.words import agree, plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "COMPLETE",
    "END_SHARE",
    "MAX_PERIODS",
    "OPEN",
    "QUIET_QUANTILE",
    "STALLED",
    "TRUNCATED_SHARE",
    "CaseFacts",
    "CaseMeasure",
    "Completeness",
    "KpiInfo",
    "PeriodKPIs",
    "PeriodSeries",
    "case_facts",
    "kaplan_meier_quantile",
    "kpis_per_period",
    "left_out_note",
    "still_running",
    "summarize",
]

#: An activity is a default end activity when it ends at least this share of the settled cases.
END_SHARE = 0.01
#: The quiet horizon is this quantile of the gaps between consecutive steps (completions) of a case.
QUIET_QUANTILE = 0.99

#: A leading period is cut by the export's start when more of its cases than this began before the export.
TRUNCATED_SHARE = 0.05
#: The most periods a run lays out (a day per period over 13 years).
MAX_PERIODS = 5_000
#: The intake ended early when no case started for this many mean inter-arrival times before the data end.
INTAKE_GAPS = 10
#: A weekday is closed (no working day) when fewer cases than this share of the weekday average start on it.
CLOSED_WEEKDAY_SHARE = 0.1

COMPLETE, OPEN, STALLED = 0, 1, 2
_DAY = 86_400

# Sums go through DECIMAL: a parallel DOUBLE sum may differ in its last bits from
# run to run, and a repeated monitor run must give byte-identical results. The first and
# last activities avoid ordered and filtered aggregates, which Spark's SQL does not take:
# the last event is the one without a successor, the first the least (time, row).
_FACTS_SQL = """
WITH c AS ({cases}),
t AS ({timed}),
i AS (
    SELECT case_no, count(*) AS n_inst, count(DISTINCT unit) AS n_act,
           CAST(sum(CAST(proc AS DECIMAL(38, 6))) AS DOUBLE) AS proc,
           max(b_en) - min(coalesce(b_st, b_en)) AS lead
    FROM t GROUP BY case_no
),
l AS (
    SELECT case_no, max(CASE WHEN next_ts IS NULL THEN activity END) AS last_activity,
           arg_min(activity, struct_pack(t := ts, r := row_no)) AS first_activity,
           CAST(sum(CAST(cost AS DECIMAL(38, 6))) AS DOUBLE) AS cost
    FROM ({events}) ev GROUP BY case_no
)
SELECT c.case_no, k.case_id, k.variant_id, epoch(c.first) AS first_s, epoch(c.last) AS last_s,
       c.l_first, c.l_last, c.b_last - c.b_first AS cycle_b,
       l.last_activity, l.first_activity, l.cost, coalesce(i.n_inst, 0) AS n_inst, coalesce(i.n_act, 0) AS n_act, i.proc, i.lead
FROM c
JOIN cases k ON k.log_id = $m_log AND k.case_no = c.case_no
LEFT JOIN l ON l.case_no = c.case_no
LEFT JOIN i ON i.case_no = c.case_no
ORDER BY c.case_no
"""

_AS_OF_SQL = (
    "SELECT max(greatest(ts, coalesce(start_ts, ts))) FROM events WHERE log_id = $log "
    "AND ts BETWEEN $first AND $last AND coalesce(start_ts, ts) BETWEEN $first AND $last"
)
_GAP_SQL = (
    "SELECT quantile_cont(epoch(next_ts) - epoch(ts), $q) FROM {steps} WHERE log_id = $log "
    "AND next_ts IS NOT NULL AND ts >= $first AND next_ts <= $last"
)
# Per end activity: the gaps to the next event where one followed, and how often it ended a settled case.
_FOLLOW_SQL = (
    "SELECT activity, list(epoch(next_ts) - epoch(ts)) FILTER (WHERE next_ts IS NOT NULL AND next_ts <= $last) "
    "AS gaps, count(*) FILTER (WHERE next_ts IS NULL AND ts <= $settled) AS settled FROM {steps} "
    "WHERE log_id = $log AND ts >= $first AND ts <= $last AND list_contains($acts, activity) GROUP BY activity"
)
# The steps a case's silences are measured between: its activity instances' completions, each with the
# next one.  A start, a schedule or a suspension is no step (the gap from a start to its completion is
# work, not silence), so a log of start and complete events reads as the same log paired.
_COMPLETIONS = (
    "(SELECT log_id, activity, ts, lead(ts) OVER (PARTITION BY case_no ORDER BY ts, row_no) AS next_ts "
    f"FROM events WHERE log_id = $log AND {IS_COMPLETION})"
)


def _steps(store: Store, log_id: int) -> str:
    """The relation of :data:`_GAP_SQL`: the stored events (with their successors) when each is a
    completion, else :data:`_COMPLETIONS`."""
    # Most logs have no lifecycle column: the catalogue says so without a scan of the events.
    others = store.scalar(
        "SELECT has_lifecycle AND EXISTS (SELECT 1 FROM events e WHERE e.log_id = l.log_id "
        f"AND NOT {IS_COMPLETION}) FROM logs l WHERE l.log_id = ?",
        [log_id],
    )
    return _COMPLETIONS if others else "events"


# -- records -----------------------------------------------------------------


@dataclass(frozen=True)
class CaseMeasure:
    """An extra per-case measure computed elsewhere (conformance fitness, rule violations), plugged in.

    ``values`` maps a case id (text) or an internal case number (int) to a
    number; ``kind`` is ``"rate"`` for 0/1 values (shown as a share, charted
    with a p-chart) or ``"mean"``.  Periods average it over their complete
    cases that have a value.
    """

    label: str
    values: Mapping[Any, float]
    kind: str = "mean"
    unit: str = ""
    method: str = ""
    lower_is_better: bool = True

    def __post_init__(self) -> None:
        if self.kind not in {"rate", "mean"}:
            msg = f"measure {self.label!r}: kind must be 'rate' or 'mean', got {self.kind!r}"
            raise MonitorError(msg)


@dataclass(frozen=True)
class KpiInfo:
    """What one KPI column of :class:`PeriodKPIs` means; ``name`` is the field (``extra.<key>`` for plugged ones)."""

    name: str
    label: str
    unit: str  # "cases", "seconds", "share", "money", "ratio" or a measure's own unit
    kind: str  # "count", "duration", "rate", "mean"
    method: str
    lower_is_better: bool | None  # None: neither direction is better (volumes)


@dataclass(frozen=True)
class Completeness:
    """How complete, open and stalled cases were told apart (see the module docstring)."""

    as_of: dt.datetime | None
    quiet_seconds: float
    end_activities: tuple[str, ...]
    end_activities_given: bool
    settled_cases: int
    complete: int
    open: int
    stalled: int
    method: str
    start_activities: tuple[str, ...] = ()
    truncated: int = 0
    #: Cases whose last activity is an end activity that usually leads on, too recent to be done with it.
    likely_to_continue: int = 0


@dataclass(frozen=True)
class PeriodKPIs:
    """The KPIs of one period.  Durations are seconds; rates are shares in [0, 1]; ``None`` when not measurable."""

    start: dt.date  # local first day
    end: dt.date  # local first day of the next period (exclusive)
    partial: bool  # the data window does not cover the whole period
    started: int
    completed: int
    open: int
    stalled: int
    wip_end: int
    cycle_median_s: float | None
    cycle_p90_s: float | None
    cycle_median_km_s: float | None
    cycle_median_business_s: float | None
    cycle_p90_business_s: float | None
    rework_cases: int
    rework_rate: float | None
    sla_breaches: int
    sla_decided: int
    sla_breach_rate: float | None
    cost_per_case: float | None
    pce_median: float | None
    extra: Mapping[str, float | None]
    extra_n: Mapping[str, int]
    working_days: float = 0.0
    holidays: tuple[str, ...] = ()
    truncated: int = 0
    cut: str = ""  # why the export's edges distort the period; empty when they do not
    #: The share of its cases that would usually still be running at the data end, given their age then
    #: (the complete cases' cycle times): what its open share should be.  An export of finished cases only
    #: shows a young period's fast cases and no open ones; this says the period is too young to judge.
    expected_open: float = 0.0

    def value(self, name: str) -> float | None:
        """A KPI by its :attr:`KpiInfo.name`."""
        if name.startswith("extra."):
            return self.extra.get(name[len("extra.") :])
        v = getattr(self, name)
        return None if v is None else float(v)


@dataclass(frozen=True)
class PeriodSeries:
    """KPIs per period, oldest first, contiguous (empty periods included)."""

    period: str
    timezone: str
    calendar: str | None
    sla_seconds: float | None
    cost_source: str | None
    processing_measured: bool
    first: dt.datetime | None
    as_of: dt.datetime | None
    cases: int
    left_out: int
    completeness: Completeness
    kpis: tuple[KpiInfo, ...]
    periods: tuple[PeriodKPIs, ...]
    note: str
    range_note: str = ""
    left_out_events: int = 0
    working_days_method: str = ""

    def kpi(self, name: str) -> KpiInfo:
        for k in self.kpis:
            if k.name == name:
                return k
        msg = f"no KPI {name!r}; KPIs: {', '.join(k.name for k in self.kpis)}"
        raise MonitorError(msg)

    def values(self, name: str) -> tuple[float | None, ...]:
        return tuple(p.value(name) for p in self.periods)


@dataclass(frozen=True, eq=False)
class CaseFacts:
    """One row per kept case, as aligned numpy arrays (internal input of summaries and comparisons).

    Instants are epoch seconds (``first``, ``last``) and local epoch seconds
    (``first_local``, ``last_local``: seconds since 1970-01-01 00:00 local
    time); ``p_start``/``p_end`` are the local first days of the periods the
    case started and ended in.  ``cycle_b`` is business seconds under a
    calendar, else equal to ``cycle``.  ``state`` is 0 complete, 1 open,
    2 stalled; ``truncated`` marks the cases that began before the export
    (see the module docstring).  Missing numbers are NaN.  ``as_of`` is the data end;
    ``end_local``/``end_period`` the end of the window the periods cover: the
    data end, or the filter's end when that is earlier (no kept case starts
    after it).
    """

    log_id: int
    period: str
    timezone: str
    calendar: Calendar | None
    as_of: float | None
    end_local: float | None
    end_period: dt.date | None
    window_last_local: float | None  # the window's last instant, local: it lies in ``end_period``
    processing_measured: bool
    cost_source: str | None
    case_no: np.ndarray
    case_id: tuple[str, ...]
    variant_id: np.ndarray
    first: np.ndarray
    last: np.ndarray
    first_local: np.ndarray
    last_local: np.ndarray
    p_start: tuple[dt.date, ...]
    p_end: tuple[dt.date, ...]
    cycle: np.ndarray
    cycle_b: np.ndarray
    state: np.ndarray
    rework: np.ndarray
    cost: np.ndarray
    proc: np.ndarray
    pce: np.ndarray
    extra: Mapping[str, np.ndarray]
    measures: Mapping[str, CaseMeasure]
    completeness: Completeness
    left_out: int
    truncated: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=bool))
    robust: TimeSpan | None = None
    data_first: float | None = None  # the first kept instant (epoch seconds)
    left_out_cases: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        # Facts are kept between runs (``monitor(memo=...)``): no consumer may change them in place.
        for value in (*vars(self).values(), *self.extra.values()):
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def n(self) -> int:
        return len(self.case_no)

    def at_period(self, period: str) -> CaseFacts:
        """The same cases in days, weeks or months: only the period columns change, no query runs."""
        starts = period_starts(np.concatenate([self.first_local, self.last_local]), period)
        end = None if self.window_last_local is None else period_starts([self.window_last_local], period)[0]
        return dataclasses.replace(
            self,
            period=period,
            p_start=tuple(starts[: self.n]),
            p_end=tuple(starts[self.n :]),
            end_period=end,
        )

    @property
    def complete(self) -> np.ndarray:
        return self.state == COMPLETE

    def kept(self, case_no: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found) of the cases ``case_no`` among the facts.  A case the facts left out (an
        event outside the data's range) is not found: by position alone it took the next case's place."""
        case_no = np.asarray(case_no)
        pos = np.searchsorted(self.case_no, case_no)
        found = pos < self.n
        found[found] = self.case_no[pos[found]] == case_no[found]
        return pos, found

    def per_case(self, case_no: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` of the cases ``case_no`` as one float per kept case (NaN where none is given)."""
        out = np.full(self.n, np.nan)
        pos, found = self.kept(case_no)
        out[pos[found]] = np.asarray(values, dtype=float)[found]
        return out

    def age(self) -> np.ndarray:
        """Seconds each case has run without completing: to the data end if open, to its last event otherwise."""
        end = np.where(self.state == OPEN, self.as_of if self.as_of is not None else self.last, self.last)
        return end - self.first

    def sla(self, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """(decided, breached) per case against an elapsed-time limit in seconds."""
        complete = self.complete
        breached = np.where(complete, self.cycle > limit, self.age() > limit)
        decided = complete | breached
        return decided, breached & decided


# -- building the facts ------------------------------------------------------


def case_facts(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    period: str = "week",
    calendar: Calendar | None = None,
    timezone: str | None = None,
    cost_per_hour: float | RateCard | None = None,
    end_activities: Sequence[str] = (),
    measures: Mapping[str, CaseMeasure] | None = None,
    as_of: dt.datetime | None = None,
) -> CaseFacts:
    """The facts of every kept case (see :class:`CaseFacts` and the module docstring)."""
    if period not in PERIODS:
        msg = f"unknown period {period!r}; expected one of {', '.join(PERIODS)}"
        raise MonitorError(msg)
    card = cost_per_hour if isinstance(cost_per_hour, RateCard) else None
    if card is not None:
        cost_per_hour = None
    if cost_per_hour is not None and not cost_per_hour >= 0:
        msg = f"cost per hour must be zero or more, got {cost_per_hour}"
        raise MonitorError(msg)
    _check_end_activities(store, log_id, end_activities)
    clk = clock(store, log_id, calendar, timezone=timezone)
    inst = instances_sql(store, log_id, flt)
    measured = inst.source != "none"
    cases, params = cases_sql(store, log_id, flt)
    ext = clk.extend(
        cases, times={"b_first": "first", "b_last": "last"}, local={"l_first": "first", "l_last": "last"}
    )
    sql = _FACTS_SQL.format(
        cases=ext,
        timed=timed_sql(inst, clk),
        events=inst.events,
    )
    import pyarrow as pa
    import pyarrow.compute as pc

    table = store.arrow(sql, {**params, **inst.params, "m_log": log_id})
    rng = robust_span(store, log_id)
    fence = {"log": log_id, "first": rng.first, "last": rng.last}
    # Cases with an event outside the robust range (a placeholder date) cannot be placed in time,
    # nor can cases beyond the calendar's 1900-2100 table, which have no local time.
    dated = pc.and_(pc.is_valid(table.column("l_first")), pc.is_valid(table.column("l_last")))
    if rng.first is None or rng.last is None:
        dated = pc.and_(dated, False)
    elif not rng.complete:
        inside = pc.and_(
            pc.greater_equal(table.column("first_s"), rng.first.timestamp()),
            pc.less_equal(table.column("last_s"), rng.last.timestamp()),
        )
        dated = pc.and_(dated, pc.fill_null(inside, False))
    left_out = table.num_rows - int(pc.sum(dated).as_py() or 0)
    left_out_cases = np.zeros(0, dtype=np.int64)
    if left_out:
        gone = table.filter(pc.invert(dated)).column("case_no")
        left_out_cases = np.asarray(numpy_column(gone), dtype=np.int64)
        table = table.filter(dated)
    n_kept = table.num_rows

    def arr(name: str, dtype: Any = float) -> np.ndarray:
        # Column by column in Arrow: a 1M-case log would spend seconds in Python lists.
        column = table.column(name)
        if dtype is float:
            return np.asarray(numpy_column(column.cast(pa.float64())), dtype=float)  # nulls are NaN
        return np.asarray(numpy_column(column), dtype=dtype)

    def values(name: str) -> list[Any]:
        # Periods and activities repeat: convert each distinct value once.
        encoded = table.column(name).combine_chunks().dictionary_encode()
        distinct = [*encoded.dictionary.to_pylist(), None]
        codes = numpy_column(encoded.indices)  # a null (NaN) stands for the None at the end
        codes = np.where(np.isnan(codes), len(distinct) - 1, codes) if encoded.indices.null_count else codes
        return [distinct[int(k)] for k in codes.tolist()]

    first, last = arr("first_s"), arr("last_s")
    cycle = last - first
    cycle_b = arr("cycle_b") if clk.business else cycle.copy()
    has_cost = bool(store.scalar("SELECT has_cost FROM logs WHERE log_id = ?", [log_id]))
    proc = arr("proc") if measured else np.full(n_kept, np.nan)
    lead = arr("lead")
    if card is not None:
        from mining.costs import case_costs

        priced = case_costs(store, log_id, card, flt, calendar=calendar)
        cost = np.full(n_kept, np.nan)
        case_no_kept = arr("case_no", np.int64)
        found = np.isin(case_no_kept, priced.case_no)
        cost[found] = priced.total[np.searchsorted(priced.case_no, case_no_kept[found])]
        cost_source = f"rate card ({card.label()})"
    elif cost_per_hour is not None:
        # Instances without a usable start are instantaneous: no processing cost.
        base = np.nan_to_num(proc, nan=0.0) if measured else cycle_b
        cost = base / 3600.0 * float(cost_per_hour)
        cost_source = "cost per hour x processing time" if measured else "cost per hour x lead time"
    elif has_cost:
        cost = arr("cost")
        cost_source = "cost column"
    else:
        cost, cost_source = np.full(n_kept, np.nan), None
    with np.errstate(divide="ignore", invalid="ignore"):
        pce = np.where(lead > 0, proc / lead, np.nan)

    as_of_ts = as_of or store.scalar(_AS_OF_SQL, fence)
    as_of_s = None if as_of_ts is None else as_of_ts.timestamp()
    end_local = last_local = _local_of(store, clk, as_of_ts)
    if flt is not None and flt.end is not None and (as_of_ts is None or flt.end <= as_of_ts):
        # The filter's end is exclusive: it closes the window, and its last period
        # is the one holding the instant just before it.
        end_local = _local_of(store, clk, flt.end)
        last_local = _local_of(store, clk, flt.end - dt.timedelta(microseconds=1))
    steps = _steps(store, log_id)
    gap = store.scalar(_GAP_SQL.format(steps=steps), {**fence, "q": QUIET_QUANTILE})
    quiet = float(gap) if gap is not None else 0.0
    last_activity = values("last_activity")
    state, completeness = _states(last_activity, last, as_of_s, as_of_ts, quiet, tuple(end_activities))
    if not end_activities and as_of_s is not None:
        state, completeness = _likely_to_continue(
            store, fence, state, completeness, last_activity, last, as_of_s, as_of_s - quiet, steps
        )
    truncated, starts = _truncated(values("first_activity"), first, cycle, quiet)
    completeness = dataclasses.replace(
        completeness,
        start_activities=starts,
        truncated=int(truncated.sum()),
        method=completeness.method
        + f" A case began before the export when its first activity is none of the start activities "
        f"(learned from the cases that start long after the first event: {', '.join(starts) or 'none'}).",
    )

    case_id = tuple(table.column("case_id").to_pylist())
    case_no = arr("case_no", np.int64)
    extra = {key: _measure_values(m, case_id, case_no) for key, m in (measures or {}).items()}
    first_local = arr("l_first")
    last_local_of_case = arr("l_last")
    facts = CaseFacts(
        log_id=log_id,
        period=period,
        timezone=clk.timezone,
        calendar=clk.calendar,
        as_of=as_of_s,
        end_local=end_local,
        end_period=None,
        window_last_local=last_local,
        processing_measured=measured,
        cost_source=cost_source,
        case_no=case_no,
        case_id=case_id,
        variant_id=arr("variant_id", np.int64),
        first=first,
        last=last,
        first_local=first_local,
        last_local=last_local_of_case,
        p_start=(),
        p_end=(),
        cycle=cycle,
        cycle_b=cycle_b,
        state=state,
        rework=arr("n_inst", np.int64) > arr("n_act", np.int64),
        cost=cost,
        proc=proc,
        pce=pce,
        extra=extra,
        measures=dict(measures or {}),
        completeness=completeness,
        left_out=left_out,
        truncated=truncated,
        robust=rng,
        data_first=float(first.min()) if n_kept else None,
        left_out_cases=left_out_cases,
    )
    return facts.at_period(period)


def _local_of(store: Store, clk: Clock, instant: dt.datetime | None) -> float | None:
    """Local epoch seconds of one instant, through the same clock as the cases."""
    if instant is None:
        return None
    sql = clk.extend("SELECT CAST($t AS TIMESTAMPTZ) AS t", local={"l_t": "t"})
    value = store.scalar(f"SELECT l_t FROM ({sql}) x", {"t": instant})
    return None if value is None else float(value)


def _check_end_activities(store: Store, log_id: int, end_activities: Sequence[str]) -> None:
    """Refuse an end activity the log does not have: no case would ever complete, silently."""
    if not end_activities:
        return
    known = [
        str(r[0])
        for r in store.query(
            "SELECT activity FROM events WHERE log_id = ? GROUP BY activity ORDER BY count(*) DESC", [log_id]
        ).rows
    ]
    unknown = [a for a in end_activities if a not in known]
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], known, n=3, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(repr(c) for c in close)}?"
        if close
        else f"the log's activities are {', '.join(repr(a) for a in known[:12])}{' ...' if len(known) > 12 else ''}"
    )
    msg = f"end activit{'y' if len(unknown) == 1 else 'ies'} {', '.join(repr(a) for a in unknown)} not in the log"
    raise MonitorError(msg, hint=hint)


def _states(
    last_activity: list[str | None],
    last: np.ndarray,
    as_of: float | None,
    as_of_ts: dt.datetime | None,
    quiet: float,
    given: tuple[str, ...],
) -> tuple[np.ndarray, Completeness]:
    n = len(last_activity)
    settled = (last <= as_of - quiet) if as_of is not None else np.ones(n, dtype=bool)
    if given:
        ends = tuple(dict.fromkeys(given))
    else:
        pool = (
            [a for a, s in zip(last_activity, settled, strict=True) if s] if settled.any() else last_activity
        )
        counts: dict[str, int] = {}
        for a in pool:
            if a is not None:
                counts[a] = counts.get(a, 0) + 1
        total = len(pool)
        ends = tuple(
            a for a, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if k >= END_SHARE * total
        )
    is_end = np.array([a in ends for a in last_activity], dtype=bool)
    state = np.where(is_end, COMPLETE, np.where(settled, STALLED, OPEN)).astype(np.int8)
    source = (
        "given with --end-activity"
        if given
        else f"learned: the activities that end at least {END_SHARE:.0%} of the settled cases "
        "(silent for longer than the quiet horizon)"
    )
    method = (
        f"A case is complete when its last activity is an end activity ({source}: {', '.join(ends) or 'none'}). "
        f"Otherwise it is open (censored) when its last event lies within the quiet horizon "
        f"({format_duration(quiet)}, the {QUIET_QUANTILE:.0%} quantile of the gaps between consecutive steps "
        "of a case, from one activity's completion to the next) of the data end, and stalled when it has "
        "been silent for longer."
    )
    return state, Completeness(
        as_of=as_of_ts,
        quiet_seconds=quiet,
        end_activities=ends,
        end_activities_given=bool(given),
        settled_cases=int(settled.sum()),
        complete=int((state == COMPLETE).sum()),
        open=int((state == OPEN).sum()),
        stalled=int((state == STALLED).sum()),
        method=method,
    )


def _likely_to_continue(
    store: Store,
    fence: dict[str, Any],
    state: np.ndarray,
    completeness: Completeness,
    last_activity: list[str | None],
    last: np.ndarray,
    as_of: float,
    settled_before: float,
    steps: str = "events",
) -> tuple[np.ndarray, Completeness]:
    """Reopen the recent cases whose learned end activity, at their age, usually still leads on.

    An activity can end a process in some cases and be a step in many more (a fine sent and never paid
    ends there; most sent fines are paid later).  A case that stopped at it ``t`` ago is judged by the
    log's own history of that activity: of its occurrences still silent ``t`` after it happened, the share
    that went on to another event (the rest ended settled cases).  Above one half, the case is more
    likely open than complete; near the data end such false completions pile up and look like a sudden
    drop in cycle time.
    """
    recent = (state == COMPLETE) & (last > settled_before)
    if not recent.any():
        return state, completeness
    acts = sorted({a for a, r in zip(last_activity, recent.tolist(), strict=True) if r and a is not None})
    rows = store.query(
        _FOLLOW_SQL.format(steps=steps),
        {**fence, "settled": dt.datetime.fromtimestamp(settled_before, tz=dt.UTC), "acts": acts},
    ).rows
    history = {a: (np.sort(np.asarray(gaps or [], dtype=float)), int(ended)) for a, gaps, ended in rows}
    state = state.copy()
    reopened = 0
    for i in np.flatnonzero(recent):
        gaps, ended = history.get(last_activity[i] or "", (np.zeros(0), 0))
        went_on = len(gaps) - int(np.searchsorted(gaps, as_of - last[i], side="right"))
        if went_on + ended and went_on / (went_on + ended) > 0.5:
            state[i] = OPEN
            reopened += 1
    if not reopened:
        return state, completeness
    return state, dataclasses.replace(
        completeness,
        complete=completeness.complete - reopened,
        open=completeness.open + reopened,
        likely_to_continue=reopened,
        method=completeness.method
        + f" A case that stopped at an end activity is open instead when, of that activity's occurrences "
        f"as long ago, most went on to another step ({reopened:,} case{'' if reopened == 1 else 's'}).",
    )


def _truncated(
    first_activity: list[str | None], first: np.ndarray, cycle: np.ndarray, quiet: float
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Which cases began before the export, and the start activities that tell (see the module docstring)."""
    n = len(first_activity)
    if n == 0:
        return np.zeros(0, dtype=bool), ()
    horizon = max(quiet, float(np.nanquantile(cycle, 0.95)) if np.isfinite(cycle).any() else 0.0)
    late = first >= float(first.min()) + horizon
    pool = [a for a, ok in zip(first_activity, late, strict=True) if ok] if late.any() else first_activity
    counts: dict[str, int] = {}
    for a in pool:
        if a is not None:
            counts[a] = counts.get(a, 0) + 1
    total = len(pool)
    starts = tuple(
        a for a, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if k >= END_SHARE * total
    )
    known = set(starts)
    return np.array([a not in known for a in first_activity], dtype=bool), starts


def _measure_values(m: CaseMeasure, case_id: tuple[str, ...], case_no: np.ndarray) -> np.ndarray:
    out = np.full(len(case_id), np.nan)
    by_id = {k: v for k, v in m.values.items() if isinstance(k, str)}
    by_no = {int(k): v for k, v in m.values.items() if not isinstance(k, str)}
    for i, (cid, cno) in enumerate(zip(case_id, case_no.tolist(), strict=True)):
        v = by_id.get(cid, by_no.get(cno))
        if v is not None:
            out[i] = float(v)
    return out


# -- statistics ----------------------------------------------------------------


def kaplan_meier_quantile(durations: np.ndarray, observed: np.ndarray, q: float = 0.5) -> float | None:
    """The first duration at which the Kaplan-Meier share still running falls to ``1 - q`` or below.

    ``observed`` is true for completed cases and false for censored ones; at
    equal durations completions count before censorings.  ``None`` when the
    curve never falls that far (too many cases still open).  Without censoring
    this is the lower empirical quantile (for the median of an even count, the
    lower middle value).

    Examples
    --------
    >>> import numpy as np
    >>> kaplan_meier_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, False, True, True]))
    3.0
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    ok = ~np.isnan(d)
    d, e = d[ok], e[ok]
    if d.size == 0:
        return None
    order = np.lexsort((~e, d))
    d, e = d[order], e[order]
    at_risk = d.size - np.arange(d.size)
    survival = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
    hit = np.flatnonzero(e & (survival <= 1.0 - q + 1e-12))
    return float(d[hit[0]]) if hit.size else None


def _quantile(values: np.ndarray, q: float) -> float | None:
    v = values[~np.isnan(values)]
    return float(np.quantile(v, q)) if v.size else None


def _mean(values: np.ndarray) -> float | None:
    v = values[~np.isnan(values)]
    return float(v.mean()) if v.size else None


# -- the summary ----------------------------------------------------------------


def _kpis(facts: CaseFacts, sla: float | None) -> tuple[KpiInfo, ...]:
    cal = facts.calendar
    out = [
        KpiInfo(
            "started",
            "Cases started",
            "cases",
            "count",
            "Cases whose first event (start or completion) falls in the period.",
            None,
        ),
        KpiInfo(
            "completed",
            "Cases completed (throughput)",
            "cases",
            "count",
            "Complete cases whose last event falls in the period (completion period).",
            None,
        ),
        KpiInfo(
            "open",
            "Open cases (censored)",
            "cases",
            "count",
            "Cases started in the period that are still open at the data end.",
            None,
        ),
        KpiInfo(
            "stalled",
            "Stalled cases",
            "cases",
            "count",
            "Cases started in the period that stopped before an end activity and have been silent "
            "for longer than the quiet horizon.",
            None,
        ),
        KpiInfo(
            "wip_end",
            "Work in progress at period end",
            "cases",
            "count",
            "Cases started before the end of the period and not yet finished then: complete and stalled "
            "cases until their last event, open cases until the data end.",
            None,
        ),
        KpiInfo(
            "cycle_median_s",
            "Median cycle time",
            "seconds",
            "duration",
            "Median elapsed time from first start to last completion over the complete cases started in "
            "the period; open and stalled cases are excluded (see the Kaplan-Meier median).",
            True,
        ),
        KpiInfo(
            "cycle_p90_s",
            "90th percentile cycle time",
            "seconds",
            "duration",
            "90th percentile (linear interpolation) of the elapsed cycle time of the complete cases started "
            "in the period.",
            True,
        ),
        KpiInfo(
            "cycle_median_km_s",
            "Median cycle time (Kaplan-Meier)",
            "seconds",
            "duration",
            "Kaplan-Meier median of the cycle time of all cases started in the period: open cases are "
            "censored at the data end, stalled ones at their last event; empty when fewer than half "
            "are known to have completed.",
            True,
        ),
    ]
    if cal is not None:
        out += [
            KpiInfo(
                "cycle_median_business_s",
                "Median cycle time (business)",
                "seconds",
                "duration",
                f"Median business time ({cal.label()}) from first start to last completion over the "
                "complete cases started in the period.",
                True,
            ),
            KpiInfo(
                "cycle_p90_business_s",
                "90th percentile cycle time (business)",
                "seconds",
                "duration",
                f"90th percentile of the business cycle time ({cal.label()}) of the complete cases started "
                "in the period.",
                True,
            ),
        ]
    out.append(
        KpiInfo(
            "rework_rate",
            "Rework rate",
            "share",
            "rate",
            "Share of the complete cases started in the period in which some activity occurs more than "
            "once (activity instances, as in the rework analysis).",
            True,
        )
    )
    if sla is not None:
        out.append(
            KpiInfo(
                "sla_breach_rate",
                "SLA breach rate",
                "share",
                "rate",
                f"Share of the decided cases started in the period whose elapsed cycle time exceeds "
                f"{format_duration(sla)}; a case is decided when complete, or when still open or "
                "stalled but already past the limit.",
                True,
            )
        )
    if facts.cost_source is not None:
        out.append(
            KpiInfo(
                "cost_per_case",
                "Cost per case",
                "money",
                "mean",
                f"Mean cost of the complete cases started in the period ({facts.cost_source}"
                + (", business time" if cal is not None and facts.cost_source != "cost column" else "")
                + ").",
                True,
            )
        )
    if facts.processing_measured:
        out.append(
            KpiInfo(
                "pce_median",
                "Process cycle efficiency",
                "ratio",
                "mean",
                "Median over the complete cases started in the period of processing time (start to "
                "completion of each activity) divided by lead time (first start to last completion)"
                + (" in business time" if cal is not None else "")
                + ".",
                False,
            )
        )
    for key, m in facts.measures.items():
        out.append(
            KpiInfo(
                f"extra.{key}",
                m.label,
                m.unit or ("share" if m.kind == "rate" else ""),
                "rate" if m.kind == "rate" else "mean",
                m.method or f"Mean of {m.label} over the complete cases started in the period.",
                m.lower_is_better,
            )
        )
    return tuple(out)


def _period_days(facts: CaseFacts) -> list[dt.date]:
    days = set(facts.p_start) | set(facts.p_end)
    if facts.end_period is not None:
        days.add(facts.end_period)
    days.discard(None)  # type: ignore[arg-type]
    if not days:
        return []
    day = min(days)
    last = max(days) if facts.end_period is None else max(facts.end_period, *facts.p_start)
    per = {"day": 1, "week": 7, "month": 28}[facts.period]
    if (last - day).days // per + 1 > MAX_PERIODS:
        span = f"{day.isoformat()} to {last.isoformat()}"
        msg = phrase(
            f"the data span {span}: more than {MAX_PERIODS:,} {facts.period}s to lay out; choose a longer ",
            Option("period", "week" if facts.period == "day" else "month"),
            " or keep a shorter window (",
            Option("since", "DATE"),
            ")",
        )
        raise MonitorError(msg)
    out = []
    while day <= last:
        out.append(day)
        day = next_period(day, facts.period)
    return out


def _local_midnight(day: dt.date) -> float:
    return float((day - dt.date(1970, 1, 1)).days * _DAY)


def _weekday(local: np.ndarray) -> np.ndarray:
    """ISO weekday (1 = Monday) of local epoch seconds; 1970-01-01 was a Thursday."""
    return (np.floor(local / _DAY).astype(np.int64) + 3) % 7 + 1


def _working_days(
    facts: CaseFacts, days: Sequence[dt.date]
) -> tuple[list[float], list[tuple[str, ...]], str]:
    """Working days and named holidays of each period, and how they were found."""
    if not days:
        return [], [], ""
    first, last = days[0], next_period(days[-1], facts.period) - dt.timedelta(days=1)
    cal = facts.calendar
    names: dict[dt.date, str] = {}
    if cal is not None:
        open_days = set(cal.workdays)
        closed = cal.closed_dates(first, last)
        names = {d: "closed" for d in closed}
        if cal.country:
            import holidays

            found = holidays.country_holidays(
                cal.country, subdiv=cal.subdivision, years=range(first.year, last.year + 1)
            )
            names.update({d: str(n) for d, n in found.items() if d in closed})
        how = f"working days of the calendar ({cal.label()}) without its closed days"
    else:
        closed = frozenset()
        starts = np.bincount(_weekday(facts.first_local), minlength=8)[1:]
        average = starts.sum() / 7
        open_days = {w + 1 for w in range(7) if starts[w] >= CLOSED_WEEKDAY_SHARE * average}
        if len(open_days) == 7:
            how = "every day of the week: cases start on all of them"
        else:
            shut = _and([_WEEKDAYS[w - 1] for w in range(1, 8) if w not in open_days])
            how = (
                f"the weekdays on which cases start; {shut} "
                f"{'has' if len(open_days) == 6 else 'have'} fewer than {CLOSED_WEEKDAY_SHARE:.0%} of the "
                "average starts and count as closed"
            )
    working: list[float] = []
    marks: list[tuple[str, ...]] = []
    for day in days:
        end = next_period(day, facts.period)
        n = 0
        hol: list[str] = []
        d = day
        while d < end:
            if d in closed:
                if d.isoweekday() in open_days:
                    hol.append(f"{d.isoformat()} {names.get(d, 'closed')}")
            elif d.isoweekday() in open_days:
                n += 1
            d += dt.timedelta(days=1)
        working.append(float(n))
        marks.append(tuple(hol))
    return working, marks, how


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _cuts(
    facts: CaseFacts,
    days: Sequence[dt.date],
    partial: Sequence[bool],
    started: np.ndarray,
    truncated: np.ndarray,
) -> tuple[list[str], str]:
    """Why each period is cut by the export's edges (empty when it is not), and a sentence on the intake."""
    cut = ["" for _ in days]
    for i, day in enumerate(days):
        if partial[i]:
            first = facts.first_local.min() > _local_midnight(day) if facts.n else False
            cut[i] = "the data begin inside it" if first else "the data end inside it"
    for i in range(len(days)):
        if partial[i] and i == 0:
            continue
        if started[i] and truncated[i] / started[i] > TRUNCATED_SHARE:
            cut[i] = cut[i] or (
                f"{truncated[i]:,} of its {started[i]:,} cases began before the export (no usual first activity)"
            )
        elif started[i]:
            break
    intake = ""
    done = facts.last[facts.complete]
    if done.size >= 2 and facts.n:
        first_done = float(done.min())
        mean_gap = (float(done.max()) - first_done) / (done.size - 1)
        typical = float(np.median(facts.cycle[facts.complete]))
        late = first_done - float(facts.first.min())
        if late > typical + max(INTAKE_GAPS * mean_gap, _DAY):
            done_local = float(facts.last_local[facts.complete].min())
            when = dt.date(1970, 1, 1) + dt.timedelta(days=int(done_local // _DAY))
            head = 0
            for i, day in enumerate(days):
                if _local_midnight(day) <= done_local:
                    cut[i] = cut[i] or (
                        f"no case completes before {when.isoformat()}: its cases are only those still open then"
                    )
                    head += 1
            intake = (
                f"No case completes before {when.isoformat()}, {duration_words(late)} after the first case "
                f"starts: the export holds the cases that completed from then on, so cases that started earlier "
                f"are in it only if they ran long, and the first {head} {facts.period}s are shown but not judged."
            )
    if facts.n >= 2 and facts.as_of is not None:
        last_start = float(facts.first.max())
        mean_gap = (last_start - float(facts.first.min())) / (facts.n - 1)
        silence = facts.as_of - last_start
        if silence > max(INTAKE_GAPS * mean_gap, _DAY):
            last_local = float(facts.first_local.max())
            when = dt.date(1970, 1, 1) + dt.timedelta(days=int(last_local // _DAY))
            tail = 0
            for i, day in enumerate(days):
                if _local_midnight(next_period(day, facts.period)) > last_local:
                    cut[i] = (
                        cut[i] or f"no case starts after {when.isoformat()}: only the tails of earlier cases"
                    )
                    tail += 1
            intake += (" " if intake else "") + (
                f"No case starts after {when.isoformat()} although events go on for {duration_words(silence)}: "
                f"the export holds the cases started up to then, so the last {tail} {facts.period}s hold only "
                "their tails and are shown but not judged."
            )
    return cut, intake


def still_running(durations: np.ndarray, follow: np.ndarray) -> np.ndarray:
    """For cases followed for ``follow`` seconds, the chance each would still be running were it like the
    cases of ``durations`` (complete cases' cycle times; NaN ignored): the share of them that took longer."""
    known = np.sort(durations[~np.isnan(durations)])
    if known.size == 0:
        return np.zeros(len(follow))
    return 1.0 - np.searchsorted(known, follow, side="right") / known.size


def _expected_open(facts: CaseFacts, ps: np.ndarray, n_p: int) -> np.ndarray:
    """Per period, how many of its cases would usually still be running at the data end."""
    if facts.as_of is None:
        return np.zeros(n_p)
    running = still_running(facts.cycle[facts.complete], facts.as_of - facts.first)
    return np.bincount(ps, weights=running, minlength=n_p)


def summarize(facts: CaseFacts, *, sla_seconds: float | None = None) -> PeriodSeries:
    """KPIs per period from the case facts (see the module docstring for every definition)."""
    days = _period_days(facts)
    index = {d: i for i, d in enumerate(days)}
    n_p = len(days)
    ps = np.array([index[d] for d in facts.p_start], dtype=np.int64)
    # Completions after the window's end (of cases started inside it) fall outside every period.
    pe = np.array([index.get(d, -1) for d in facts.p_end], dtype=np.int64)
    complete = facts.complete
    started = np.bincount(ps, minlength=n_p)
    completed = np.bincount(pe[complete & (pe >= 0)], minlength=n_p)
    open_ = np.bincount(ps[facts.state == OPEN], minlength=n_p)
    stalled = np.bincount(ps[facts.state == STALLED], minlength=n_p)
    truncated = (
        np.bincount(ps[facts.truncated], minlength=n_p) if facts.truncated.size else np.zeros(n_p, int)
    )
    exit_local = np.where(facts.state == OPEN, np.inf, facts.last_local)
    first_sorted, exit_sorted = np.sort(facts.first_local), np.sort(exit_local)
    if sla_seconds is not None:
        decided, breached = facts.sla(sla_seconds)
    age = facts.age()
    expected_open = _expected_open(facts, ps, n_p)
    span_first = float(facts.first_local.min()) if facts.n else None
    # The cases of each period as one slice of a stable order: no pass over all cases per period.
    order = np.argsort(ps, kind="stable")
    bounds = np.searchsorted(ps[order], np.arange(n_p + 1), "left")
    partial = [
        bool(
            (
                facts.end_local is not None
                and facts.end_local < _local_midnight(next_period(day, facts.period))
            )
            or (span_first is not None and span_first > _local_midnight(day))
        )
        for day in days
    ]
    cuts, intake = _cuts(facts, days, partial, started, truncated)
    working, holidays, working_how = _working_days(facts, days)
    business = facts.calendar is not None
    periods = []
    for i, day in enumerate(days):
        end = next_period(day, facts.period)
        boundary = _local_midnight(end)
        wip = int(
            np.searchsorted(first_sorted, boundary, "left") - np.searchsorted(exit_sorted, boundary, "left")
        )
        mine = order[bounds[i] : bounds[i + 1]]
        done = mine[complete[mine]]
        km = kaplan_meier_quantile(np.where(complete[mine], facts.cycle[mine], age[mine]), complete[mine])
        n_done = int(done.size)
        rework_n = int(facts.rework[done].sum())
        if sla_seconds is not None:
            n_dec, n_br = int(decided[mine].sum()), int(breached[mine].sum())
        else:
            n_dec = n_br = 0
        periods.append(
            PeriodKPIs(
                start=day,
                end=end,
                partial=partial[i],
                started=int(started[i]),
                completed=int(completed[i]),
                open=int(open_[i]),
                stalled=int(stalled[i]),
                wip_end=wip,
                cycle_median_s=_quantile(facts.cycle[done], 0.5),
                cycle_p90_s=_quantile(facts.cycle[done], 0.9),
                cycle_median_km_s=km,
                cycle_median_business_s=_quantile(facts.cycle_b[done], 0.5) if business else None,
                cycle_p90_business_s=_quantile(facts.cycle_b[done], 0.9) if business else None,
                rework_cases=rework_n,
                rework_rate=rework_n / n_done if n_done else None,
                sla_breaches=n_br,
                sla_decided=n_dec,
                sla_breach_rate=(n_br / n_dec if n_dec else None) if sla_seconds is not None else None,
                cost_per_case=_mean(facts.cost[done]) if facts.cost_source is not None else None,
                pce_median=_quantile(facts.pce[done], 0.5) if facts.processing_measured else None,
                extra={key: _mean(values[done]) for key, values in facts.extra.items()},
                extra_n={key: int((~np.isnan(values[done])).sum()) for key, values in facts.extra.items()},
                working_days=working[i],
                holidays=holidays[i],
                truncated=int(truncated[i]),
                cut=cuts[i],
                expected_open=float(expected_open[i] / started[i]) if started[i] else 0.0,
            )
        )
    c = facts.completeness
    note = (
        f"Periods are local {facts.period}s in {facts.timezone}; a case belongs to the period it started in, "
        f"except completions, counted in the period of the last event. {c.complete:,} complete, {c.open:,} open "
        f"and {c.stalled:,} stalled cases."
    )
    range_note = ""
    if facts.robust is not None and facts.robust.note:
        range_note = f"{facts.robust.note}, with the {facts.left_out:,} cases they belong to."
    if facts.left_out:
        note += f" {left_out_note(facts.left_out)}"
    if intake:
        note += " " + intake
    first = None if not facts.n else dt.datetime.fromtimestamp(float(facts.first.min()), dt.UTC)
    return PeriodSeries(
        period=facts.period,
        timezone=facts.timezone,
        calendar=facts.calendar.label() if facts.calendar is not None else None,
        sla_seconds=sla_seconds,
        cost_source=facts.cost_source,
        processing_measured=facts.processing_measured,
        first=first,
        as_of=c.as_of,
        cases=facts.n,
        left_out=facts.left_out,
        completeness=c,
        kpis=_kpis(facts, sla_seconds),
        periods=tuple(periods),
        note=note,
        range_note=range_note,
        left_out_events=facts.robust.left_out if facts.robust is not None else 0,
        working_days_method=f"Working days: {working_how}." if working_how else "",
    )


def kpis_per_period(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    period: str = "week",
    calendar: Calendar | None = None,
    timezone: str | None = None,
    sla_seconds: float | None = None,
    cost_per_hour: float | RateCard | None = None,
    end_activities: Sequence[str] = (),
    measures: Mapping[str, CaseMeasure] | None = None,
) -> PeriodSeries:
    """KPIs per day, week or month of a stored log.

    Examples
    --------
    >>> s = kpis_per_period(store, log_id, period="month", sla_seconds=5 * 86_400)  # doctest: +SKIP
    >>> s.periods[0].started, s.periods[0].cycle_median_s, s.periods[0].sla_breach_rate     # doctest: +SKIP
    """
    facts = case_facts(
        store,
        log_id,
        flt,
        period=period,
        calendar=calendar,
        timezone=timezone,
        cost_per_hour=cost_per_hour,
        end_activities=end_activities,
        measures=measures,
    )
    return summarize(facts, sla_seconds=sla_seconds)


def left_out_note(cases: int) -> str:
    """The sentence for the cases no figure counts: an event dated outside the data's range (a
    placeholder date such as 1900-01-01, a typo) places them nowhere in time."""
    return (
        f"{plural(cases, 'case')} {agree(cases, 'has', 'have')} an event outside the data's range and "
        f"{agree(cases, 'is', 'are')} left out."
    )
