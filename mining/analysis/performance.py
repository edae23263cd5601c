"""Waiting versus processing time per activity, per transition, and process cycle efficiency.

An *activity instance* is one execution of an activity in a case, ending at
its completion.  Its **processing time** runs from its start to its
completion; its **waiting time** runs from the previous completion in the case
(by completion order) to its start.  Where work overlaps (parallel branches)
the waiting is counted as 0.

Starts come from one of two places, found per log:

* ``start_timestamp``: a start-timestamp column (``events.start_ts``);
* ``lifecycle``: separate ``start``/``complete`` events (XES
  ``lifecycle:transition``); the k-th start of an activity in a case is paired
  with its k-th completion.

Otherwise there are no starts: processing time cannot be measured, and an
instance's waiting time is the whole time since the previous completion.  An
instance without a usable start in a log that has them (a lone completion, or a
start recorded after the completion) is read as instantaneous: its waiting runs
to its completion and it has no processing time.

Events whose lifecycle is ``schedule``, ``assign``, ``reassign``, ``suspend``
or ``resume`` are not instances; all other lifecycle values (``complete``,
``ate_abort``, ...) and events without one are.

Under a :class:`~mining.analysis.calendar.Calendar` every duration is in
business seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.bounds import check_activities
from mining.analysis.calendar import Calendar, Clock, clock
from mining.analysis.filters import Filter, events_relation
from mining.errors import AnalysisError
from mining.schema import IS_COMPLETION, IS_LIFECYCLE_START
from mining.store import quote_ident

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "NO_STARTS_NOTE",
    "ActivityTime",
    "ActivityTimes",
    "DurationStats",
    "InstancesSQL",
    "TransitionTime",
    "TransitionTimes",
    "activity_stats_sql",
    "activity_times",
    "activity_times_record",
    "instance_times_sql",
    "instances_sql",
    "ordered_sql",
    "timed_sql",
    "timing_source",
    "transition_times",
    "transitions_sql",
]

NO_STARTS_NOTE = (
    "no start timestamps: processing time cannot be measured; waiting is the time between completions"
)

_COMPLETION = IS_COMPLETION


@dataclass(frozen=True)
class DurationStats:
    """Seconds (business seconds under a calendar) over ``count`` measured durations."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None
    total: float


@dataclass(frozen=True)
class ActivityTime:
    """Waiting and processing of one activity's instances."""

    activity: str
    count: int
    waiting: DurationStats
    processing: DurationStats


@dataclass(frozen=True)
class ActivityTimes:
    """Per-activity times, longest median waiting first.

    ``waiting_total``/``processing_total`` sum all instances; ``instances``
    counts them and ``paired`` counts those with a usable start.
    """

    activities: tuple[ActivityTime, ...]
    waiting_total: float
    processing_total: float
    processing_measured: bool
    source: str  # "start_timestamp", "lifecycle" or "none"
    instances: int
    paired: int  # instances with a usable start
    pce_median: float | None  # median over cases of processing / lead time
    business_time: bool
    note: str

    def get(self, activity: str) -> ActivityTime:
        for a in self.activities:
            if a.activity == activity:
                return a
        msg = f"no activity {activity!r}; activities: {', '.join(a.activity for a in self.activities)}"
        raise AnalysisError(msg)


@dataclass(frozen=True)
class TransitionTime:
    """Waiting between the completion of ``source`` and the start of ``target`` in the same case."""

    source: str
    target: str
    waiting: DurationStats


@dataclass(frozen=True)
class TransitionTimes:
    transitions: tuple[TransitionTime, ...]  # most frequent first
    processing_measured: bool
    business_time: bool
    note: str


