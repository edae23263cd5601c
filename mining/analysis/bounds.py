"""How large a log the Explore measures take on: a clear refusal instead of an answer nobody can read.

A map, a variant list or a heatmap of hundreds of thousands of distinct
activities is no picture of a process: such a column almost always holds ids,
timestamps or free text that was taken for the activity.  Computing them would
also hold every name in memory several times over (the heatmaps' grids, the
map's layout).  :func:`check_activities` counts the distinct activities from
the stored variants (a few milliseconds, not a pass over the events) and
refuses above :data:`MAX_ACTIVITIES`, naming the option that picks another
column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mining.errors import AnalysisError, Option, phrase

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["MAX_ACTIVITIES", "activity_count", "check_activities"]

#: The most distinct activities the map, variants and bottlenecks are computed for.
MAX_ACTIVITIES = 5_000


def activity_count(store: Store, log_id: int) -> int:
    """The log's distinct activities, read from its stored variants."""
    found = store.scalar(
        "SELECT count(DISTINCT a) FROM (SELECT unnest(activities) AS a FROM variants WHERE log_id = ?)",
        [log_id],
    )
    return int(found or 0)


def check_activities(store: Store, log_id: int) -> int:
    """The log's distinct activities; :class:`AnalysisError` when there are more than :data:`MAX_ACTIVITIES`."""
    n = activity_count(store, log_id)
    if n > MAX_ACTIVITIES:
        msg = (
            f"the log has {n:,} distinct activities; the process map, variants and bottlenecks are "
            f"computed for at most {MAX_ACTIVITIES:,}. A column with that many values usually holds ids, "
            "dates or free text rather than the steps of the process"
        )
        raise AnalysisError(
            msg, hint=phrase("load the file again with ", Option("activity", "COLUMN"), " naming the steps")
        )
    return n
