"""Whether a net is unbounded: a run that can repeat and leave more tokens each time.

A net is unbounded when some reachable marking ``M`` leads, by a sequence of
transitions, to a marking ``M'`` that has at least the tokens of ``M`` in
every place and more in one: the same sequence is enabled again at ``M'``,
so it can repeat forever and the places that gained grow without end (the
test of Karp and Miller's coverability tree).  An unbounded net has
infinitely many markings: pm4py's alignments of a trace that cannot reach
the final marking search forever, and its precision's walk through silent
steps never ends.

:func:`growth` searches the reachable markings depth first, comparing each
new marking with the markings on the path to it, and stops at
:data:`MAX_STATES` markings: it finds the usual culprits (a loop, or an
optional step, that puts a token in a place nothing empties) at once, and
answers None ("not shown unbounded") for nets too large to search, which
the checks then bound by their own limits and the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.models.net import NetSpec

__all__ = ["MAX_STATES", "Growth", "growth"]

#: Markings searched before giving up (None: not shown unbounded).
MAX_STATES = 1_000
#: Markings on the path compared with each new one: a repeating sequence is rarely longer.
_WINDOW = 64


@dataclass(frozen=True)
class Growth:
    """A sequence of transitions that can repeat forever, and the places it adds tokens to."""

    steps: tuple[tuple[str, str | None], ...]  # (transition id, label or None for a silent step)
    places: tuple[str, ...]

    def describe(self) -> str:
        """In words, e.g. ``'B' then the silent step 'back' can repeat forever, each time adding a token to place 'q'``."""
        names = [repr(lab) if lab is not None else f"the silent step {tid!r}" for tid, lab in self.steps]
        steps = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " then " + names[-1]
        places = ", ".join(repr(p) for p in self.places)
        plural = "s" if len(self.places) > 1 else ""
        return f"{steps} can repeat forever, each time adding a token to place{plural} {places}"


def growth(
    net: NetSpec, *, max_states: int = MAX_STATES, should_stop: Callable[[], bool] | None = None
) -> Growth | None:
    """A repeatable sequence that grows the marking (the net is unbounded), or None if none was found.

    ``should_stop()`` is asked every few hundred markings; when it says stop
    the search ends with None, as when ``max_states`` markings were searched.
    """
    index = {p: i for i, p in enumerate(net.places)}
    tids = [t for t, _ in net.transitions]
    labels = [lab for _, lab in net.transitions]
    tpos = {t: i for i, t in enumerate(tids)}
    pre: list[list[tuple[int, int]]] = [[] for _ in tids]
    post: list[list[tuple[int, int]]] = [[] for _ in tids]
    for src, dst, w in net.arcs:
        if src in index:
            pre[tpos[dst]].append((index[src], int(w)))
        elif src in tpos and dst in index:
            post[tpos[src]].append((index[dst], int(w)))
    consumers: list[list[int]] = [[] for _ in index]
    for t, arcs in enumerate(pre):
        for p, _ in arcs:
            consumers[p].append(t)
    free = [t for t, arcs in enumerate(pre) if not arcs]
    start = [0] * len(index)
    for p, n in net.initial:
        if p in index:
            start[index[p]] += int(n)
    first = tuple(start)

    def successors(m: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        cands = sorted({t for p, n in enumerate(m) if n for t in consumers[p]} | set(free))
        out = []
        for t in cands:
            if all(m[p] >= w for p, w in pre[t]):
                nxt = list(m)
                for p, w in pre[t]:
                    nxt[p] -= w
                for p, w in post[t]:
                    nxt[p] += w
                out.append((t, tuple(nxt)))
        return out

    # Dense markings: keep them to a few million numbers in all.
    cap = min(max_states, max(1_000, 4_000_000 // max(1, len(index))))
    seen = {first}
    # The path from the initial marking: each marking's tokens (place, n), total, and the transition to it.
    path: list[tuple[tuple[tuple[int, int], ...], int, int | None]] = [(_support(first), sum(first), None)]
    todo: list[list[tuple[int, tuple[int, ...]]]] = [successors(first)]
    while todo:
        if not todo[-1]:
            todo.pop()
            path.pop()
            continue
        t, m = todo[-1].pop()
        total = sum(m)
        for back in range(len(path) - 1, max(-1, len(path) - 1 - _WINDOW), -1):
            tokens, older_total, _ = path[back]
            # m covers an older marking and has more tokens: what led from one to the other repeats.
            if older_total < total and all(m[p] >= n for p, n in tokens):
                fired = [tr for _, _, tr in path[back + 1 :] if tr is not None] + [t]
                had = dict(tokens)
                grown = tuple(net.places[p] for p in range(len(m)) if m[p] > had.get(p, 0))
                return Growth(tuple((tids[x], labels[x]) for x in fired), grown)
        if m in seen:
            continue
        seen.add(m)
        if len(seen) >= cap or (should_stop is not None and len(seen) % 256 == 0 and should_stop()):
            return None
        path.append((_support(m), total, t))
        todo.append(successors(m))
    return None


def _support(m: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((p, n) for p, n in enumerate(m) if n)