@dataclass(frozen=True)
class InstancesSQL:
    """SQL for activity instances: ``case_no, activity, resource, row_no, st, en, unit``.

    ``st`` is the instance's start when usable (``st <= en``), else ``NULL``.
    ``unit`` is what a repeat is a repeat of: the activity, except in a log
    flattened from an object-centric export, where an activity the case does
    once per object of another type (picking each of an order's items) is
    that activity on that object; rework counts repeats of a unit.
    ``events`` is the kept-events relation the instances come from; when
    ``stored_successors`` is true every event is an instance and its stored
    successor (``next_activity``, ``next_ts``) is the next instance, so the
    previous completion needs no window.
    """

    sql: str
    params: dict[str, Any]
    source: str
    events: str
    stored_successors: bool
    # The starts are lifecycle starts the ingest folded into their completions (``--pair-starts``).
    paired_at_load: bool = False


def timing_source(store: Store, log_id: int) -> str:
    """Where starts come from in this log: ``start_timestamp``, ``lifecycle`` or ``none``."""
    return _log_flags(store, log_id)[0]


def _log_flags(store: Store, log_id: int) -> tuple[str, bool]:
    """(timing source, whether some events are not completions)."""
    row = store.query("SELECT has_start, has_lifecycle FROM logs WHERE log_id = ?", [log_id]).rows
    if not row:
        msg = f"no log with id {log_id}"
        raise AnalysisError(msg)
    has_start, has_lifecycle = bool(row[0][0]), bool(row[0][1])
    starts = others = False
    if has_lifecycle:
        starts, others = store.query(
            f"SELECT coalesce(sum(CASE WHEN {IS_LIFECYCLE_START} THEN 1 ELSE 0 END), 0) > 0, "
            f"coalesce(sum(CASE WHEN {_COMPLETION} THEN 0 ELSE 1 END), 0) > 0 "
            "FROM events WHERE log_id = ? AND lifecycle IS NOT NULL",
            [log_id],
        ).rows[0]
    if has_start:
        return "start_timestamp", bool(others)
    return ("lifecycle" if starts else "none"), bool(others)


def instances_sql(
    store: Store, log_id: int, flt: Filter | None = None, *, starts: bool = True
) -> InstancesSQL:
    """The activity instances of the kept events (see the module docstring).

    ``starts=False`` skips pairing lifecycle starts (``st`` is then ``NULL``
    for lifecycle logs), for measures that only count instances.  A log of more
    than :data:`~mining.analysis.bounds.MAX_ACTIVITIES` activities is refused.
    """
    check_activities(store, log_id)
    ev = events_relation(store, log_id, flt)
    source, non_completions = _log_flags(store, log_id)
    if source == "lifecycle" and starts:
        sql = (
            f"WITH ev AS ({ev.sql}), "
            "s AS (SELECT case_no, activity, ts, row_number() OVER "
            f"(PARTITION BY case_no, activity ORDER BY ts, row_no) AS n FROM ev WHERE {IS_LIFECYCLE_START}), "
            "c AS (SELECT case_no, activity, resource, row_no, ts, row_number() OVER "
            f"(PARTITION BY case_no, activity ORDER BY ts, row_no) AS n FROM ev WHERE {_COMPLETION}) "
            "SELECT c.case_no, c.activity, c.resource, c.row_no, "
            "CASE WHEN s.ts <= c.ts THEN s.ts END AS st, c.ts AS en, c.activity AS unit "
            "FROM c LEFT JOIN s ON s.case_no = c.case_no AND s.activity = c.activity AND s.n = c.n"
        )
    else:
        start = (
            "CASE WHEN start_ts <= ts THEN start_ts END"
            if source == "start_timestamp" and starts
            else "CAST(NULL AS TIMESTAMPTZ)"
        )
        where = f" WHERE {_COMPLETION}" if non_completions else ""
        sql = (
            f"SELECT case_no, activity, resource, row_no, {start} AS st, ts AS en, activity AS unit "
            f"FROM ({ev.sql}) ev{where}"
        )
    mapping = _mapping_of(store, log_id)
    divergent = _divergent_units(store, log_id, mapping)
    if divergent:
        table, units = divergent
        sql = (
            f"SELECT i.case_no, i.activity, i.resource, i.row_no, i.st, i.en, {units} AS unit FROM ({sql}) i "
            f"LEFT JOIN {quote_ident(table)} u_a ON u_a.row_no = i.row_no"
        )
    return InstancesSQL(
        sql,
        ev.params,
        source,
        ev.sql,
        stored_successors=not non_completions,
        paired_at_load=source == "start_timestamp" and bool(mapping.get("pair_starts")),
    )


