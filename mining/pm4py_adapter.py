"""The one seam to pm4py: variant counts in, opaque models and plain values out.

Nothing else in ``mining`` imports pm4py.  pm4py never sees a dataframe from
us, so its XES column names are not needed anywhere: it gets variant counts.
pm4py is imported lazily inside each function, after
``PM4PY_SHOW_PROGRESS_BAR`` is set, so ``import mining.models`` stays cheap and
the CLI, the monitor and the app see the same (quiet) pm4py.

Discovery consumes a *variant-compressed log*: one ``(activities, n_cases)``
pair per distinct trace.  That is exactly what pm4py's own algorithms reduce
a log to before mining, so the result equals pm4py's on the full log:

* Inductive miner (IM, IMf): ``inductive_miner.apply`` projects a dataframe
  to a ``Counter`` of activity tuples (its ``UVCL`` type,
  ``pm4py.util.compression``), mines that with ``IMUVCL``/``IMFUVCL``, then
  folds and sorts the tree.  We build the ``Counter`` from the variants and
  run the same three steps; IMf's noise filter reads the counts, IM ignores
  them.
* Heuristics miner: ``classic.apply_heu_pandas`` reduces the dataframe to the
  directly-follows counts, the window-2 counts (a, c in a·b·c), the triples
  a·b·c, activity occurrences and start/end activity counts, then calls
  ``apply_heu_dfg``.  We compute the same six weighted counters from the
  variants (each occurrence in a variant counts ``n_cases`` times) and call
  ``apply_heu_dfg`` ourselves.

Conformance also runs on the variants, one trace per distinct sequence, and
weights each result by its number of cases (pm4py's checkers deduplicate
variants the same way before replaying, so the figures equal pm4py's on the
full log):

* alignments: r4pm (Rust4PM) first, in chunks of variants through its
  ``align_variants``; pm4py's A* alignments as the fallback, one variant per
  task in a process pool.  Both use pm4py's costs (10000 per log move and
  visible model move, 1 per silent move), so the optimal costs are pm4py's
  and log fitness is pm4py's ``1 - sum(cost) / sum(len(trace) * 10000 +
  cost of the empty trace)`` over all cases.  pm4py's A* ignores arc
  weights, so a net with weighted arcs needs r4pm;
* token replay: pm4py's replayer on one trace per variant; its missing,
  consumed, remaining and produced tokens are weighted by the cases;
* precision is not here: :mod:`mining.conformance.precision` computes
  pm4py's ETC precision itself, on the prefix tree of the variants.

Nets arrive as plain values (see :class:`mining.models.net.NetSpec`:
``places``, ``transitions`` as ``(id, label or None)``, ``arcs`` as
``(source, target, weight)``, ``initial`` and ``final`` markings).
"""

from __future__ import annotations

import contextlib
import multiprocessing.context
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"

__all__ = [
    "COST_MOVE",
    "COST_SILENT",
    "EMPTY_TRACE_STATES",
    "MIN_STATES",
    "PM4PY_WORKER_MEMORY",
    "Aligned",
    "AlignmentRun",
    "DiscoveryStopped",
    "NetLike",
    "Pm4pyModel",
    "Variant",
    "align_pm4py",
    "align_r4pm",
    "bpmn_elements",
    "directly_follows_uvcl",
    "heuristics",
    "inductive",
    "net_parts",
    "petri_counts",
    "petri_net",
    "pnml_xml",
    "r4pm_align_frame",
    "r4pm_frame",
    "r4pm_net",
    "r4pm_options",
    "token_replay",
    "tree_text",
]

Variant = tuple[tuple[str, ...], int]

# pm4py BPMN classes -> BPMN 2.0 element names, most specific first.
_BPMN_KINDS = (
    ("StartEvent", "startEvent"),
    ("EndEvent", "endEvent"),
    ("Task", "task"),
    ("ExclusiveGateway", "exclusiveGateway"),
    ("ParallelGateway", "parallelGateway"),
    ("InclusiveGateway", "inclusiveGateway"),
)


class Pm4pyModel:
    """An accepting Petri net (and the process tree it came from, for IM): opaque outside this module."""

    __slots__ = ("final_marking", "initial_marking", "net", "tree")

    def __init__(self, net: Any, initial_marking: Any, final_marking: Any, tree: Any = None) -> None:
        self.net = net
        self.initial_marking = initial_marking
        self.final_marking = final_marking
        self.tree = tree

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)


def _uvcl(variants: Iterable[Variant]) -> Counter[tuple[str, ...]]:
    log: Counter[tuple[str, ...]] = Counter()
    for activities, n in variants:
        log[tuple(activities)] += int(n)
    return log


