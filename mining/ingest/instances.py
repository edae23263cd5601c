"""Activity instances from lifecycle events: each start folded into its completion.

An export that writes a start and a completion of each activity as two events
(XES ``lifecycle:transition``) draws every activity followed by itself on the
map and doubles every variant's length.  Asked to (``--pair-starts``), the
ingest counts one step per activity instance, as Disco does: the completion,
carrying its start's time as its start timestamp, as a two-timestamp export
gives it, so the map, the variants and the processing times read it as such.

The pairing is the Bottlenecks page's (:func:`mining.analysis.performance.instances_sql`),
so its processing times do not move: the n-th start of an activity in a case
with the n-th completion of it not yet paired, and a start only when it is no
later than that completion.  A start left without one stays an event of its own
(an activity still running when the data was extracted).  The transitions that
are no execution of the activity (schedule, assign, suspend, resume) are no step
either: they are left out, and counted, unless they are all a case has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.schema import IS_COMPLETION, IS_LIFECYCLE_START, IS_NOT_EXECUTION
from mining.store import quote_ident

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["Folded", "fold_starts", "left_out_sql", "pairs_sql"]


@dataclass(frozen=True)
class Folded:
    """What :func:`fold_starts` did: starts folded into their completion, and the events of other
    transitions left out, by transition as written in lower case.  (The starts kept as events are
    counted where they are said, from the stored events.)"""

    paired: int
    left_out: tuple[tuple[str, int], ...] = ()


def left_out_sql(relation: str, *, case: str, row: str) -> str:
    """SQL of the rows of ``relation`` whose transition is no execution (``row``, ``transition``), in the
    cases that have another event: a case of nothing else keeps them."""
    c, r = quote_ident(case), quote_ident(row)
    return (
        f"SELECT {r} AS row, lower(lifecycle) AS transition FROM {relation} WHERE {IS_NOT_EXECUTION} AND {c} IN "
        f"(SELECT {c} FROM {relation} WHERE lifecycle IS NULL OR NOT {IS_NOT_EXECUTION})"
    )


def pairs_sql(relation: str, *, case: str, row: str) -> str:
    """SQL of the pairs in ``relation`` (columns ``case``, ``row``, ``activity``, ``ts``, ``start_ts``,
    ``lifecycle``): ``start_row``, ``done_row`` and ``start_ts``, the start's time.

    A completion that has a start time already (paired by an earlier ingest of the log) is left out.
    """
    c, r = quote_ident(case), quote_ident(row)
    window = f"WINDOW w AS (PARTITION BY {c}, activity ORDER BY ts, {r})"
    return (
        f"WITH s AS (SELECT {c} AS k, activity, {r} AS r, ts, row_number() OVER w AS n "
        f"FROM {relation} WHERE {IS_LIFECYCLE_START} {window}), "
        f"d AS (SELECT {c} AS k, activity, {r} AS r, ts, row_number() OVER w AS n "
        f"FROM {relation} WHERE {IS_COMPLETION} AND start_ts IS NULL {window}) "
        "SELECT s.r AS start_row, d.r AS done_row, s.ts AS start_ts "
        "FROM s JOIN d ON s.k = d.k AND s.activity = d.activity AND s.n = d.n WHERE s.ts <= d.ts"
    )


def fold_starts(store: Store, log_id: int) -> Folded:
    """Fold the log's paired starts into their completions, leave out the events of transitions that
    are no step, and write its events again, in stored order with their successors; the attribute rows
    of the events gone go too.  Inside the caller's transaction."""
    log = int(log_id)
    mine = f"(SELECT * FROM events WHERE log_id = {log})"
    store.execute(f"CREATE OR REPLACE TEMP TABLE _pairs AS {pairs_sql(mine, case='case_no', row='row_no')}")
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE _other AS {left_out_sql(mine, case='case_no', row='row_no')}"
    )
    try:
        paired = int(store.scalar("SELECT count(*) FROM _pairs"))
        left_out = tuple(
            (str(t), int(n))
            for t, n in store.query(
                "SELECT transition, count(*) AS n FROM _other GROUP BY 1 ORDER BY n DESC, transition"
            ).rows
        )
        gone = "(SELECT start_row FROM _pairs UNION ALL SELECT row FROM _other)"
        if paired or left_out:
            store.execute(
                "CREATE OR REPLACE TEMP TABLE _folded AS SELECT e.log_id, e.case_id, e.activity, e.ts, "
                "coalesce(p.start_ts, e.start_ts) AS start_ts, e.resource, e.lifecycle, e.cost, e.row_no, "
                "e.run_id, e.case_no, lead(e.activity) OVER w AS next_activity, lead(e.ts) OVER w AS next_ts "
                "FROM events e LEFT JOIN _pairs p ON p.done_row = e.row_no "
                f"WHERE e.log_id = ? AND e.row_no NOT IN {gone} "
                "WINDOW w AS (PARTITION BY e.case_no ORDER BY e.ts, e.row_no) "
                "ORDER BY e.case_no, e.ts, e.row_no",
                [log],
            )
            store.execute("DELETE FROM events WHERE log_id = ?", [log])
            store.execute("INSERT INTO events SELECT * FROM _folded ORDER BY case_no, ts, row_no")
            store.execute("DROP TABLE _folded")
            store.execute(f"DELETE FROM {quote_ident(f'attrs_{log}')} WHERE row_no IN {gone}")
        if paired:
            store.execute("UPDATE logs SET has_start = true WHERE log_id = ?", [log])
    finally:
        store.execute("DROP TABLE IF EXISTS _pairs")
        store.execute("DROP TABLE IF EXISTS _other")
    return Folded(paired, left_out)