def _mapping_of(store: Store, log_id: int) -> dict[str, Any]:
    row = store.query("SELECT mapping FROM logs WHERE log_id = ?", [log_id]).rows
    mapping = json.loads(row[0][0]) if row and row[0][0] else {}
    return mapping if isinstance(mapping, dict) else {}


def _divergent_units(store: Store, log_id: int, mapping: dict[str, Any]) -> tuple[str, str] | None:
    """For a log flattened from an object-centric export whose cases do some activity once per object
    of another type: the attributes table and the SQL of the unit, the activity and the objects of
    those types its event names; None for any other log.

    The same activity on the same objects again is rework; on other objects it is the case's objects
    handled one by one.  The preset keeps the types with the log, and their objects are event
    attributes named after them.
    """
    facts = mapping.get("preset_facts") if mapping.get("preset") == "ocel" else None
    divergent = facts.get("divergent") if isinstance(facts, dict) else None
    if not isinstance(divergent, dict) or not divergent:
        return None
    columns = dict(
        store.query("SELECT source_name, column_name FROM attribute_columns WHERE log_id = ?", [log_id]).rows
    )
    kinds = sorted({str(k) for k in divergent.values() if str(k) in columns})
    if not kinds:
        return None
    # chr(31), the unit separator: no activity name or object id holds it.
    objects = " || ".join(f"chr(31) || coalesce(u_a.{quote_ident(columns[k])}, '')" for k in kinds)
    return f"attrs_{int(log_id)}", f"i.activity || {objects}"


def _non_negative(expr: str) -> str:
    # Not greatest(x, 0): DuckDB and Spark skip NULLs there, turning "unknown" into 0.
    return f"CASE WHEN {expr} < 0 THEN 0 ELSE {expr} END"


def instance_times_sql(inst: InstancesSQL, clk: Clock) -> str:
    """Instances plus ``b_st``/``b_en``: B(t) of start and completion (business or epoch seconds)."""
    if inst.source == "none":
        b = clk.extend(inst.sql, times={"b_en": "en"})
        return f"SELECT x.*, CAST(NULL AS DOUBLE) AS b_st FROM ({b}) x"
    return clk.extend(inst.sql, times={"b_st": "st", "b_en": "en"})


def timed_sql(inst: InstancesSQL, clk: Clock, *, lags: tuple[str, ...] = ()) -> str:
    """Instances with their times and the previous completion in the case.

    Adds ``b_st``/``b_en`` (B(t): business or epoch seconds, see
    :mod:`mining.analysis.calendar`), ``b_prev`` (B of the previous
    completion), ``wait`` (previous completion to the start, or to the
    completion when there is no start; never below 0) and ``proc`` (start to
    completion, ``NULL`` without a start), plus ``prev_<col>`` for each column
    in ``lags`` (``activity``, ``resource``, ``en``).  Each instant is turned
    into B once, before the window, so a duration is a plain difference.
    """
    extra = "".join(f", lag({c}) OVER w AS prev_{c}" for c in lags)
    return (
        f"SELECT t.*, {_non_negative('coalesce(b_st, b_en) - b_prev')} AS wait, b_en - b_st AS proc FROM ("
        f"SELECT i.*, lag(b_en) OVER w AS b_prev{extra} "
        f"FROM ({instance_times_sql(inst, clk)}) i WINDOW w AS (PARTITION BY case_no ORDER BY en, row_no)) t"
    )


def ordered_sql(inst: InstancesSQL) -> str:
    """The instances with the previous completion in their case, without any clock: ``case_no,
    activity, st, en, prev_activity, prev_en``.

    The window of :func:`timed_sql` alone: it depends on the log and the filter, not on a calendar or
    a zone, so one result serves every working calendar (see
    :func:`~mining.analysis.heatmaps.times_and_transition_heatmap`).
    """
    return (
        "SELECT case_no, activity, st, en, lag(activity) OVER w AS prev_activity, lag(en) OVER w AS prev_en "
        f"FROM ({inst.sql}) i WINDOW w AS (PARTITION BY case_no ORDER BY en, row_no)"
    )


