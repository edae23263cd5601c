"""The filter every measure shares, compiled to SQL over the stored tables.

A :class:`Filter` selects cases (time window, attribute values and numeric
ranges, resources, activities a case passes through, start and end
activities, "A followed by B", variants, duration range) and may project
events (activities kept or removed).  Variants by top-k or coverage are
ranked among the cases every other condition keeps: "the top 3" of a time
window are that window's three most frequent variants.  Case
selection is a subquery over ``cases``; as long as no events are projected
away, the successors stored at ingest are still right and no measure needs to
sort.  With a projection, successors are recomputed over the remaining events.

All values are bound as parameters; attribute columns are looked up by their
source name and used under their internal name (``a3``), so no user text
reaches SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mining.durations import format_duration
from mining.errors import FilterError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "WINDOW_MODES",
    "EventsSQL",
    "Filter",
    "case_selection",
    "check_window",
    "events_relation",
    "projection_conditions",
]

WINDOW_MODES = ("started", "completed", "intersecting")


@dataclass(frozen=True)
class Filter:
    """What to keep.  The default keeps everything.

    ``attributes`` maps an attribute's source column name to the values to
    keep: a case is kept when any of its events carries one of them.
    ``variant_coverage`` keeps the most frequent variants until that share of
    cases is covered (the variant that crosses the line is kept).
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    window: str = "intersecting"
    activities_keep: tuple[str, ...] = ()
    activities_remove: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variant_top_k: int | None = None
    variant_coverage: float | None = None
    variant_ids: tuple[int, ...] = ()
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    resources: tuple[str, ...] = field(default=())
    #: ``(attribute, low, high)``: some event's value, read as a number, lies in [low, high] (None: open).
    attribute_ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    #: The case has an event of one of these activities.
    with_activities: tuple[str, ...] = ()
    #: The case's first (last) activity is one of these.
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    #: ``(a, b, directly)``: the case has ``a`` followed by ``b`` (directly: with nothing between).
    follows: tuple[tuple[str, str, bool], ...] = ()

    @property
    def projects_events(self) -> bool:
        return bool(self.activities_keep or self.activities_remove)

    @property
    def is_empty(self) -> bool:
        return self == Filter()

    def chips(self) -> list[str]:
        """Short labels of what is active, for the app's filter bar and reports."""
        out = []
        if self.start and self.end:
            out.append(f"{self.window} {_day(self.start, 0)} to {_day(self.end, -1)}")
        elif self.start:
            out.append(f"{self.window} {_day(self.start, 0)} onwards")
        elif self.end:
            out.append(f"{self.window} until {_day(self.end, -1)}")
        if self.activities_keep:
            out.append("activities: " + ", ".join(self.activities_keep))
        if self.activities_remove:
            out.append("without: " + ", ".join(self.activities_remove))
        if self.with_activities:
            out.append("through: " + " or ".join(self.with_activities))
        if self.starts_with:
            out.append("starts with: " + " or ".join(self.starts_with))
        if self.ends_with:
            out.append("ends with: " + " or ".join(self.ends_with))
        for a, b, directly in self.follows:
            out.append(f"{a} {'directly' if directly else 'eventually'} followed by {b}")
        out += [f"{k} = {', '.join(v)}" for k, v in self.attributes]
        for k, lo, hi in self.attribute_ranges:
            out.append(f"{k} from {_number(lo, '…')} to {_number(hi, '…')}")
        if self.resources:
            out.append("resources: " + ", ".join(self.resources))
        if self.variant_top_k:
            out.append(f"top {self.variant_top_k} variants")
        if self.variant_coverage:
            out.append(f"variants covering {self.variant_coverage:.0%}")
        if self.variant_ids:
            out.append("variants " + ", ".join(map(str, self.variant_ids)))
        if self.min_duration_s is not None or self.max_duration_s is not None:
            longest = "∞" if self.max_duration_s is None else format_duration(self.max_duration_s)
            out.append(f"duration {format_duration(self.min_duration_s or 0)} to {longest}")
        return out


def check_window(start: dt.datetime | None, end: dt.datetime | None) -> None:
    """Refuse a time window a user typed that ends before it starts: intersecting, it kept the cases
    spanning the gap, without a word.  (A filter built in code, such as the conjunction of two
    windows, may be empty that way.)"""
    if start is None or end is None:
        return
    # One bound may write an offset and the other not: compared, not refused for it.
    first, last = (t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (start, end))
    if first >= last:
        msg = f"the time window ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})"
        raise FilterError(msg)


