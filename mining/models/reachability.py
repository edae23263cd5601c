"""What a net allows next: the directly-follows relation of its visible steps, from its reachability graph.

``b`` may directly follow ``a`` when some reachable marking reached by
firing ``a`` enables ``b`` after silent transitions only.  The reachable
markings are explored breadth first; a net with more than :data:`MAX_STATES`
of them, or with more than a few hundred tokens in a place (unbounded), is
too large and gets no relation, as when ``should_stop()`` says to stop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.models.net import NetSpec

__all__ = ["MAX_STATES", "model_follows"]

#: Reachable markings explored before giving up.
MAX_STATES = 20_000
_MAX_TOKENS = 255


def model_follows(net: NetSpec, should_stop: Callable[[], bool] | None = None) -> set[tuple[str, str]] | None:
    """Pairs (a, b) such that b can directly follow a in the net, silent steps ignored; None if too large.

    ``should_stop()`` is asked every few hundred markings; when it says stop, the answer is None.
    """
    places = {p: i for i, p in enumerate(net.places)}
    labels = dict(net.transitions)
    pre: dict[str, list[tuple[int, int]]] = {t: [] for t in labels}
    post: dict[str, list[tuple[int, int]]] = {t: [] for t in labels}
    for src, dst, w in net.arcs:
        if src in places:
            pre[dst].append((places[src], w))
        else:
            post[src].append((places[dst], w))
    # Only transitions that take from a marked place can be enabled (and those that take from none).
    order = {t: k for k, t in enumerate(labels)}
    consumers: list[list[str]] = [[] for _ in places]
    for t, arcs in pre.items():
        for i, _ in arcs:
            consumers[i].append(t)
    free = [t for t, arcs in pre.items() if not arcs]
    start = [0] * len(places)
    for p, n in net.initial:
        start[places[p]] += n
    first = tuple(start)
    seen: dict[tuple[int, ...], list[tuple[str, tuple[int, ...]]]] = {}
    found = {first}
    queue = deque([first])
    while queue:
        marking = queue.popleft()
        if should_stop is not None and len(seen) % 256 == 255 and should_stop():
            return None
        edges: list[tuple[str, tuple[int, ...]]] = []
        candidates = {t for i, n in enumerate(marking) if n for t in consumers[i]}.union(free)
        for t in sorted(candidates, key=order.__getitem__):
            if all(marking[i] >= w for i, w in pre[t]):
                nxt = list(marking)
                for i, w in pre[t]:
                    nxt[i] -= w
                for i, w in post[t]:
                    nxt[i] += w
                    if nxt[i] > _MAX_TOKENS:
                        return None
                after = tuple(nxt)
                edges.append((t, after))
                if after not in found:
                    if len(found) >= MAX_STATES:
                        return None
                    found.add(after)
                    queue.append(after)
        seen[marking] = edges
    closure: dict[tuple[int, ...], set[str]] = {}

    def visible_next(marking: tuple[int, ...]) -> set[str]:
        if marking not in closure:
            found: set[str] = set()
            stack, visited = [marking], {marking}
            while stack:
                m = stack.pop()
                for t, nxt in seen[m]:
                    if labels[t] is not None:
                        found.add(labels[t])  # type: ignore[arg-type]
                    elif nxt not in visited:
                        visited.add(nxt)
                        stack.append(nxt)
            closure[marking] = found
        return closure[marking]

    pairs: set[tuple[str, str]] = set()
    for edges in seen.values():
        for t, nxt in edges:
            if labels[t] is not None:
                pairs.update((labels[t], b) for b in visible_next(nxt))  # type: ignore[misc]
    return pairs
