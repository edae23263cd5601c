"""One activity or one path of the map, in figures: what a click on the map shows.

* :func:`activity_detail`: the activity's events and cases, its median and
  p90 processing time (where starts are recorded) and waiting time before it,
  and the resources that do it most;
* :func:`path_detail`: how often ``A`` is directly followed by ``B``, in how
  many cases, the median and p90 time between them, and the resources that
  hand over most along it (``X → Y``).

Both read the same kept events as the map (:func:`~mining.analysis.filters.events_relation`),
so a projection (activities removed) is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.analysis.filters import Filter, events_relation
from mining.analysis.performance import activity_times

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["ActivityDetail", "PathDetail", "activity_detail", "path_detail"]

_TOP = 5


@dataclass(frozen=True)
class ActivityDetail:
    activity: str
    events: int
    cases: int
    processing_median: float | None  # seconds; None when the log records no starts
    processing_p90: float | None
    waiting_median: float | None
    waiting_p90: float | None
    processing_measured: bool
    top_resources: tuple[tuple[str, int], ...]  # (resource, events), busiest first


@dataclass(frozen=True)
class PathDetail:
    source: str
    target: str
    count: int
    cases: int
    median_seconds: float | None
    p90_seconds: float | None
    top_handovers: tuple[tuple[str, str, int], ...]  # (from resource, to resource, times)


def activity_detail(store: Store, log_id: int, flt: Filter | None, activity: str) -> ActivityDetail:
    """The figures of one activity among the kept events (zeros when it has none)."""
    rel = events_relation(store, log_id, flt)
    params = {**rel.params, "d_act": activity}
    events, cases = store.query(
        f"SELECT count(*), count(DISTINCT case_no) FROM ({rel.sql}) e WHERE activity = $d_act", params
    ).rows[0]
    top = store.query(
        f"SELECT resource, count(*) AS n FROM ({rel.sql}) e WHERE activity = $d_act AND resource IS NOT NULL "
        f"GROUP BY 1 ORDER BY n DESC, resource LIMIT {_TOP}",
        params,
    ).rows
    times = activity_times(store, log_id, flt)
    found = next((a for a in times.activities if a.activity == activity), None)
    measured = times.processing_measured
    return ActivityDetail(
        activity,
        int(events),
        int(cases),
        found.processing.median if found and measured else None,
        found.processing.p90 if found and measured else None,
        found.waiting.median if found else None,
        found.waiting.p90 if found else None,
        measured,
        tuple((str(r), int(n)) for r, n in top),
    )


def path_detail(store: Store, log_id: int, flt: Filter | None, source: str, target: str) -> PathDetail:
    """The figures of the path ``source → target`` (directly follows) among the kept events."""
    rel = events_relation(store, log_id, flt)
    params = {**rel.params, "d_src": source, "d_tgt": target}
    on_path = f"SELECT * FROM ({rel.sql}) e WHERE activity = $d_src AND next_activity = $d_tgt"
    count, cases, q = store.query(
        "SELECT count(*), count(DISTINCT case_no), "
        f"quantile_cont(epoch(next_ts) - epoch(ts), [0.5, 0.9]) FROM ({on_path}) p",
        params,
    ).rows[0]
    # Who hands over to whom along the path: the resource of each event and of its successor,
    # over the cases that take the path only.
    handovers = store.query(
        f"WITH e AS ({rel.sql}), k AS (SELECT DISTINCT case_no FROM ({on_path}) p), "
        "s AS (SELECT activity, resource, lead(activity) OVER w AS na, lead(resource) OVER w AS nr "
        "FROM e WHERE case_no IN (SELECT case_no FROM k) WINDOW w AS (PARTITION BY case_no ORDER BY ts, row_no)) "
        "SELECT resource, nr, count(*) AS n FROM s WHERE activity = $d_src AND na = $d_tgt "
        f"AND resource IS NOT NULL AND nr IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT {_TOP}",
        params,
    ).rows
    median, p90 = (q if q is not None else (None, None)) if count else (None, None)
    return PathDetail(
        source,
        target,
        int(count),
        int(cases),
        None if median is None else float(median),
        None if p90 is None else float(p90),
        tuple((str(a), str(b), int(n)) for a, b, n in handovers),
    )