def transitions_sql(inst: InstancesSQL, clk: Clock) -> str:
    """One row per pair of consecutive instances in a case.

    Columns: ``source, target, source_resource, target_resource`` (resources
    may be ``NULL``), ``source_end`` and ``target_start`` (instants; the
    target's completion when it has no start) and ``wait`` (seconds, or
    business seconds; never below 0).
    """
    if inst.stored_successors and inst.source != "start_timestamp":
        # Every event is an instance without a start: the stored successor is the target.
        b = clk.extend(
            f"SELECT activity, next_activity, resource, next_resource, ts, next_ts FROM ({inst.events}) ev "
            "WHERE next_ts IS NOT NULL",
            durations={"wait": ("ts", "next_ts")},
        )
        return (
            "SELECT activity AS source, next_activity AS target, resource AS source_resource, "
            "next_resource AS target_resource, ts AS source_end, next_ts AS target_start, "
            f"{_non_negative('wait')} AS wait FROM ({b}) t"
        )
    return (
        "SELECT prev_activity AS source, activity AS target, prev_resource AS source_resource, "
        "resource AS target_resource, prev_en AS source_end, coalesce(st, en) AS target_start, wait "
        f"FROM ({timed_sql(inst, clk, lags=('activity', 'resource', 'en'))}) t WHERE prev_en IS NOT NULL"
    )


def _stats(prefix: str) -> str:
    x = prefix
    return (
        f"count({x}) AS {x}_n, avg({x}) AS {x}_mean, median({x}) AS {x}_median, "
        f"quantile_cont({x}, 0.9) AS {x}_p90, coalesce(sum({x}), 0) AS {x}_total"
    )


def _read_stats(row: dict[str, Any], prefix: str) -> DurationStats:
    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    return DurationStats(
        int(row[f"{prefix}_n"]),
        num(row[f"{prefix}_mean"]),
        num(row[f"{prefix}_median"]),
        num(row[f"{prefix}_p90"]),
        float(row[f"{prefix}_total"]),
    )


def activity_times(
    store: Store, log_id: int, flt: Filter | None = None, *, calendar: Calendar | None = None
) -> ActivityTimes:
    """Waiting and processing time per activity (count, mean, median, p90, total) and the PCE.

    Examples
    --------
    >>> times = activity_times(store, log_id, calendar=Calendar(country="NL"))  # doctest: +SKIP
    >>> times.get("Investigate").waiting.median                                 # doctest: +SKIP
    29715.0
    """
    inst = instances_sql(store, log_id, flt)
    clk = clock(store, log_id, calendar)
    measured = inst.source != "none"
    if inst.stored_successors and not measured:
        # No starts and every event an instance: counts per activity, and each
        # waiting time from the stored successor, with no window at all.
        rows_sql = (
            "SELECT activity, 1 AS inst, CAST(NULL AS DOUBLE) AS wait, CAST(NULL AS DOUBLE) AS proc, "
            f"CAST(NULL AS TIMESTAMPTZ) AS st FROM ({inst.events}) ev UNION ALL "
            "SELECT target, 0, wait, CAST(NULL AS DOUBLE), CAST(NULL AS TIMESTAMPTZ) "
            f"FROM ({transitions_sql(inst, clk)}) t"
        )
        sql = (
            f"SELECT activity, sum(inst) AS n, count(st) AS paired, {_stats('wait')}, {_stats('proc')}, "
            f"CAST(NULL AS DOUBLE) AS pce FROM ({rows_sql}) d GROUP BY activity"
        )
    else:
        sql = f"WITH d AS ({timed_sql(inst, clk)}) {activity_stats_sql('d')}"
    return activity_times_record(store.query(sql, inst.params).dicts(), inst, clk)


