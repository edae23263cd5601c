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
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"

__all__ = [
    "Pm4pyModel",
    "bpmn_elements",
    "heuristics",
    "inductive",
    "petri_counts",
    "pnml_xml",
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


def inductive(variants: Sequence[Variant], *, noise: float = 0.0) -> Pm4pyModel:
    """Inductive miner on the variant counts: IM when ``noise == 0``, else IMf with that threshold."""
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