def _day(value: dt.datetime | None, shift: int) -> str:
    """A window bound as a date; the end is exclusive, so midnight shows the day before."""
    if value is None:
        return "…"
    if shift and value.time() == dt.time() and value.tzinfo is not None:
        return (value + dt.timedelta(days=shift)).strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M")


def _number(value: float | None, none: str) -> str:
    return none if value is None else f"{value:,g}"


def case_selection(store: Store, log_id: int, flt: Filter, params: dict[str, Any]) -> str:
    """SQL selecting ``case_no`` of the kept cases; adds its values to ``params``."""
    if flt.window not in WINDOW_MODES:
        msg = f"unknown time-window mode {flt.window!r}; expected one of {', '.join(WINDOW_MODES)}"
        raise FilterError(msg)
    params["f_log"] = log_id
    where = ["c.log_id = $f_log"]
    if flt.start is not None:
        params["f_start"] = flt.start
        col = {"started": "c.start_ts", "completed": "c.end_ts", "intersecting": "c.end_ts"}[flt.window]
        where.append(f"{col} >= $f_start")
    if flt.end is not None:
        params["f_end"] = flt.end
        col = {"started": "c.start_ts", "completed": "c.end_ts", "intersecting": "c.start_ts"}[flt.window]
        where.append(f"{col} < $f_end")
    if flt.min_duration_s is not None:
        params["f_dmin"] = flt.min_duration_s
        where.append("c.duration_s >= $f_dmin")
    if flt.max_duration_s is not None:
        params["f_dmax"] = flt.max_duration_s
        where.append("c.duration_s <= $f_dmax")
    if flt.variant_ids:
        params["f_vids"] = list(flt.variant_ids)
        where.append("list_contains($f_vids, c.variant_id)")
    if flt.resources:
        params["f_res"] = list(flt.resources)
        where.append(
            "c.case_no IN (SELECT case_no FROM events WHERE log_id = $f_log AND list_contains($f_res, resource))"
        )
    if flt.with_activities:
        params["f_with"] = list(flt.with_activities)
        where.append(
            "c.case_no IN (SELECT case_no FROM events WHERE log_id = $f_log AND list_contains($f_with, activity))"
        )
    # A case's first and last activity are its stored variant's.
    if flt.starts_with:
        params["f_sw"] = list(flt.starts_with)
        where.append(
            "c.variant_id IN (SELECT variant_id FROM variants WHERE log_id = $f_log "
            "AND list_contains($f_sw, activities[1]))"
        )
    if flt.ends_with:
        params["f_ew"] = list(flt.ends_with)
        # activities[-1] would become index -2 on Spark, which refuses negative indexes.
        where.append(
            "c.variant_id IN (SELECT variant_id FROM variants WHERE log_id = $f_log "
            "AND list_contains($f_ew, activities[array_length(activities)]))"
        )
    for i, (a, b, directly) in enumerate(flt.follows):
        params[f"f_fa{i}"], params[f"f_fb{i}"] = a, b
        if directly:
            where.append(
                "c.case_no IN (SELECT case_no FROM events WHERE log_id = $f_log "
                f"AND activity = $f_fa{i} AND next_activity = $f_fb{i})"
            )
        else:
            # Eventually: the first a comes before the last b (events ordered by time, then file row).
            where.append(
                "c.case_no IN (SELECT case_no FROM events WHERE log_id = $f_log "
                f"AND (activity = $f_fa{i} OR activity = $f_fb{i}) GROUP BY case_no "
                f"HAVING min((ts, row_no)) FILTER (WHERE activity = $f_fa{i}) "
                f"< max((ts, row_no)) FILTER (WHERE activity = $f_fb{i}))"
            )
    for i, (name, values) in enumerate(flt.attributes):
        column = _attribute_column(store, log_id, name)
        params[f"f_av{i}"] = list(values)
        where.append(
            f"c.case_no IN (SELECT e.case_no FROM events e JOIN attrs_{int(log_id)} a USING (row_no) "
            f'WHERE e.log_id = $f_log AND list_contains($f_av{i}, a."{column}"))'
        )
    for i, (name, lo, hi) in enumerate(flt.attribute_ranges):
        column = _attribute_column(store, log_id, name)
        value = f'TRY_CAST(a."{column}" AS DOUBLE)'
        bounds = [f"{value} IS NOT NULL"]
        if lo is not None:
            params[f"f_lo{i}"] = float(lo)
            bounds.append(f"{value} >= $f_lo{i}")
        if hi is not None:
            params[f"f_hi{i}"] = float(hi)
            bounds.append(f"{value} <= $f_hi{i}")
        where.append(
            f"c.case_no IN (SELECT e.case_no FROM events e JOIN attrs_{int(log_id)} a USING (row_no) "
            f"WHERE e.log_id = $f_log AND {' AND '.join(bounds)})"
        )
    base = "SELECT c.case_no, c.variant_id FROM cases c WHERE " + " AND ".join(where)
    if flt.variant_top_k is None and flt.variant_coverage is None:
        return "SELECT c.case_no FROM cases c WHERE " + " AND ".join(where)
    # Variants ranked among the cases every other condition keeps, in the variant table's
    # order (cases descending, then the activity sequence).
    ranked = (
        "SELECT b.variant_id, count(*) AS n, "
        "row_number() OVER (ORDER BY count(*) DESC, any_value(v.activities)) AS rk, "
        "sum(count(*)) OVER (ORDER BY count(*) DESC, any_value(v.activities) "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) / sum(count(*)) OVER () AS before "
        "FROM kept b JOIN variants v ON v.log_id = $f_log AND v.variant_id = b.variant_id "
        "GROUP BY b.variant_id"
    )
    keep = []
    if flt.variant_top_k is not None:
        params["f_topk"] = flt.variant_top_k
        keep.append("rk <= $f_topk")
    if flt.variant_coverage is not None:
        if not 0 < flt.variant_coverage <= 1:
            msg = f"variant coverage must be in (0, 1], got {flt.variant_coverage}"
            raise FilterError(msg)
        params["f_cov"] = flt.variant_coverage
        # The variant that crosses the line is kept: the share before it is still short of it.
        keep.append("coalesce(before, 0) < $f_cov")
    return (
        f"SELECT case_no FROM (WITH kept AS ({base}), ranked AS ({ranked}) "
        f"SELECT kept.case_no FROM kept WHERE kept.variant_id IN "
        f"(SELECT variant_id FROM ranked WHERE {' AND '.join(keep)}))"
    )


