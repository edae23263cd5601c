"""Data-quality findings about the log as a whole, after its events are stored.

Each finding counts what it found, gives a few examples and says what to do
(:data:`mining.schema.QUALITY_FIXES`); none changes the data.  They are the
questions a process analyst asks of a new extract before trusting a map:

* ``near_duplicate_activities``: names that differ only in case, spaces or
  one typo in one word (``Approve``, ``approve ``, ``Aprove``), so one step
  shows as two;
* ``names_with_spaces``: activity, resource or case values with leading or
  trailing spaces, which stay distinct from the same name without them;
* ``one_event_cases``: cases with a single event, which have no path;
* ``cases_cut_by_extract``: cases that began before the first day of the
  extract or were still open at its end (their first or last activity is not
  one that usually starts or ends a case, near the extract's edge);
* ``clock_shift``: a block of events repeating other events of the same case
  and activity exactly a whole number of hours apart: part of the data read
  in another time zone;
* ``dates_without_times``: events at exactly midnight (in the log's zone),
  of an activity that falls there half the time or more, followed by a later
  event of the same case on the same day: a date with no time of day, read as
  00:00, so it comes first in its day whatever happened first ("Closed on
  2026-01-02" before "Opened at 09:00" that day).

Every query is bounded: activity names are compared only among the 2,000
most frequent, and shifted repeats only within (case, activity) groups of at
most 50 events.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING

from mining.schema import QUALITY_FIXES, QualityIssue
from mining.store import quote_ident
from mining.words import agree, plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["log_findings"]

_EXAMPLES = 5
_MAX_NAMES = 2000
_MAX_GROUP = 50
#: A start or end activity opens (closes) at least this share of the cases it occurs in.
_EDGE_SHARE = 0.5
#: Shifted repeats need at least this many events at one offset to be a block, not chance.
_MIN_BLOCK = 3


def log_findings(store: Store, log_id: int) -> list[QualityIssue]:
    """The whole-log findings of the log ``log_id`` (events, cases and variants already stored)."""
    found = [
        _near_duplicates(store, log_id),
        _spaces(store, log_id),
        _one_event_cases(store, log_id),
        _cut_cases(store, log_id),
        _clock_shift(store, log_id),
        _dates_without_times(store, log_id),
    ]
    return [f for f in found if f is not None]


def _issue(kind: str, count: int, message: str, examples: list[str]) -> QualityIssue:
    return QualityIssue(kind, count, message, tuple(examples[:_EXAMPLES]), QUALITY_FIXES[kind])


# -- near-duplicate activity names ------------------------------------------------------------


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s_\-/.:]+", _norm(name)) if t]


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _typo(a: str, b: str) -> bool:
    """Same words but one, which differs by one edit and is a word of letters of four or more.

    ``Release A``/``Release B`` (a one-letter word) and ``Step 1``/``Step 2``
    (digits) are different steps, not typos.
    """
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) != len(tb):
        return False
    diff = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
    if len(diff) != 1:
        return False
    x, y = diff[0]
    if min(len(x), len(y)) < 4 or not (x.isalpha() and y.isalpha()):
        return False
    return _one_edit(x, y)


def _near_duplicates(store: Store, log_id: int) -> QualityIssue | None:
    names = store.query(
        "SELECT activity, count(*) AS n FROM events WHERE log_id = ? GROUP BY activity ORDER BY n DESC, activity "
        "LIMIT ?",
        [log_id, _MAX_NAMES],
    ).rows
    freq = {str(a): int(n) for a, n in names}
    # Group by the normalised name (case and spaces), then join groups whose names are one typo apart.
    groups: dict[str, list[str]] = defaultdict(list)
    for name in freq:
        groups[_norm(name)].append(name)
    keys = sorted(groups)
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    by_length: dict[int, list[str]] = defaultdict(list)
    for k in keys:
        by_length[len(k)].append(k)
    for k in keys:
        for length in (len(k) - 1, len(k), len(k) + 1):
            for other in by_length.get(length, ()):
                if other > k and _typo(k, other):
                    parent[root(other)] = root(k)
    clusters: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        clusters[root(k)].extend(groups[k])
    found = []
    for members in clusters.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (-freq[m], m))
        main, *others = members
        found.append((main, others))
    if not found:
        return None
    found.sort(key=lambda f: (-sum(freq[o] for o in f[1]), f[0]))
    names_off = sum(len(o) for _, o in found)
    events_off = sum(freq[o] for _, o in found for o in o)
    examples = [
        ", ".join(f"{o!r} ({freq[o]:,})" for o in others) + f" look like {main!r} ({freq[main]:,} events)"
        for main, others in found
    ]
    message = (
        f"{names_off:,} activity names ({events_off:,} events) differ from another only in case, spaces or one "
        "typo, so one step may show as several"
    )
    return _issue("near_duplicate_activities", names_off, message, examples)


# -- names with surrounding spaces -------------------------------------------------------------


def _spaces(store: Store, log_id: int) -> QualityIssue | None:
    # Most logs have no such name: the cases and the variants hold every case id and
    # activity once, so only the resources need a pass over the events to rule it out.
    def spaced(c: str) -> str:
        return f"(starts_with({c}, ' ') OR ends_with({c}, ' '))"

    if not store.scalar(
        f"SELECT EXISTS (SELECT 1 FROM cases WHERE log_id = $log AND {spaced('case_id')}) "
        f"OR EXISTS (SELECT 1 FROM (SELECT unnest(list_distinct(activities)) AS a FROM variants WHERE log_id = $log) "
        f"WHERE {spaced('a')}) "
        f"OR EXISTS (SELECT 1 FROM events WHERE log_id = $log AND {spaced('resource')})",
        {"log": log_id},
    ):
        return None
    row = store.query(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE starts_with({c}, ' ') OR ends_with({c}, ' ')), "
            f"list(DISTINCT {c}) FILTER (WHERE starts_with({c}, ' ') OR ends_with({c}, ' '))[:{_EXAMPLES}]"
            for c in ("activity", "resource", "case_id")
        )
        + " FROM events WHERE log_id = ?",
        [log_id],
    ).rows[0]
    counts = {"activity": row[0], "resource": row[2], "case id": row[4]}
    if not any(counts.values()):
        return None
    examples = []
    for (label, n), names in zip(counts.items(), (row[1], row[3], row[5]), strict=True):
        if n:
            examples += [f"{label} {name!r}" for name in sorted(names or [])]
    parts = [f"{label} in {n:,} event{'s' if n != 1 else ''}" for label, n in counts.items() if n]
    events = int(
        store.scalar(
            "SELECT count(*) FROM events WHERE log_id = ? AND ("
            + " OR ".join(
                f"starts_with({c}, ' ') OR ends_with({c}, ' ')" for c in ("activity", "resource", "case_id")
            )
            + ")",
            [log_id],
        )
    )
    message = (
        f"{events:,} {'event has' if events == 1 else 'events have'} names with leading or trailing spaces "
        f"({', '.join(parts)}); they are kept as "
        "written, so 'Approve ' and 'Approve' count as two"
    )
    return _issue("names_with_spaces", events, message, examples)


# -- one-event cases ---------------------------------------------------------------------------


def _one_event_cases(store: Store, log_id: int) -> QualityIssue | None:
    n, total, examples = store.query(
        "SELECT count(*) FILTER (WHERE n_events = 1), count(*), "
        "coalesce(list(case_id ORDER BY case_no) FILTER (WHERE n_events = 1)[:5], []) FROM cases WHERE log_id = ?",
        [log_id],
    ).rows[0]
    if not n:
        return None
    message = f"{int(n):,} of {plural(int(total), 'case')} {agree(int(n), 'has', 'have')} a single event: no path, no duration"
    return _issue("one_event_cases", int(n), message, [f"case {c}" for c in examples])


# -- cases cut by the extract ------------------------------------------------------------------


def _cut_cases(store: Store, log_id: int) -> QualityIssue | None:
    """Cases near the extract's first (last) day whose first (last) activity rarely starts (ends) a case."""
    stats = store.query(
        "SELECT min(start_ts), max(end_ts), median(duration_s), count(*) FROM cases WHERE log_id = ? AND n_events > 1",
        [log_id],
    ).rows[0]
    first_ts, last_ts, median_s, n_cases = stats
    if not n_cases or n_cases < 10 or median_s is None or median_s <= 0:
        return None
    rows = store.query(
        """
        WITH edges AS (
            -- A variant lists its case's activities in the stored (time, row) order,
            -- so its first and last entries are the case's first and last activity.
            SELECT c.case_id, c.case_no, c.start_ts, c.end_ts,
                   v.activities[1] AS first_act, v.activities[len(v.activities)] AS last_act
            FROM cases c JOIN variants v ON v.log_id = c.log_id AND v.variant_id = c.variant_id
            WHERE c.log_id = $log AND c.n_events > 1
        ),
        occurs AS (
            -- The cases an activity occurs in: its variants' case counts, each variant once.
            SELECT activity, sum(n_cases) AS n FROM (
                SELECT variant_id, n_cases, unnest(list_distinct(activities)) AS activity
                FROM variants WHERE log_id = $log
            ) GROUP BY activity
        ),
        -- The cases an activity opens (closes): the case counts of the variants it opens (closes).
        starts AS (
            SELECT activities[1] AS activity, sum(n_cases) AS n FROM variants
            WHERE log_id = $log AND len(activities) > 1 GROUP BY 1
        ),
        ends AS (
            SELECT activities[len(activities)] AS activity, sum(n_cases) AS n FROM variants
            WHERE log_id = $log AND len(activities) > 1 GROUP BY 1
        ),
        opening AS (
            SELECT o.activity, s.n FROM occurs o JOIN starts s USING (activity) WHERE s.n >= $share * o.n
        ),
        closing AS (
            SELECT o.activity, e.n FROM occurs o JOIN ends e USING (activity) WHERE e.n >= $share * o.n
        )
        SELECT
            count(*) FILTER (WHERE cut_start),
            count(*) FILTER (WHERE open_end),
            -- Inside a CASE, an example's text is built for the rows it names, not for every case.
            list(CASE WHEN cut_start THEN 'case ' || case_id || ' starts with ' || first_act END ORDER BY case_no)
                FILTER (WHERE cut_start)[:5],
            list(CASE WHEN open_end THEN 'case ' || case_id || ' ends with ' || last_act END ORDER BY case_no)
                FILTER (WHERE open_end)[:5],
            (SELECT list(activity ORDER BY n DESC, activity) FROM opening)[:5],
            (SELECT list(activity ORDER BY n DESC, activity) FROM closing)[:5]
        FROM (
            SELECT *,
                first_act NOT IN (SELECT activity FROM opening)
                    AND epoch(start_ts) - epoch($first) < $window AS cut_start,
                last_act NOT IN (SELECT activity FROM closing)
                    AND epoch($last) - epoch(end_ts) < $window AS open_end
            FROM edges
        )
        """,
        {"log": log_id, "share": _EDGE_SHARE, "first": first_ts, "last": last_ts, "window": float(median_s)},
    ).rows[0]
    cut, still_open, cut_ex, open_ex, opening, closing = rows
    if not cut and not still_open:
        return None
    # What the data shows, not a verdict: a system that logs changes may record a new case's first
    # state as other than its usual opener (ServiceNow's incidents opened on the extract's first day).
    parts = []
    if cut:
        parts.append(
            f"{int(cut):,} {agree(int(cut), 'starts', 'start')} near the extract's first day with an activity "
            f"that rarely opens a case ({agree(int(cut), 'it', 'they')} may have begun before it)"
        )
    if still_open:
        parts.append(
            f"{int(still_open):,} {agree(int(still_open), 'ends', 'end')} near its last day with one that rarely "
            f"closes a case ({agree(int(still_open), 'it', 'they')} may still be open)"
        )
    # Activities, not cases: an activity that opens (closes) most of the cases it occurs in, most cases first.
    usual = []
    if opening:
        usual.append("open the cases they occur in: " + ", ".join(repr(a) for a in opening))
    if closing:
        usual.append("close them: " + ", ".join(repr(a) for a in closing))
    total = int(cut) + int(still_open)
    message = (
        f"{plural(total, 'case')} {agree(total, 'looks', 'look')} cut by the extract: {' and '.join(parts)}"
    )
    if usual:
        message += f"; the activities that usually {'; that usually '.join(usual)}"
    return _issue(
        "cases_cut_by_extract", int(cut) + int(still_open), message, [*(cut_ex or []), *(open_ex or [])]
    )


