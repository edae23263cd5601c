"""Disco-like process-map simplification: an activity slider and a path slider.

:func:`simplify` works on a :class:`~mining.analysis.dfg.DFG` alone; the exact
rule is in its docstring.  :func:`simplified_dfg` is what the CLI and the app
use: it chooses the activities on the log's DFG, then recomputes the DFG of the
log *projected* onto them, so that a case whose first activity was hidden starts
at its first kept activity and two kept activities are joined when only hidden
ones came between them.  Every count in the result is then a true count of the
projected log, and every kept activity can be connected to a start and an end.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from mining.analysis.dfg import DFG, Edge, dfg
from mining.analysis.filters import Filter
from mining.errors import AnalysisError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["kept_activities", "simplified_dfg", "simplify"]

# Shares are products of floats; 0.3 * 10 must keep 3, not 4.
_EPS = 1e-9


def kept_activities(graph: DFG, share: float) -> tuple[str, ...]:
    """The ``share`` most frequent activities (by events, ties by name), at least one."""
    _check_share("activities", share)
    ranked = sorted(graph.activities.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return ()
    n = max(1, math.ceil(share * len(ranked) - _EPS))
    return tuple(a for a, _ in ranked[:n])


def simplify(graph: DFG, *, activities: float, paths: float) -> DFG:
    """Keep the most frequent activities and paths, then reconnect the map.

    The rule, step by step:

    1. **Activities.**  Rank activities by event count (descending, ties by
       name) and keep the first ``max(1, ceil(activities * n))``.
    2. **Restrict.**  Drop edges touching a dropped activity, and drop dropped
       activities from ``start``, ``end`` and ``activities``.  Nothing is
       re-routed here: a case whose first activity was dropped no longer
       counts in ``start`` (use :func:`simplified_dfg` to re-route through
       the projected log).  ``events`` becomes the kept activities' events;
       ``cases`` is unchanged.
    3. **Paths.**  Of the remaining edges, in DFG order (count descending,
       then source, target), keep the first ``ceil(paths * m)``.
    4. **Reach from a start.**  While some kept activity cannot be reached
       from an activity with ``start > 0`` over the kept edges, add the most
       frequent remaining edge that leaves the reachable set (source
       reachable, target not).
    5. **Reach an end.**  Likewise, while some kept activity cannot reach an
       activity with ``end > 0``, add the most frequent remaining edge that
       enters the set of activities that can (target can, source cannot).
    6. **Prune.**  Go through the edges added in 4-5 from the least frequent
       up, and drop each one whose removal leaves every activity as
       reachable (both ways) as before.  So no added edge can be spared:
       the repair set is minimal, though not always the smallest possible.

    Only edges of the input can be added, so an activity that the input
    itself cannot connect (possible in step 2, never in a DFG of a projected
    log) stays unconnected.  ``activities=1, paths=1`` returns the input's
    edges unchanged.
    """
    _check_share("paths", paths)
    kept = set(kept_activities(graph, activities))
    candidates = [e for e in graph.edges if e.source in kept and e.target in kept]
    n_paths = math.ceil(paths * len(candidates) - _EPS)
    chosen = candidates[:n_paths]
    starts = {a for a, k in graph.start.items() if a in kept and k > 0}
    ends = {a for a, k in graph.end.items() if a in kept and k > 0}

    added: list[Edge] = []
    for forward in (True, False):
        while True:
            roots = starts if forward else ends
            reach = _reach(roots, chosen, forward=forward)
            if kept <= reach:
                break
            step = next(
                (e for e in candidates if e not in chosen and _crosses(e, reach, forward=forward)), None
            )
            if step is None:
                break
            chosen.append(step)
            added.append(step)

    before = (_reach(starts, chosen, forward=True), _reach(ends, chosen, forward=False))
    order = {e: i for i, e in enumerate(candidates)}
    for edge in sorted(added, key=order.__getitem__, reverse=True):
        trial = [e for e in chosen if e is not edge]
        if (_reach(starts, trial, forward=True), _reach(ends, trial, forward=False)) == before:
            chosen = trial

    chosen.sort(key=order.__getitem__)
    acts = {a: k for a, k in graph.activities.items() if a in kept}
    return DFG(
        edges=tuple(chosen),
        start=_only(graph.start, kept),
        end=_only(graph.end, kept),
        activities=acts,
        cases=graph.cases,
        events=sum(acts.values()),
    )


def simplified_dfg(
    store: Store, log_id: int, flt: Filter | None = None, *, activities: float, paths: float
) -> DFG:
    """The simplified map of a log: activities chosen on the whole (filtered) log,
    the DFG recomputed over the log projected onto them, then :func:`simplify`
    with all of those activities and ``paths``.

    Examples
    --------
    ``store`` holds the textbook running example as log ``log``:

    >>> m = simplified_dfg(store, log, activities=0.5, paths=0.0)
    >>> sorted(m.activities)
    ['check ticket', 'decide', 'examine casually', 'register request']
    >>> m.start, m.cases
    ({'register request': 6}, 6)
    """
    full = dfg(store, log_id, flt)
    kept = kept_activities(full, activities)
    projected = full
    if len(kept) < len(full.activities):
        projected = dfg(store, log_id, dataclasses.replace(flt or Filter(), activities_keep=kept))
    return simplify(projected, activities=1.0, paths=paths)


def _check_share(name: str, share: float) -> None:
    if not 0 <= share <= 1:
        msg = f"`{name}` must be a share between 0 and 1, got {share}"
        raise AnalysisError(msg)


def _only(counts: Mapping[str, int], kept: set[str]) -> dict[str, int]:
    return {a: k for a, k in counts.items() if a in kept}


def _crosses(edge: Edge, reach: set[str], *, forward: bool) -> bool:
    inside, outside = (edge.source, edge.target) if forward else (edge.target, edge.source)
    return inside in reach and outside not in reach


def _reach(roots: Iterable[str], edges: Iterable[Edge], *, forward: bool) -> set[str]:
    nxt: dict[str, list[str]] = {}
    for e in edges:
        a, b = (e.source, e.target) if forward else (e.target, e.source)
        nxt.setdefault(a, []).append(b)
    seen = set(roots)
    todo = list(seen)
    while todo:
        for b in nxt.get(todo.pop(), ()):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen
