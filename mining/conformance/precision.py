"""ETC precision on the variant-compressed prefix tree, in pure Python.

ETC precision (Muñoz-Gama and Carmona, 2010) as pm4py computes it in
``precision_token_based_replay``: every proper prefix of every case is
replayed on the net with pm4py's token replay (stop at the first activity
that cannot fire even after walking through silent transitions; an activity
the net does not know is skipped); at the marking reached, the visible
transitions enabled directly or after silent steps are the *allowed* tasks,
and the allowed tasks that no case continues the prefix with are *escaping*.
Precision is ``1 - sum(escaping x cases) / sum(allowed x cases)`` over all
prefixes, the empty prefix included (its allowed tasks against the start
activities).

pm4py replays each prefix from the start, so a log costs the sum of the
squared trace lengths of its variants.  Here the prefixes form a tree (a
prefix's state is its parent's state plus one step) and the steps and
enabled sets are memoised by marking, so each distinct prefix costs one step
and each distinct marking one closure.  The replay step is pm4py's own, step
for step: the hidden-transition walk of ``apply_hidden_trans`` (two levels
deep, along shortest silent paths between places, places taken in name
order) and the choice of the transition (an enabled one with the label,
else the last of that label by transition name).  pm4py picks among ties of
equally short silent paths by Python's set order; here the tie goes to the
path through transitions with the smaller names, so a net with such ties
may differ from pm4py's figure where pm4py's own answer varies from run to
run.

Work is bounded: ``should_stop()`` is asked every few hundred steps, and a
net whose silent steps reach more than :data:`MAX_CLOSURE` markings from
one marking, or whose replay meets more than :data:`MAX_MARKINGS` distinct
markings, is refused with :class:`~mining.errors.ConformanceError` (an
unbounded net, or one too wide to judge), where pm4py would loop or run out
of memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mining.errors import ConformanceError

if TYPE_CHECKING:
    from mining.models.net import NetSpec

__all__ = ["MAX_CLOSURE", "MAX_MARKINGS", "PrecisionStopped", "etc_precision"]

#: Markings reachable through silent steps from one marking before the net is judged unbounded or too wide.
MAX_CLOSURE = 20_000
#: Distinct markings met while replaying the prefixes before the net is judged too large.
MAX_MARKINGS = 200_000
#: pm4py's ``MAX_REC_DEPTH_HIDTRANSENABL``: how deep the hidden-transition walk recurses.
_HIDDEN_DEPTH = 2
_CHECK_EVERY = 256

Marking = tuple[tuple[int, int], ...]  # (place index, tokens > 0), by place index


class PrecisionStopped(ConformanceError):
    """``should_stop()`` said to stop before precision was computed."""


class _Net:
    """The net compiled for replay: places numbered in name order, transitions with their arcs."""

    def __init__(self, net: NetSpec) -> None:
        names = sorted(net.places)
        self.place = {p: i for i, p in enumerate(names)}
        order = sorted(net.transitions, key=lambda t: t[0])
        self.tid = [t for t, _ in order]
        self.label = [lab for _, lab in order]
        index = {t: i for i, t in enumerate(self.tid)}
        self.pre: list[list[tuple[int, int]]] = [[] for _ in order]
        self.post: list[list[tuple[int, int]]] = [[] for _ in order]
        for src, dst, w in net.arcs:
            if src in self.place:
                self.pre[index[dst]].append((self.place[src], int(w)))
            else:
                self.post[index[src]].append((self.place[dst], int(w)))
        self.consumers: list[list[int]] = [[] for _ in names]
        for t, arcs in enumerate(self.pre):
            for p, _ in arcs:
                self.consumers[p].append(t)
        # Transitions without input places are always enabled.
        self.free = [t for t, arcs in enumerate(self.pre) if not arcs]
        # pm4py's trans_map: label -> the last transition of that label by name.
        self.by_label: dict[str, int] = {}
        for t, lab in enumerate(self.label):
            if lab is not None:
                self.by_label[lab] = t
        self.labelled: dict[str, list[int]] = {}
        for t, lab in enumerate(self.label):
            if lab is not None:
                self.labelled.setdefault(lab, []).append(t)
        counts: dict[int, int] = {}
        for p, n in net.initial:
            if n > 0:
                counts[self.place[p]] = counts.get(self.place[p], 0) + int(n)
        self.initial: Marking = tuple(sorted(counts.items()))
        self.paths = self._silent_paths()

    def _silent_paths(self) -> dict[int, dict[int, tuple[int, ...]]]:
        """A shortest chain of silent transitions from each place to each place it feeds."""
        out: dict[int, dict[int, tuple[int, ...]]] = {}
        for start in range(len(self.place)):
            found: dict[int, tuple[int, ...]] = {}
            queue: deque[tuple[int, tuple[int, ...]]] = deque([(start, ())])
            while queue:
                place, path = queue.popleft()
                for t in self.consumers[place]:
                    if self.label[t] is not None:
                        continue
                    for p2, _ in self.post[t]:
                        if p2 not in found:
                            found[p2] = (*path, t)
                            queue.append((p2, found[p2]))
            if found:
                out[start] = found
        return out

    def enabled(self, t: int, m: dict[int, int]) -> bool:
        return all(m.get(p, 0) >= w for p, w in self.pre[t])

    def fire(self, t: int, m: dict[int, int]) -> dict[int, int]:
        out = dict(m)
        for p, w in self.pre[t]:
            left = out[p] - w
            if left:
                out[p] = left
            else:
                del out[p]
        for p, w in self.post[t]:
            out[p] = out.get(p, 0) + w
        return out

    def enabled_all(self, m: dict[int, int]) -> list[int]:
        cands = {t for p in m for t in self.consumers[p]}
        cands.update(self.free)
        return sorted(t for t in cands if self.enabled(t, m))


def _freeze(m: dict[int, int]) -> Marking:
    return tuple(sorted(m.items()))


class _Replay:
    """pm4py's token-replay step and its eventually-enabled visible labels, memoised by marking."""

    def __init__(self, net: _Net, should_stop: Callable[[], bool] | None) -> None:
        self.net = net
        self.should_stop = should_stop
        self.steps: dict[tuple[Marking, str], Marking | None] = {}
        self.visible: dict[Marking, frozenset[str]] = {}
        self.work = 0

    def tick(self) -> None:
        self.work += 1
        if self.work % _CHECK_EVERY == 0:
            if self.should_stop is not None and self.should_stop():
                msg = "precision was stopped before it finished"
                raise PrecisionStopped(msg)
            if len(self.steps) + len(self.visible) > MAX_MARKINGS:
                msg = (
                    f"precision needs more than {MAX_MARKINGS:,} distinct markings of the net: "
                    "it is too large or unbounded to judge"
                )
                raise ConformanceError(msg)

    def step(self, marking: Marking, activity: str) -> Marking | None:
        """The marking after ``activity``; None when it cannot fire (the prefix does not fit)."""
        key = (marking, activity)
        if key in self.steps:
            return self.steps[key]
        self.tick()
        net = self.net
        m = dict(marking)
        chosen = [t for t in net.labelled[activity] if net.enabled(t, m)]
        t = chosen[0] if chosen else net.by_label[activity]
        if not net.enabled(t, m):
            m = self._hidden(t, m, 0, set())
        out = _freeze(net.fire(t, m)) if net.enabled(t, m) else None
        self.steps[key] = out
        return out

    def _missing(self, t: int, m: dict[int, int]) -> list[int]:
        return sorted(p for p, w in self.net.pre[t] if m.get(p, 0) < w)

    def _to_enable(self, m: dict[int, int], missing: Sequence[int]) -> list[tuple[int, ...]]:
        paths = self.net.paths
        found = [paths[p1][p2] for p1 in sorted(m) if p1 in paths for p2 in missing if p2 in paths[p1]]
        return sorted(found, key=len)

    def _walk(
        self, m: dict[int, int], visited: set[int], groups: list[tuple[int, ...]], t: int
    ) -> dict[int, int]:
        # pm4py's enable_hidden_transitions (not exhaustive), index for index.
        net = self.net
        index = [0] * len(groups)
        for z in range(10_000_000):
            changed = False
            g = z % len(groups)
            for _ in range(index[g], len(groups[g])):
                t3 = groups[g][index[g]]
                if t3 != t and net.enabled(t3, m) and t3 not in visited:
                    m = net.fire(t3, m)
                    visited.add(t3)
                    changed = True
                index[g] += 1
                if net.enabled(t, m):
                    break
            if net.enabled(t, m) or not changed:
                break
        return m

    def _hidden(self, t: int, m: dict[int, int], depth: int, visited: set[int]) -> dict[int, int]:
        # pm4py's apply_hidden_trans: fire silent transitions that lead tokens to t's input places.
        if depth >= _HIDDEN_DEPTH or t in visited:
            return m
        self.tick()
        net = self.net
        visited.add(t)
        at_start = m
        missing = self._missing(t, m)
        groups = self._to_enable(m, missing)
        if groups:
            m = self._walk(m, visited, groups, t)
            if not net.enabled(t, m):
                for group in self._to_enable(m, missing):
                    for t4 in group:
                        if t4 != t and t4 not in visited:
                            if not net.enabled(t4, m):
                                m = self._hidden(t4, m, depth + 1, visited)
                            if net.enabled(t4, m):
                                m = net.fire(t4, m)
                                visited.add(t4)
            if not net.enabled(t, m) and at_start != m:
                m = self._hidden(t, m, depth + 1, visited)
        return m

    def allowed(self, marking: Marking) -> frozenset[str]:
        """Visible labels enabled at ``marking`` or after silent steps from it, as pm4py finds them.

        pm4py's ``get_visible_transitions_eventually_enabled_by_marking``: a
        worklist of enabled transitions, each remembered with the marking it
        was last found enabled in (a later find overwrites an earlier one),
        and each (transition, marking) pair expanded once.
        """
        found = self.visible.get(marking)
        if found is not None:
            return found
        net = self.net
        start = dict(marking)
        work = net.enabled_all(start)
        at: dict[int, dict[int, int]] = dict.fromkeys(work, start)
        labels: set[str] = set()
        done: set[tuple[int, Marking]] = set()
        i = 0
        while i < len(work):
            t = work[i]
            i += 1
            m = at[t]
            key = (t, _freeze(m))
            if key in done:
                continue
            done.add(key)
            self.tick()
            lab = net.label[t]
            if lab is not None:
                labels.add(lab)
            elif net.enabled(t, m):
                nxt = net.fire(t, m)
                for t2 in net.enabled_all(nxt):
                    work.append(t2)
                    at[t2] = nxt
            if len(done) > MAX_CLOSURE:
                msg = (
                    f"the net's silent steps reach more than {MAX_CLOSURE:,} states from one marking: "
                    "it is unbounded or too wide for precision"
                )
                raise ConformanceError(msg)
        out = frozenset(labels)
        self.visible[marking] = out
        return out


def etc_precision(
    net: NetSpec,
    variants: Sequence[tuple[Sequence[str], int]],
    *,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """ETC precision of ``net`` against the variants ``(activities, cases)``; equals pm4py's.

    Raises :class:`PrecisionStopped` when ``should_stop()`` says so, and
    :class:`~mining.errors.ConformanceError` for a net too large or unbounded
    to judge (see the module docstring).
    """
    compiled = _Net(net)
    replay = _Replay(compiled, should_stop)
    # The prefix tree: node -> (cases through it, followers, children); node 0 is the empty prefix.
    children: list[dict[str, int]] = [{}]
    weight = [0]
    for acts, n in variants:
        node = 0
        weight[0] += n
        for a in acts:
            nxt = children[node].get(a)
            if nxt is None:
                nxt = len(children)
                children[node][a] = nxt
                children.append({})
                weight.append(0)
            weight[nxt] += n
            node = nxt
    # pm4py's empty prefix: what the initial marking allows against the start activities, per case.
    # Its other prefixes count only the cases that go on after them (a prefix that ends a case is no
    # prefix of it), so a node's weight there is the cases through its children.
    allowed = replay.allowed(compiled.initial)
    sum_at = weight[0] * len(allowed)
    sum_ee = weight[0] * len(allowed - children[0].keys())
    stack: list[tuple[int, Marking]] = []
    for a, child in children[0].items():
        state = _advance(replay, compiled, compiled.initial, a)
        if state is not None:
            stack.append((child, state))
    while stack:
        node, state = stack.pop()
        replay.tick()
        follow = children[node]
        if not follow:
            continue
        cases = sum(weight[c] for c in follow.values())
        enabled = replay.allowed(state)
        sum_at += len(enabled) * cases
        sum_ee += len(enabled - follow.keys()) * cases
        for a, child in follow.items():
            nxt = _advance(replay, compiled, state, a)
            if nxt is not None:
                stack.append((child, nxt))
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0


def _advance(replay: _Replay, net: _Net, state: Marking, activity: str) -> Marking | None:
    # pm4py skips an activity the net has no transition for: the marking stays.
    return replay.step(state, activity) if activity in net.by_label else state