def _attribute_column(store: Store, log_id: int, name: str) -> str:
    found = store.scalar(
        "SELECT column_name FROM attribute_columns WHERE log_id = ? AND source_name = ?", [log_id, name]
    )
    if found is None:
        names = [
            r[0]
            for r in store.query(
                "SELECT source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
            ).rows
        ]
        msg = f"the log has no attribute {name!r}; attributes: {', '.join(map(repr, names)) or 'none'}"
        raise FilterError(msg)
    # Internal names are a1, a2, ...: safe to place in SQL.
    if not (found.startswith("a") and found[1:].isdigit()):
        msg = f"unexpected internal attribute name {found!r}"
        raise FilterError(msg)
    return str(found)


@dataclass(frozen=True)
class EventsSQL:
    """A relation of the kept events with their (possibly recomputed) successors."""

    sql: str
    params: dict[str, Any]


def events_relation(store: Store, log_id: int, flt: Filter | None = None) -> EventsSQL:
    """SQL for the kept events: case_no, case_id, activity, ts, start_ts, resource, lifecycle,
    cost, row_no, next_activity, next_ts, next_resource."""
    flt = flt or Filter()
    params: dict[str, Any] = {"f_log": log_id}
    cols = "case_no, case_id, activity, ts, start_ts, resource, lifecycle, cost, row_no"
    where = ["log_id = $f_log"]
    if not flt.is_empty and not _only_projection(flt):
        where.append(f"case_no IN ({case_selection(store, log_id, flt, params)})")
    if not flt.projects_events:
        sql = (
            f"SELECT {cols}, next_activity, next_ts, "
            "NULL::VARCHAR AS next_resource FROM events WHERE " + " AND ".join(where)
        )
        return EventsSQL(sql, params)
    where.extend(projection_conditions(flt, params))
    sql = (
        f"SELECT {cols}, lead(activity) OVER w AS next_activity, lead(ts) OVER w AS next_ts, "
        "lead(resource) OVER w AS next_resource FROM events WHERE "
        + " AND ".join(where)
        + " WINDOW w AS (PARTITION BY case_no ORDER BY ts, row_no)"
    )
    return EventsSQL(sql, params)


def projection_conditions(flt: Filter, params: dict[str, Any], column: str = "activity") -> list[str]:
    """The conditions on ``column`` that keep a projection's events (activities kept or removed);
    binds their lists in ``params``."""
    conditions = []
    if flt.activities_keep:
        params["f_keep"] = list(flt.activities_keep)
        conditions.append(f"list_contains($f_keep, {column})")
    if flt.activities_remove:
        params["f_drop"] = list(flt.activities_remove)
        conditions.append(f"NOT list_contains($f_drop, {column})")
    return conditions


def _only_projection(flt: Filter) -> bool:
    return Filter(activities_keep=flt.activities_keep, activities_remove=flt.activities_remove) == flt
