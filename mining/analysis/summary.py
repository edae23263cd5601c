"""The Overview's tables: per activity and per resource, over the kept events.

* :func:`activity_table`: events, cases, and the median processing time
  (where starts are recorded) and waiting time before the activity;
* :func:`resource_table`: events, cases and distinct activities per resource.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.filters import Filter, case_selection, events_relation
from mining.analysis.performance import ActivityTimes, activity_times

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["ActivityRow", "ResourceRow", "activity_table", "resource_table"]


@dataclass(frozen=True)
class ActivityRow:
    activity: str
    events: int
    cases: int
    processing_median: float | None  # seconds; None without starts
    waiting_median: float | None


@dataclass(frozen=True)
class ResourceRow:
    resource: str
    events: int
    cases: int
    activities: int


def activity_table(
    store: Store, log_id: int, flt: Filter | None = None, *, times: ActivityTimes | None = None
) -> tuple[ActivityRow, ...]:
    """Every kept activity, most events first (ties by name).

    ``times`` is :func:`~mining.analysis.performance.activity_times` of the same log and filter when
    the caller has it already; else it is computed.
    """
    rows = store.query(*_activity_counts_sql(store, log_id, flt)).rows
    times_of = times if times is not None else activity_times(store, log_id, flt)
    by_activity = {a.activity: a for a in times_of.activities}
    out = []
    for activity, n, cases in rows:
        t = by_activity.get(activity)
        processing = t.processing.median if t is not None and t.processing.count else None
        out.append(
            ActivityRow(str(activity), int(n), int(cases), processing, t.waiting.median if t else None)
        )
    return tuple(out)


def _activity_counts_sql(store: Store, log_id: int, flt: Filter | None) -> tuple[str, dict[str, Any]]:
    """Events and cases per kept activity from the kept cases' variants: a case's activities, and how
    often each occurs, are its variant's, so no scan of the events (or DISTINCT over them) is needed."""
    params: dict[str, Any] = {"log": log_id}
    selection, kept = "", ""
    if flt is not None and not flt.is_empty:
        rest = dataclasses.replace(flt, activities_keep=(), activities_remove=())
        if not rest.is_empty:
            selection = f"AND case_no IN ({case_selection(store, log_id, rest, params)})"
        if flt.activities_keep:
            params["a_keep"] = list(flt.activities_keep)
            kept += " AND list_contains($a_keep, a)"
        if flt.activities_remove:
            params["a_drop"] = list(flt.activities_remove)
            kept += " AND NOT list_contains($a_drop, a)"
    sql = f"""
        WITH kept AS (
            SELECT variant_id, count(*) AS n FROM cases WHERE log_id = $log {selection} GROUP BY variant_id
        ),
        per_variant AS (
            SELECT kept.n, u.a, count(*) AS k
            FROM kept JOIN variants AS v ON v.log_id = $log AND v.variant_id = kept.variant_id,
                 unnest(v.activities) AS u(a)
            GROUP BY kept.variant_id, kept.n, u.a
        )
        SELECT a AS activity, sum(n * k) AS n, sum(n) AS cases FROM per_variant WHERE true {kept}
        GROUP BY a ORDER BY n DESC, a
    """
    return sql, params


def resource_table(
    store: Store, log_id: int, flt: Filter | None = None, *, limit: int | None = None
) -> tuple[ResourceRow, ...]:
    """Resources of the kept events, most events first (ties by name); events without one are left out."""
    rel = events_relation(store, log_id, flt)
    sql = (
        f"SELECT resource, count(*) AS n, count(DISTINCT case_no), count(DISTINCT activity) FROM ({rel.sql}) e "
        "WHERE resource IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return tuple(
        ResourceRow(str(r), int(n), int(c), int(a)) for r, n, c, a in store.query(sql, rel.params).rows
    )