class DiscoveryStopped(Exception):
    """The inductive miner was stopped at its deadline (raised by :func:`inductive`)."""


#: The deadline (``time.monotonic()``) of the inductive miner running in this thread, if any.
_MINING = threading.local()
#: One inductive miner at a time swaps pm4py's directly-follows counter for the linear one.
_MINING_LOCK = threading.Lock()


def directly_follows_uvcl(log: Counter[tuple[str, ...]]) -> Any:
    """pm4py's ``discover_dfg_uvcl``, the same graph in the same order, in time linear in the events.

    pm4py's own looks the variant up in the log for every event (``log[t]``
    inside the loop over ``t``'s events), hashing the whole tuple each time:
    quadratic in the trace length, minutes for one case of 100,000 events.
    The miner calls it for every sub-log it makes, so it is also where the
    deadline is checked.
    """
    from pm4py.objects.dfg.obj import DFG

    deadline = getattr(_MINING, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise DiscoveryStopped
    dfg = DFG()
    graph = dfg.graph
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for trace, n in log.items():
        for i in range(len(trace) - 1):
            graph[(trace[i], trace[i + 1])] += n
        if trace:
            starts[trace[0]] += n
            ends[trace[-1]] += n
    # pm4py adds the start and end activities alphabet by alphabet: keys in sorted order.
    for a in sorted(starts):
        dfg.start_activities[a] += starts[a]
    for a in sorted(ends):
        dfg.end_activities[a] += ends[a]
    return dfg


@contextlib.contextmanager
def _linear_dfg(deadline: float | None) -> Iterator[None]:
    """pm4py's miner with :func:`directly_follows_uvcl` and this deadline, only for the duration of one call."""
    from pm4py.util.compression import util as comut

    with _MINING_LOCK:
        original = comut.discover_dfg_uvcl
        comut.discover_dfg_uvcl = directly_follows_uvcl
        _MINING.deadline = deadline
        try:
            yield
        finally:
            comut.discover_dfg_uvcl = original
            _MINING.deadline = None


def inductive(
    variants: Sequence[Variant], *, noise: float = 0.0, deadline: float | None = None
) -> Pm4pyModel:
    """Inductive miner on the variant counts: IM when ``noise == 0``, else IMf with that threshold.

    ``deadline`` (a ``time.monotonic()`` value) stops the miner with
    :class:`DiscoveryStopped`; it is checked each time the miner splits the
    log, which it does at least once per level of the process tree.
    """
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.conversion.process_tree import converter as pt_converter
    from pm4py.objects.process_tree.utils.generic import fold, tree_sort

    # The same parameters pm4py.discover_process_tree_inductive passes.
    parameters = {"noise_threshold": noise, "multiprocessing": False, "disable_fallthroughs": False}
    # What inductive_miner.apply does once it has projected a log to its
    # variant Counter (its own ``type(obj) in [UVCL]`` shortcut never matches
    # a Counter, as UVCL is a typing alias).
    miner = IMFUVCL(parameters) if noise > 0 else IMUVCL(parameters)
    with _linear_dfg(deadline):
        tree = miner.apply(IMDataStructureUVCL(_uvcl(variants)), parameters)
    tree = fold(tree)
    tree_sort(tree)
    net, im, fm = pt_converter.apply(tree, variant=pt_converter.Variants.TO_PETRI_NET)
    return Pm4pyModel(net, im, fm, tree)


def heuristics(
    variants: Sequence[Variant],
    *,
    dependency_threshold: float = 0.5,
    and_threshold: float = 0.65,
    loop_two_threshold: float = 0.5,
    min_act_count: int = 1,
    min_dfg_occurrences: int = 1,
) -> Pm4pyModel:
    """Heuristics miner on the weighted counts pm4py derives from a full log."""
    from pm4py.algo.discovery.heuristics.variants import classic
    from pm4py.objects.conversion.heuristics_net import converter as hn_converter

    dfg: Counter[tuple[str, str]] = Counter()
    dfg_window_2: Counter[tuple[str, str]] = Counter()
    triples: Counter[tuple[str, str, str]] = Counter()
    occurrences: Counter[str] = Counter()
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for acts, n in _uvcl(variants).items():
        if not acts:
            continue
        starts[acts[0]] += n
        ends[acts[-1]] += n
        for i, a in enumerate(acts):
            occurrences[a] += n
            if i + 1 < len(acts):
                dfg[(a, acts[i + 1])] += n
            if i + 2 < len(acts):
                dfg_window_2[(a, acts[i + 2])] += n
                triples[(a, acts[i + 1], acts[i + 2])] += n
    p = classic.Parameters
    parameters = {
        p.DEPENDENCY_THRESH: dependency_threshold,
        p.AND_MEASURE_THRESH: and_threshold,
        p.LOOP_LENGTH_TWO_THRESH: loop_two_threshold,
        p.MIN_ACT_COUNT: min_act_count,
        p.MIN_DFG_OCCURRENCES: min_dfg_occurrences,
    }
    # pm4py lists activities by decreasing frequency (pandas value_counts).
    ordered = dict(sorted(occurrences.items(), key=lambda kv: (-kv[1], kv[0])))
    heu_net = classic.apply_heu_dfg(
        dict(dfg),
        activities=list(ordered),
        activities_occurrences=ordered,
        start_activities=dict(starts),
        end_activities=dict(ends),
        dfg_window_2=dict(dfg_window_2),
        freq_triples=dict(triples),
        parameters=parameters,
    )
    net, im, fm = hn_converter.apply(heu_net, parameters=parameters)
    return Pm4pyModel(net, im, fm)


def tree_text(model: Pm4pyModel) -> str | None:
    """The process tree in pm4py's notation (``->( 'a', X( 'b', 'c' ) )``), or None for a net."""
    return None if model.tree is None else str(model.tree)


def petri_counts(model: Pm4pyModel) -> tuple[int, int, int, int]:
    """(places, transitions, silent transitions, arcs) of the model's Petri net."""
    net = model.net
    silent = sum(1 for t in net.transitions if t.label is None)
    return len(net.places), len(net.transitions), silent, len(net.arcs)


def bpmn_elements(model: Pm4pyModel) -> tuple[list[tuple[int, str, str]], list[tuple[int, int]]]:
    """pm4py's BPMN conversion as plain values: nodes ``(key, kind, name)`` and flows ``(source, target)``.

    A process tree goes through pm4py's tree-to-BPMN conversion; a Petri net
    (heuristics) through its workflow-net-to-BPMN conversion.  ``kind`` is
    the BPMN 2.0 element name (``task``, ``exclusiveGateway``, ...).
    """
    from pm4py.objects.conversion.process_tree.variants import to_bpmn as tree_to_bpmn
    from pm4py.objects.conversion.wf_net.variants import to_bpmn as net_to_bpmn

    from mining.errors import ModelError

    if model.tree is not None:
        graph = tree_to_bpmn.apply(model.tree)
    else:
        graph = net_to_bpmn.apply(model.net, model.initial_marking, model.final_marking)
    keys: dict[Any, int] = {}
    nodes: list[tuple[int, str, str]] = []
    for node in graph.get_nodes():
        kind = next((k for cls, k in _BPMN_KINDS if cls in {c.__name__ for c in type(node).__mro__}), None)
        if kind is None:
            msg = f"pm4py produced a BPMN element this exporter does not write: {type(node).__name__}"
            raise ModelError(msg)
        keys[node] = len(keys)
        nodes.append((keys[node], kind, node.get_name() or ""))
    flows = [(keys[f.get_source()], keys[f.get_target()]) for f in graph.get_flows()]
    return nodes, flows


def pnml_xml(model: Pm4pyModel) -> str:
    """PNML 2009 grid of the net with its initial and final markings (pm4py's writer)."""
    from pm4py.objects.petri_net.exporter.variants import pnml

    data = pnml.export_petri_as_string(model.net, model.initial_marking, model.final_marking)
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


# ---------------------------------------------------------------------------
# conformance

#: pm4py's alignment costs (``align_utils.STD_MODEL_LOG_MOVE_COST``, ``STD_TAU_COST``).
COST_MOVE = 10_000
COST_SILENT = 1

#: One alignment: its cost in pm4py's units and its moves ``(kind, label)``, kind being
#: ``sync``, ``log``, ``model`` (a visible transition) or ``tau`` (a silent one, label None).
Aligned = tuple[int, tuple[tuple[str, str | None], ...]]


class NetLike(Protocol):
    places: tuple[str, ...]
    transitions: tuple[tuple[str, str | None], ...]
    arcs: tuple[tuple[str, str, int], ...]
    initial: tuple[tuple[str, int], ...]
    final: tuple[tuple[str, int], ...]


class AlignmentRun:
    """What an aligner did: the empty trace's cost, the traces it aligned, and the ones it could not.

    ``empty_cost`` is None when the aligner did not find the empty trace's
    alignment within its limits (r4pm's search of a highly concurrent net,
    or a deadline that passed first).
    """

    __slots__ = ("aligned", "empty_cost", "failed")

    def __init__(self, empty_cost: int | None, aligned: dict[int, Aligned], failed: dict[int, str]) -> None:
        self.empty_cost = empty_cost
        self.aligned = aligned
        self.failed = failed


def petri_net(spec: NetLike) -> Pm4pyModel:
    """A pm4py accepting Petri net from plain values; place and transition names are the ids."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    net = PetriNet("model")
    nodes: dict[str, Any] = {}
    for pid in spec.places:
        nodes[pid] = PetriNet.Place(pid)
        net.places.add(nodes[pid])
    for tid, label in spec.transitions:
        nodes[tid] = PetriNet.Transition(tid, label)
        net.transitions.add(nodes[tid])
    for src, dst, weight in spec.arcs:
        petri_utils.add_arc_from_to(nodes[src], nodes[dst], net, weight=weight)
    im = Marking({nodes[p]: n for p, n in spec.initial})
    fm = Marking({nodes[p]: n for p, n in spec.final})
    return Pm4pyModel(net, im, fm)


def net_parts(
    model: Pm4pyModel,
) -> tuple[
    list[str],
    list[tuple[str, str | None]],
    list[tuple[str, str, int]],
    list[tuple[str, int]],
    list[tuple[str, int]],
]:
    """A pm4py net as plain values (places, transitions, arcs, initial, final), keyed by unique ids."""
    places = {p: f"p{i}:{p.name}" for i, p in enumerate(sorted(model.net.places, key=lambda p: str(p.name)))}
    trans = {
        t: f"t{i}:{t.name}" for i, t in enumerate(sorted(model.net.transitions, key=lambda t: str(t.name)))
    }
    nodes = {**places, **trans}
    arcs = sorted((nodes[a.source], nodes[a.target], int(getattr(a, "weight", 1))) for a in model.net.arcs)
    return (
        list(places.values()),
        [(trans[t], t.label) for t in trans],
        arcs,
        [(places[p], int(n)) for p, n in model.initial_marking.items()],
        [(places[p], int(n)) for p, n in model.final_marking.items()],
    )


def _event_log(traces: Iterable[Sequence[str]]) -> Any:
    from pm4py.objects.log.obj import Event, EventLog, Trace

    return EventLog([Trace([Event({"concept:name": a}) for a in trace]) for trace in traces])


class _NoDiagnostics:
    """pm4py's ``align_utils`` for its token replay, without the markings' eventually enabled transitions.

    After each trace pm4py's replay lists the visible transitions enabled
    after any silent steps from the marking it ended in, a diagnostic this
    module never reads.  On a net whose silent steps reach very many
    markings (many optional branches in parallel) that walk takes for ever,
    and on an unbounded one it never ends; without it every step of the
    replay is bounded.  The fitness figures are unchanged.
    """

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    @staticmethod
    def get_visible_transitions_eventually_enabled_by_marking(net: Any, marking: Any) -> set[Any]:
        return set()


_REPLAY_LOCK = threading.Lock()


def token_replay(
    model: Pm4pyModel,
    traces: Sequence[Sequence[str]],
    *,
    chunk: int = 1024,
    chunk_seconds: float = 0.25,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[int, int, int, int, bool]]:
    """pm4py's token replay, one result per trace: (missing, consumed, remaining, produced, fits).

    The parameters are those of pm4py's ``fitness_token_based_replay``.  The
    traces are replayed in chunks sized, like :func:`align_r4pm`'s, to take
    about ``chunk_seconds``; when ``deadline`` (``time.monotonic()``) passes
    or ``should_stop()`` says so the replay stops, and the result covers the
    first traces only (it is shorter than ``traces``).
    """
    from pm4py.algo.conformance.tokenreplay.variants import token_replay as tr

    p = tr.Parameters
    parameters = {
        p.CONSIDER_REMAINING_IN_FITNESS: True,
        p.CLEANING_TOKEN_FLOOD: False,
        p.SHOW_PROGRESS_BAR: False,
    }
    out: list[tuple[int, int, int, int, bool]] = []
    lo, size = 0, 1
    while lo < len(traces):
        if (deadline is not None and time.monotonic() >= deadline) or (
            should_stop is not None and should_stop()
        ):
            break
        batch = traces[lo : lo + size]
        began = time.perf_counter()
        with _REPLAY_LOCK:
            real = tr.align_utils
            tr.align_utils = _NoDiagnostics(real)
            try:
                replayed = tr.apply(
                    _event_log(batch),
                    model.net,
                    model.initial_marking,
                    model.final_marking,
                    parameters=parameters,
                )
            finally:
                tr.align_utils = real
        out += [
            (
                int(r["missing_tokens"]),
                int(r["consumed_tokens"]),
                int(r["remaining_tokens"]),
                int(r["produced_tokens"]),
                bool(r["trace_is_fit"]),
            )
            for r in replayed
        ]
        per_trace = (time.perf_counter() - began) / len(batch)
        fits = int(chunk_seconds / per_trace) if per_trace > 0 else chunk
        lo, size = lo + len(batch), max(1, min(fits, size * 4, chunk))
    return out


def r4pm_net(spec: NetLike) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The net as r4pm reads it, and each of its transition ids' label (None for a silent step)."""
    import uuid

    # r4pm wants UUIDs as ids; numbering them keeps a run reproducible.
    ids = {
        name: str(uuid.UUID(int=k + 1))
        for k, name in enumerate([*spec.places, *(t for t, _ in spec.transitions)])
    }
    places = set(spec.places)
    labels = {ids[t]: lab for t, lab in spec.transitions}
    arcs = [
        {
            "from_to": {
                "type": "PlaceTransition" if src in places else "TransitionPlace",
                "nodes": [ids[src], ids[dst]],
            },
            "weight": int(w),
        }
        for src, dst, w in spec.arcs
    ]
    net = {
        "places": {ids[p]: {"id": ids[p]} for p in spec.places},
        "transitions": {ids[t]: {"id": ids[t], "label": lab} for t, lab in spec.transitions},
        "arcs": arcs,
        "initial_marking": {ids[p]: int(n) for p, n in spec.initial},
        "final_markings": [{ids[p]: int(n) for p, n in spec.final}],
    }
    return net, labels


def _r4pm_moves(
    raw: list[dict[str, Any]], trace: Sequence[str], labels: Mapping[str, str | None]
) -> tuple[tuple[str, str | None], ...]:
    moves: list[tuple[str, str | None]] = []
    for move in raw:
        ((kind, body),) = move.items()
        if kind == "SyncMove":
            moves.append(("sync", trace[body["trace_event_index"]]))
        elif kind == "LogMove":
            moves.append(("log", trace[body["trace_event_index"]]))
        else:
            label = labels[body["transition"]]
            moves.append(("model", label) if label is not None else ("tau", None))
    return tuple(moves)


def r4pm_options(max_states: int | None) -> dict[str, Any]:
    """r4pm's alignment options with pm4py's costs (see :data:`COST_MOVE`)."""
    cost_fn = {
        "log_move_cost": COST_MOVE,
        "model_move_cost": COST_MOVE,
        "silent_move_cost": COST_SILENT,
        "sync_move_cost": 0,
    }
    options: dict[str, Any] = {"cost_fn": cost_fn}
    if max_states:
        options["max_states"] = max_states
    return options


def r4pm_frame(traces: Sequence[Sequence[str]], indices: Sequence[int]) -> Any:
    """The traces at ``indices`` as the event log r4pm imports (case ``c<index>``, pm4py's column names)."""
    import polars as pl

    # Increasing timestamps keep each trace's order whatever r4pm sorts by.
    return pl.DataFrame(
        {
            "case:concept:name": [f"c{i}" for i in indices for _ in traces[i]],
            "concept:name": [a for i in indices for a in traces[i]],
            "time:timestamp": pl.Series(
                [k for i in indices for k in range(len(traces[i]))], dtype=pl.Int64
            ).cast(pl.Datetime("ms", "UTC")),
        }
    )


def r4pm_align_frame(net: dict[str, Any], frame: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
    """One r4pm call: every distinct trace of ``frame`` (:func:`r4pm_frame`) aligned against ``net``.

    The log and its projection live in r4pm's registry only for the call.
    r4pm reports every failure as a bare exception, which passes through.
    """
    import r4pm
    from r4pm import bindings

    log_id = proj_id = None
    try:
        log_id = r4pm.import_item_from_df("EventLog", frame)
        proj_id = bindings.log_to_activity_projection(log_id)
        return bindings.align_variants(net, proj_id, options)
    finally:
        for item in (proj_id, log_id):
            if item is not None:
                r4pm.remove_item(item)


#: The fewest search states r4pm gets for a trace, however little of the budget is left.
MIN_STATES = 20_000
#: States r4pm may search for the empty trace; a net that needs more (many branches in parallel,
#: where r4pm's search walks every interleaving) has its empty trace aligned by pm4py instead.
EMPTY_TRACE_STATES = 50_000
#: r4pm's search speed assumed until a chunk has measured it (states per second, on the slow side).
_R4PM_RATE = 20_000.0


def _r4pm_limit(error: object) -> bool:
    return "LimitReached" in str(error)


def align_r4pm(
    spec: NetLike,
    traces: Sequence[Sequence[str]],
    *,
    chunk: int = 1024,
    chunk_seconds: float = 0.25,
    max_states: int | None = 2_000_000,
    deadline: float | None = None,
    on_chunk: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> AlignmentRun:
    """Optimal alignments with r4pm, in chunks of up to ``chunk`` traces, in the order given.

    Chunks are sized from the speed seen so far to take about ``chunk_seconds``
    each: a stop request or a spent budget is acted on that soon, while an
    easy net is aligned in few calls (each call re-sends the net and builds
    a log, a fixed cost that dominates on small nets).

    Each trace's search is capped at ``max_states`` states and, with a
    ``deadline`` (``time.monotonic()``), at the states r4pm can search in a
    quarter of the time left at the speed it has shown (at least
    :data:`MIN_STATES`), so that one trace cannot take the budget; after a
    trace that hit its cap the chunks start again from one trace.  Memory
    follows the states (about 0.5 KB each).  The empty trace gets at most
    :data:`EMPTY_TRACE_STATES`; beyond that ``empty_cost`` is None.

    ``should_stop`` is asked before each chunk; ``on_chunk(n)`` is told how
    many traces a chunk finished.  A trace whose search exceeds its cap is
    reported in ``failed``.  Raises :class:`~mining.errors.ConformanceError`
    when r4pm is missing or rejects the net, so the caller can fall back to
    pm4py.
    """
    from mining.errors import ConformanceError

    try:
        import polars  # noqa: F401  (r4pm_frame builds the log with it)
        from r4pm import bindings
    except ImportError as exc:
        msg = f"r4pm is not available ({exc})"
        raise ConformanceError(msg) from exc
    net, labels = r4pm_net(spec)
    ceiling = max_states or None
    rate = _R4PM_RATE

    def cap() -> int | None:
        if deadline is None:
            return ceiling
        # A quarter of what the time left allows: one hard trace cannot take the whole budget.
        fits = max(MIN_STATES, int((deadline - time.monotonic()) * rate / 4))
        return fits if ceiling is None else min(ceiling, fits)

    empty_cap = min(c for c in (cap(), EMPTY_TRACE_STATES) if c is not None)
    try:
        empty = bindings.align_empty_trace(net, r4pm_options(empty_cap))
    except Exception as exc:  # r4pm reports every failure as a bare TypeError/ValueError
        if not _r4pm_limit(exc):
            msg = f"r4pm could not align against this net: {exc}"
            raise ConformanceError(msg) from exc
        empty = None
    aligned: dict[int, Aligned] = {}
    failed: dict[int, str] = {}
    lo, size = 0, 1
    while lo < len(traces):
        if should_stop is not None and should_stop():
            break
        batch = list(range(lo, min(lo + size, len(traces))))
        began = time.perf_counter()
        frame = r4pm_frame(traces, batch)
        results: list[dict[str, Any]] = []
        limit = cap()
        if frame.height:
            try:
                results = r4pm_align_frame(net, frame, r4pm_options(limit))
            except Exception as exc:
                msg = f"r4pm could not align against this net: {exc}"
                raise ConformanceError(msg) from exc
        by_trace = {tuple(r["activities"]): r["result"] for r in results}
        searched = hit = 0
        for i in batch:
            trace = tuple(traces[i])
            # A case has at least one event, so r4pm never sees an empty trace: align it here.
            result = by_trace.get(trace) if trace else ({"Ok": empty} if empty is not None else None)
            if result is None:
                failed[i] = "r4pm returned no alignment for this trace" if trace else "r4pm: too many states"
            elif "Ok" in result:
                aligned[i] = (int(result["Ok"]["cost"]), _r4pm_moves(result["Ok"]["moves"], trace, labels))
                searched += int(result["Ok"].get("states_visited", 0))
            else:
                failed[i] = f"r4pm: {result.get('Err')}"
                if _r4pm_limit(result.get("Err")):
                    searched += limit or 0
                    hit += 1
        if on_chunk is not None:
            on_chunk(len(batch))
        spent = time.perf_counter() - began
        if searched > 10_000 and spent > 0:
            rate = max(1_000.0, searched / spent)
        # Grow at most fourfold per call: the first traces (the most frequent variants) say
        # little about the tail, which is usually longer and harder.
        per_trace = spent / len(batch)
        fits = int(chunk_seconds / per_trace) if per_trace > 0 else chunk
        # After a trace that hit its cap, start small again: the next ones may be as hard.
        lo, size = lo + len(batch), 1 if hit else max(1, min(fits, size * 4, chunk))
    return AlignmentRun(None if empty is None else int(empty["cost"]), aligned, failed)


# -- pm4py alignments, in worker processes ----------------------------------


def _machine_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError):
        return 8 * 2**30


#: The memory each pm4py alignment worker may use for its searches (bytes of heap and private
#: maps, ``RLIMIT_DATA``, on top of what it holds with pm4py loaded): 2 GiB, or a quarter of
#: the machine's memory if that is less.  pm4py's A* keeps every state it opens; a search that
#: needs more fails with MemoryError in the worker, which reports the trace as not aligned.
PM4PY_WORKER_MEMORY = min(2 * 2**30, _machine_memory() // 4)

_WORKER_MODEL: Pm4pyModel | None = None
_OUT_OF_MEMORY = "memory"


def _data_size() -> int:
    """This process's data (heap and private maps, what ``RLIMIT_DATA`` counts), in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _worker_init(spec: tuple[Any, ...], memory: int | None) -> None:
    global _WORKER_MODEL
    os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"
    from pm4py.algo.conformance.alignments.petri_net import algorithm  # noqa: F401  (imported before the cap)

    _WORKER_MODEL = petri_net(_Spec(*spec))
    if memory:
        import resource

        # On top of what the worker holds with pm4py loaded: the cap is for the search.
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = _data_size() + memory
        resource.setrlimit(
            resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
        )


class _Spec:
    __slots__ = ("arcs", "final", "initial", "places", "transitions")

    def __init__(self, places: Any, transitions: Any, arcs: Any, initial: Any, final: Any) -> None:
        self.places, self.transitions, self.arcs = places, transitions, arcs
        self.initial, self.final = initial, final


def _spec_tuple(spec: NetLike) -> tuple[Any, ...]:
    return (
        tuple(spec.places),
        tuple(spec.transitions),
        tuple(spec.arcs),
        tuple(spec.initial),
        tuple(spec.final),
    )


def _pm4py_align_one(model: Pm4pyModel, trace: Sequence[str], max_seconds: float | None) -> Aligned | None:
    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments

    p = alignments.Parameters
    parameters: dict[Any, Any] = {p.ENABLE_BEST_WORST_COST: False, p.SHOW_PROGRESS_BAR: False}
    if max_seconds is not None:
        parameters[p.PARAM_MAX_ALIGN_TIME_TRACE] = max(max_seconds, 0.001)
    (log_trace,) = _event_log([trace])
    ali = alignments.apply_trace(
        log_trace, model.net, model.initial_marking, model.final_marking, parameters=parameters
    )
    if ali is None:
        return None
    moves: list[tuple[str, str | None]] = []
    for log_side, model_side in ali["alignment"]:
        if log_side == ">>":
            moves.append(("model", model_side) if model_side is not None else ("tau", None))
        elif model_side == ">>":
            moves.append(("log", log_side))
        else:
            moves.append(("sync", log_side))
    return int(ali["cost"]), tuple(moves)


def _worker_align(task: tuple[int, tuple[str, ...]]) -> tuple[int, Aligned | str | None]:
    index, trace = task
    assert _WORKER_MODEL is not None
    try:
        return index, _pm4py_align_one(_WORKER_MODEL, trace, None)
    except MemoryError:
        return index, _OUT_OF_MEMORY


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start workers without the caller's ``__main__``.

    A "spawn" child re-imports the parent's main script; one without an
    ``if __name__ == "__main__"`` guard would run again in every worker and
    start pools of its own, forever.  The workers need nothing from it (they
    run this module's functions), so while the pool starts its processes
    ``__main__`` is a bare module.  Fork is not an option: the parent may be
    a threaded server holding DuckDB's threads.
    """
    import sys
    import types

    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def _lost_trace_reason(exitcodes: list[int], memory: int | None, too_big: str) -> str:
    """Why traces held by workers that died were not aligned, from how the workers ended."""
    import signal

    killed = {-signal.SIGKILL, -signal.SIGTERM}
    # Under a cap, a worker that aborted or crashed (rather than being killed from outside)
    # met a failed allocation in native code: GLPK, for one, aborts when malloc says no.
    if memory and all(code < 0 and code not in killed for code in exitcodes):
        return too_big
    if any(code == -signal.SIGKILL for code in exitcodes):
        return "a pm4py worker was stopped by the system before it finished (out of memory?)"
    return "a pm4py worker stopped before it finished (out of memory?)"


class _QuietProcess(multiprocessing.context.SpawnProcess):
    def start(self) -> None:
        with _main_hidden():
            super().start()


class _QuietSpawn(multiprocessing.context.SpawnContext):
    """Spawn, hiding ``__main__`` from every worker a pool starts, replacements included.

    A pool replaces a worker that died from its own thread, long after the pool
    was made: by then a Streamlit script run may have put the page's code in
    ``__main__``, and the new worker would run the page.
    """

    Process = _QuietProcess


def _size_words(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def align_pm4py(
    spec: NetLike,
    traces: Sequence[Sequence[str]],
    *,
    processes: int = 1,
    deadline: float | None = None,
    on_done: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    empty: bool = True,
    memory: int | None = PM4PY_WORKER_MEMORY,
) -> AlignmentRun:
    """pm4py's optimal alignments (its default A* variant), one trace per task, in worker processes.

    The traces (and first, with ``empty``, the empty trace) go to a pool of
    ``processes`` fresh ("spawn") processes, each building the net once and
    capped at ``memory`` bytes; the pool is terminated as soon as
    ``deadline`` (a ``time.monotonic()`` value) passes or ``should_stop()``
    says so, and the traces not finished by then are simply absent from the
    result (and ``empty_cost`` is None if the empty trace was not aligned).
    A trace whose search needs more memory is reported in ``failed``.
    ``processes=0`` aligns in this process instead, bounded in time only
    (by pm4py's own per-trace limit), for callers that know the net is
    small.  Raises :class:`~mining.errors.ConformanceError` when the model
    has no way from its initial to its final marking.
    """
    import multiprocessing

    from mining.errors import ConformanceError

    aligned: dict[int, Aligned] = {}
    failed: dict[int, str] = {}
    empty_cost: int | None = None
    tasks = ([(-1, ())] if empty else []) + [(i, tuple(t)) for i, t in enumerate(traces)]
    if not tasks:
        return AlignmentRun(None, aligned, failed)

    def remaining() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def stop() -> bool:
        left = remaining()
        return (left is not None and left <= 0) or (should_stop is not None and should_stop())

    if stop():
        return AlignmentRun(None, aligned, failed)
    if processes <= 0:
        model = petri_net(spec)
        for index, trace in tasks:
            if stop():
                break
            result = _pm4py_align_one(model, trace, remaining())
            if result is None and stop():
                break
            if index < 0:
                if result is None:
                    msg = "pm4py found no way through the model from its initial to its final marking"
                    raise ConformanceError(msg)
                empty_cost = result[0]
            elif result is None:
                failed[index] = "pm4py found no alignment"
            else:
                aligned[index] = result
                if on_done is not None:
                    on_done(1)
        return AlignmentRun(empty_cost, aligned, failed)
    pool = _QuietSpawn().Pool(
        max(1, min(processes, len(tasks))), initializer=_worker_init, initargs=(_spec_tuple(spec), memory)
    )
    # A worker that dies (killed, or aborted by native code such as GLPK when its allocator
    # hits the cap, where no MemoryError can be raised) takes its trace with it, and the pool
    # would wait for that trace for ever.  Each task is handed out alone, so every death loses
    # exactly one: once the finished and the dead add up to the tasks, the rest were lost.
    workers: dict[int, Any] = {p.pid: p for p in pool._pool}
    too_big = f"pm4py needed more than {_size_words(memory or 0)} of memory"
    try:
        pending = pool.imap_unordered(_worker_align, tasks, chunksize=1)
        done = 0
        while done < len(tasks) and not stop():
            left = remaining()
            # A replacement takes seconds to start, far longer than a turn of this loop, so
            # no worker is born and dies between two looks.
            workers.update({p.pid: p for p in pool._pool})
            try:
                # Wake up now and then to honour should_stop while a long trace runs.
                index, result = pending.next(timeout=0.5 if left is None else max(0.0, min(left, 0.5)))
            except multiprocessing.TimeoutError:
                dead = [p.exitcode for p in workers.values() if p.exitcode is not None]
                if dead and done + len(dead) >= len(tasks):
                    lost = _lost_trace_reason(dead, memory, too_big)
                    failed.update(
                        {i: lost for i, _ in tasks if i >= 0 and i not in aligned and i not in failed}
                    )
                    break
                continue
            done += 1
            if index < 0:
                if result is None:
                    msg = "pm4py found no way through the model from its initial to its final marking"
                    raise ConformanceError(msg)
                if isinstance(result, tuple):
                    empty_cost = result[0]
                continue
            if result is None:
                failed[index] = "pm4py found no alignment"
            elif isinstance(result, str):
                failed[index] = too_big
            else:
                aligned[index] = result
            if on_done is not None:
                on_done(1)
    finally:
        pool.terminate()
        pool.join()
    return AlignmentRun(empty_cost, aligned, failed)