# -- clock shifts ------------------------------------------------------------------------------


def _clock_shift(store: Store, log_id: int) -> QualityIssue | None:
    """Events copied a whole number of hours later: same case, activity, resource and attributes.

    A copy is one pair, not a chain: a measurement taken every 6 hours
    (08:00, 14:00, 20:00), or one whose attributes differ (another value),
    is a real repetition.
    """
    attrs = [
        str(r[0])
        for r in store.query(
            "SELECT column_name FROM attribute_columns WHERE log_id = ? ORDER BY position LIMIT 200", [log_id]
        ).rows
    ]
    table = quote_ident(f"attrs_{log_id}")
    has_table = bool(
        store.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [f"attrs_{log_id}"]
        )
    )
    # Only events whose time shares its minutes and seconds with another event of
    # the same case and activity can be a whole number of hours from it: one scan
    # of the events of repeated activities leaves those few, and the pairs are
    # built (and their attributes compared) among them alone.
    same_attrs = ""
    if attrs and has_table:
        same = " AND ".join(f"ta.{quote_ident(c)} IS NOT DISTINCT FROM tb.{quote_ident(c)}" for c in attrs)
        same_attrs = f"LEFT JOIN {table} ta ON ta.row_no = p.row_a LEFT JOIN {table} tb ON tb.row_no = p.row_b WHERE {same}"
    rows = store.query(
        f"""
        WITH repeated AS (
            -- A variant lists its cases' activities, so it tells which activity occurs
            -- 2 to max_group times in a case without reading the events.
            SELECT variant_id, activity FROM (
                SELECT variant_id, unnest(activities) AS activity FROM variants
                WHERE log_id = $log AND len(list_distinct(activities)) < len(activities)
            ) GROUP BY variant_id, activity HAVING count(*) BETWEEN 2 AND $max_group
        ),
        groups AS (
            SELECT c.case_no, r.activity FROM cases c JOIN repeated r USING (variant_id) WHERE c.log_id = $log
        ),
        ev AS (
            -- Two events a whole number of hours apart share their minutes and seconds past the
            -- hour: only events sharing them with another of the same case and activity can pair,
            -- and one scan of the events finds them.
            SELECT case_id, case_no, activity, resource, lifecycle, ts, row_no FROM (
                SELECT e.case_id, e.case_no, e.activity, e.resource, e.lifecycle, e.ts, e.row_no,
                       count(*) OVER (
                           PARTITION BY e.case_no, e.activity, (epoch_ms(e.ts) % 3600000 + 3600000) % 3600000
                       ) AS k
                FROM events e SEMI JOIN groups g ON e.case_no = g.case_no AND e.activity = g.activity
                WHERE e.log_id = $log
            ) WHERE k >= 2
        ),
        candidates AS (
            SELECT a.case_id, a.case_no, a.activity, a.row_no AS row_a, b.row_no AS row_b, a.ts AS ts_a, b.ts AS ts_b,
                   (epoch_ms(b.ts) - epoch_ms(a.ts)) // 3600000 AS hours
            FROM ev a JOIN ev b ON a.case_no = b.case_no AND a.activity = b.activity
                AND a.resource IS NOT DISTINCT FROM b.resource AND a.lifecycle IS NOT DISTINCT FROM b.lifecycle
                AND a.row_no <> b.row_no AND b.ts > a.ts
            WHERE epoch_ms(b.ts) - epoch_ms(a.ts) BETWEEN 3600000 AND 14 * 3600000
              AND (epoch_ms(b.ts) - epoch_ms(a.ts)) % 3600000 = 0
        ),
        pairs AS (
            -- A copy is one to one: nine receipts booked at 06:18 and one at 09:18 are not nine copies.
            SELECT * FROM (
                SELECT p.*, count(*) OVER (PARTITION BY p.hours, p.row_a) AS from_a,
                       count(*) OVER (PARTITION BY p.hours, p.row_b) AS to_b
                FROM candidates p {same_attrs}
            ) WHERE from_a = 1 AND to_b = 1
        ),
        copies AS (
            -- A chain (an event both copied and a copy at the same offset) is a periodic repetition.
            SELECT * FROM pairs p WHERE NOT EXISTS (
                SELECT 1 FROM pairs q WHERE q.hours = p.hours AND q.case_no = p.case_no
                    AND (q.row_a = p.row_b OR q.row_b = p.row_a)
            )
        ),
        blocks AS (
            -- Data read twice, once in the wrong zone, doubles the events of the cases it holds:
            -- at least half of such a case's events are in a copied pair.  Busy cases that repeat
            -- an activity many times (BPIC 2019's goods receipts) meet a whole hour by chance.
            SELECT c.* FROM copies c JOIN (
                SELECT p.case_no, p.hours FROM copies p JOIN cases k ON k.log_id = $log AND k.case_no = p.case_no
                GROUP BY p.case_no, p.hours, k.n_events HAVING 4 * count(*) >= k.n_events
            ) USING (case_no, hours)
        )
        SELECT hours, count(*) AS n,
               list('case ' || case_id || ': ' || activity || ' at ' || strftime(ts_a, '%Y-%m-%d %H:%M:%S')
                    || ' and ' || strftime(ts_b, '%H:%M:%S') ORDER BY case_id, ts_a)[:5]
        FROM blocks GROUP BY hours HAVING count(*) >= $min_block ORDER BY n DESC, hours LIMIT 1
        """,
        {"log": log_id, "max_group": _MAX_GROUP, "min_block": _MIN_BLOCK},
    ).rows
    if not rows:
        return None
    hours, n, examples = rows[0]
    message = (
        f"{plural(int(n), 'event')} {agree(int(n), 'repeats', 'repeat')} another event of the same case and "
        f"activity exactly {int(hours)} hour"
        f"{'s' if hours != 1 else ''} later, with the same resource and attributes: part of the data may have "
        "been read in another time zone"
    )
    return _issue("clock_shift", int(n), message, list(examples))