def activity_stats_sql(relation: str) -> str:
    """The ``SELECT`` of :func:`activity_times`' row per activity over ``relation``, a
    :func:`timed_sql` relation (a name in scope): count, usable starts, waiting and processing
    statistics, and the median PCE of the cases (the same on every row)."""
    # One pass over the timed instances feeds both the per-activity figures and the per-case PCE
    # (B is non-decreasing, so a case's lead time is max B(completion) - min B(start)).
    return (
        f"SELECT a.*, c.pce FROM (SELECT activity, count(*) AS n, count(st) AS paired, {_stats('wait')}, "
        f"{_stats('proc')} FROM {relation} GROUP BY activity) a CROSS JOIN ("
        "SELECT median(proc / lead) AS pce FROM (SELECT sum(proc) AS proc, "
        f"max(b_en) - min(coalesce(b_st, b_en)) AS lead FROM {relation} GROUP BY case_no) x "
        "WHERE lead > 0 AND proc IS NOT NULL) c"
    )


def activity_times_record(rows: list[dict[str, Any]], inst: InstancesSQL, clk: Clock) -> ActivityTimes:
    """The record of :func:`activity_times` from its rows per activity (see :func:`activity_stats_sql`)."""
    rows = sorted(
        rows, key=lambda r: (-(r["wait_median"] if r["wait_median"] is not None else -1.0), r["activity"])
    )
    activities = tuple(
        ActivityTime(r["activity"], int(r["n"]), _read_stats(r, "wait"), _read_stats(r, "proc")) for r in rows
    )
    instances = sum(a.count for a in activities)
    paired = sum(int(r["paired"]) for r in rows)
    return ActivityTimes(
        activities=activities,
        waiting_total=float(sum(a.waiting.total for a in activities)),
        processing_total=float(sum(a.processing.total for a in activities)),
        processing_measured=inst.source != "none",
        source=inst.source,
        instances=instances,
        paired=paired,
        pce_median=None if not rows or rows[0]["pce"] is None else float(rows[0]["pce"]),
        business_time=clk.business,
        note=_note(inst, instances, paired, clk.calendar),
    )


def _note(inst: InstancesSQL, instances: int, paired: int, calendar: Calendar | None) -> str:
    if inst.source == "none":
        text = NO_STARTS_NOTE + "."
    else:
        where = (
            "the start-timestamp column"
            if inst.source == "start_timestamp" and not inst.paired_at_load
            else "lifecycle start/complete events of the same activity in a case, paired in order"
            + (" when the log was loaded" if inst.paired_at_load else "")
        )
        text = (
            f"Processing = start to completion, from {where}; waiting = previous completion in the case "
            f"to the start (overlapping work counts as no waiting). {paired:,} of {instances:,} "
            "activity instances have a usable start"
        )
        text += "." if paired == instances else "; the others count as instantaneous."
    if calendar is not None:
        text += f" Durations are business seconds ({calendar.label()})."
    return text


def transition_times(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    limit: int | None = None,
) -> TransitionTimes:
    """Waiting on each directly-follows transition (completion of A to start of B), most frequent first."""
    inst = instances_sql(store, log_id, flt)
    clk = clock(store, log_id, calendar)
    params = dict(inst.params)
    sql = (
        f"SELECT source, target, {_stats('wait')} FROM ({transitions_sql(inst, clk)}) d "
        "GROUP BY source, target ORDER BY wait_n DESC, source, target"
    )
    if limit is not None:
        params["tt_limit"] = int(limit)
        sql += " LIMIT $tt_limit"
    rows = store.query(sql, params).dicts()
    measured = inst.source != "none"
    note = (
        "waiting = completion of the source to the start of the target"
        if measured
        else "no start timestamps: waiting is the time between the two completions"
    )
    if clk.calendar is not None:
        note += f"; business seconds ({clk.calendar.label()})"
    return TransitionTimes(
        tuple(TransitionTime(r["source"], r["target"], _read_stats(r, "wait")) for r in rows),
        measured,
        clk.business,
        note,
    )
