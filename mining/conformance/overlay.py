"""The map overlay: the log's directly-follows pairs and activities that the model does not allow.

The model's relation comes from its reachability graph
(:func:`mining.models.reachability.model_follows`).  Every directly-follows
pair of the log outside it, and every activity the model lacks, is listed
with its counts.  Nets too large to explore (or a check whose budget is
spent) get no edge overlay, which the record says.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mining.conformance.records import MapOverlay, OverlayEdge
from mining.models.reachability import model_follows

if TYPE_CHECKING:
    from mining.models.net import NetSpec

__all__ = ["map_overlay"]


def map_overlay(
    net: NetSpec,
    variants: Sequence[tuple[Sequence[str], int]],
    should_stop: Callable[[], bool] | None = None,
) -> MapOverlay:
    """The log's directly-follows pairs and activities the (relabelled) net does not allow.

    ``should_stop()`` stops the exploration of the net (no edge overlay then).
    """
    allowed = model_follows(net, should_stop)
    known = set(net.labels)
    pair_count: Counter[tuple[str, str]] = Counter()
    pair_cases: Counter[tuple[str, str]] = Counter()
    act_events: Counter[str] = Counter()
    act_cases: Counter[str] = Counter()
    for acts, n in variants:
        seen: set[object] = set()
        for pair in itertools.pairwise(acts):
            pair_count[pair] += n
            if pair not in seen:
                seen.add(pair)
                pair_cases[pair] += n
        for act in acts:
            if act not in known:
                act_events[act] += n
                if act not in seen:
                    seen.add(act)
                    act_cases[act] += n
    edges = (
        ()
        if allowed is None
        else tuple(
            OverlayEdge(a, b, pair_count[(a, b)], pair_cases[(a, b)])
            for a, b in sorted(pair_count, key=lambda p: (-pair_count[p], p))
            if (a, b) not in allowed
        )
    )
    unknown = tuple(
        (a, act_events[a], act_cases[a]) for a in sorted(act_events, key=lambda a: (-act_events[a], a))
    )
    return MapOverlay(edges, unknown, 0 if allowed is None else len(allowed), allowed is not None)