# -- dates without a time of day ---------------------------------------------------------------


def _dates_without_times(store: Store, log_id: int) -> QualityIssue | None:
    """Events at local midnight with a later event of their case the same local day, of activities that
    fall at midnight half the time or more: a whole activity dated without a time, not an event that
    happened at 00:00 by chance (1 in 86,400 with times to the second)."""
    local = "timezone(l.timezone, e.ts)"
    n, cases, examples = store.query(
        # Local midnight is a whole quarter-hour in UTC in every zone: that integer test passes
        # about one event in 900 to the zone conversion.
        "WITH mid AS ("
        f"  SELECT e.case_no, e.case_id, e.activity, e.row_no, {local} AS lt, "
        "   timezone(l.timezone, e.next_ts) AS next_lt "
        "  FROM events e JOIN logs l ON l.log_id = e.log_id "
        f"  WHERE e.log_id = $log AND epoch_us(e.ts) % 900000000 = 0 AND {local} = date_trunc('day', {local})"
        "), dated AS ("
        "  SELECT m.activity FROM (SELECT activity, count(*) AS n FROM mid GROUP BY activity) m "
        "  JOIN (SELECT activity, count(*) AS n FROM events WHERE log_id = $log "
        "        AND activity IN (SELECT activity FROM mid) GROUP BY activity) a USING (activity) "
        "  WHERE m.n >= 0.5 * a.n"
        ") "
        "SELECT count(*), count(DISTINCT case_no), "
        "coalesce(list('case ' || case_id || ': ' || activity || ' on ' || strftime(lt, '%Y-%m-%d') "
        "ORDER BY case_no, row_no)[:5], []) "
        "FROM mid WHERE activity IN (SELECT activity FROM dated) AND next_lt > lt "
        "AND date_trunc('day', next_lt) = lt",
        {"log": log_id},
    ).rows[0]
    if not n:
        return None
    message = (
        f"{plural(int(n), 'event')} in {plural(int(cases), 'case')} {agree(int(n), 'falls', 'fall')} at exactly "
        "midnight before later events of the same case and day: dates without a time of day, read as 00:00, so "
        f"{agree(int(n), 'it comes', 'they come')} first in the day whatever happened first"
    )
    return _issue("dates_without_times", int(n), message, list(examples))
