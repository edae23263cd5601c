"""Process discovery on the stored variants: inductive miner (IM/IMf) and heuristics miner.

Discovery never reads events when it can help it: without a filter the
input is the ``variants`` table (one row per distinct trace, with its number
of cases), so its cost grows with the number of variants, not events.  With
a case filter the kept cases are counted per stored variant; only a filter
that removes activities recomputes traces from the events (ordered by
``ts, row_no``, as at ingest).  :mod:`mining.pm4py_adapter` turns the variant
counts into what pm4py's miners consume; the result equals pm4py run on the
full log (see that module, and ``tests/test_discover.py``).

Examples
--------
>>> model = discover(store, log_id, algorithm="inductive", noise=0.2)  # doctest: +SKIP
>>> model.transitions, model.variants, model.cases  # doctest: +SKIP
>>> write_model(model, "model.bpmn")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.durations import duration_words
from mining.errors import ModelError, Option, Phrase, phrase
from mining.models.net import NetSpec, ProcessModel

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.store import Store

__all__ = [
    "ALGORITHMS",
    "MAX_ACTIVITIES",
    "DiscoveredModel",
    "Variant",
    "discover",
    "discover_variants",
    "from_discovered",
    "to_bpmn_xml",
    "to_pnml_xml",
    "trace_variants",
    "write_model",
]

ALGORITHMS = ("inductive", "heuristics")
#: Distinct activities a log may have to be mined: a model with more cannot be read, and both
#: miners' work grows with the square of the activities (the directly-follows graph's cuts,
#: the heuristics miner's dependency matrix).
MAX_ACTIVITIES = 2_000

#: One distinct trace and the number of cases that follow it.
Variant = tuple[tuple[str, ...], int]


@dataclass(frozen=True)
class DiscoveredModel:
    """A discovered accepting Petri net and what it was discovered from.

    ``parameters`` holds the miner's settings as ``(name, value)`` pairs;
    ``tree`` is the process tree in pm4py's notation (inductive miner only).
    The pm4py objects are passed in as ``_model`` and kept in a private
    attribute that is not a dataclass field, so ``dataclasses.fields``,
    ``asdict`` and JSON output see only plain values; they reach the outside
    only through :func:`to_bpmn_xml` / :func:`to_pnml_xml`.
    """

    algorithm: str
    parameters: tuple[tuple[str, float | int], ...]
    variants: int
    cases: int
    places: int
    transitions: int
    silent_transitions: int
    arcs: int
    tree: str | None = None
    _model: InitVar[Any] = None

    def __post_init__(self, _model: Any) -> None:
        object.__setattr__(self, "_model", _model)

    @property
    def noise(self) -> float:
        return float(dict(self.parameters).get("noise", 0.0))

    @property
    def visible_transitions(self) -> int:
        return self.transitions - self.silent_transitions


# ---------------------------------------------------------------------------
# input


def trace_variants(store: Store, log_id: int, flt: Filter | None = None) -> list[Variant]:
    """The log's distinct traces with their case counts, most frequent first.

    Without a filter this reads the ``variants`` table.  A filter that only
    selects cases counts the kept cases per stored variant; a filter that
    removes activities rebuilds each kept case's trace from its remaining
    events, ordered by ``ts, row_no`` (cases left with no events drop out).
    """
    from mining.analysis.filters import case_selection, events_relation

    if flt is None or flt.is_empty:
        rows = store.query(
            "SELECT activities, n_cases FROM variants WHERE log_id = ? ORDER BY variant_id", [log_id]
        ).rows
    elif not flt.projects_events:
        params: dict[str, Any] = {}
        selection = case_selection(store, log_id, flt, params)
        rows = store.query(
            "SELECT v.activities, count(*) AS n FROM cases c JOIN variants v "
            "ON v.log_id = c.log_id AND v.variant_id = c.variant_id "
            f"WHERE c.log_id = $f_log AND c.case_no IN ({selection}) "
            "GROUP BY v.variant_id, v.activities ORDER BY n DESC, v.variant_id",
            params,
        ).rows
    else:
        rel = events_relation(store, log_id, flt)
        rows = store.query(
            "SELECT trace, count(*) AS n FROM ("
            f"SELECT case_no, list(activity ORDER BY ts, row_no) AS trace FROM ({rel.sql}) GROUP BY case_no"
            ") GROUP BY trace ORDER BY n DESC, trace",
            rel.params,
        ).rows
    return [(tuple(acts), int(n)) for acts, n in rows]


# ---------------------------------------------------------------------------
# discovery


def discover(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    algorithm: str = "inductive",
    noise: float = 0.0,
    dependency_threshold: float = 0.5,
    and_threshold: float = 0.65,
    loop_two_threshold: float = 0.5,
    min_act_count: int = 1,
    min_dfg_occurrences: int = 1,
    budget: float | None = None,
) -> DiscoveredModel:
    """Discover a Petri net from a stored log (optionally filtered).

    ``algorithm="inductive"`` runs IM, or IMf when ``noise > 0`` (pm4py's
    ``noise_threshold``).  ``algorithm="heuristics"`` runs the heuristics
    miner with pm4py's thresholds; ``noise`` does not apply to it.
    ``budget`` (seconds) bounds the inductive miner; see :func:`discover_variants`.
    """
    variants = trace_variants(store, log_id, flt)
    if not variants:
        msg = "no cases to discover a model from" + (
            " (the filter keeps none)" if flt and not flt.is_empty else ""
        )
        raise ModelError(msg, hint="loosen the filter" if flt and not flt.is_empty else None)
    return discover_variants(
        variants,
        algorithm=algorithm,
        noise=noise,
        dependency_threshold=dependency_threshold,
        and_threshold=and_threshold,
        loop_two_threshold=loop_two_threshold,
        min_act_count=min_act_count,
        min_dfg_occurrences=min_dfg_occurrences,
        budget=budget,
    )


def discover_variants(
    variants: list[Variant],
    *,
    algorithm: str = "inductive",
    noise: float = 0.0,
    dependency_threshold: float = 0.5,
    and_threshold: float = 0.65,
    loop_two_threshold: float = 0.5,
    min_act_count: int = 1,
    min_dfg_occurrences: int = 1,
    budget: float | None = None,
) -> DiscoveredModel:
    """:func:`discover` on variant counts you already have: ``[(activities, n_cases), ...]``.

    Work is bounded: a log with more than :data:`MAX_ACTIVITIES` distinct
    activities is refused before any mining, and ``budget`` (seconds) stops
    the inductive miner with :class:`~mining.errors.ModelError` when it runs
    out (the miner's time grows linearly with the events of each variant and
    with the square of the activities).  The heuristics miner counts the
    variants' events once and needs no budget.
    """
    from mining import pm4py_adapter

    started = time.monotonic()
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        msg = f"the budget must be at least 0 seconds, got {budget!r}"
        raise ModelError(msg)

    if algorithm not in ALGORITHMS:
        msg = f"unknown discovery algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}"
        raise ModelError(msg)
    if not (isinstance(noise, int | float) and math.isfinite(noise) and 0.0 <= noise <= 1.0):
        msg = f"noise must be between 0 and 1, got {noise!r}"
        raise ModelError(msg)
    variants = [(tuple(acts), int(n)) for acts, n in variants if acts and n > 0]
    if not variants:
        msg = "no non-empty traces to discover a model from"
        raise ModelError(msg)
    _require_few_activities(variants)
    params: tuple[tuple[str, float | int], ...]
    if algorithm == "inductive":
        try:
            model = pm4py_adapter.inductive(
                variants, noise=float(noise), deadline=None if budget is None else started + budget
            )
        except pm4py_adapter.DiscoveryStopped:
            events = sum(len(acts) * n for acts, n in variants)
            msg = (
                f"discovery stopped when its budget of {duration_words(budget or 0)} ran out "
                f"({len(variants):,} variants, {events:,} events); nothing was mined"
            )
            hint = phrase(
                "mine the most frequent variants with ",
                Option("top_variants", "K"),
                ", or allow more time with ",
                Option("budget", "SECONDS"),
            )
            raise ModelError(msg, hint=hint) from None
        params = (("noise", float(noise)),)
    else:
        if noise:
            msg = "noise applies to the inductive miner; the heuristics miner uses its thresholds"
            raise ModelError(
                msg, hint=Phrase("use {} for the heuristics miner", (Option("dependency_threshold"),))
            )
        for name, value in (
            ("dependency_threshold", dependency_threshold),
            ("and_threshold", and_threshold),
            ("loop_two_threshold", loop_two_threshold),
        ):
            if not -1.0 <= value <= 1.0:
                msg = f"{name} must be between -1 and 1, got {value!r}"
                raise ModelError(msg)
        model = pm4py_adapter.heuristics(
            variants,
            dependency_threshold=dependency_threshold,
            and_threshold=and_threshold,
            loop_two_threshold=loop_two_threshold,
            min_act_count=min_act_count,
            min_dfg_occurrences=min_dfg_occurrences,
        )
        params = (
            ("dependency_threshold", float(dependency_threshold)),
            ("and_threshold", float(and_threshold)),
            ("loop_two_threshold", float(loop_two_threshold)),
            ("min_act_count", int(min_act_count)),
            ("min_dfg_occurrences", int(min_dfg_occurrences)),
        )
    places, transitions, silent, arcs = pm4py_adapter.petri_counts(model)
    return DiscoveredModel(
        algorithm=algorithm,
        parameters=params,
        variants=len(variants),
        cases=sum(n for _, n in variants),
        places=places,
        transitions=transitions,
        silent_transitions=silent,
        arcs=arcs,
        tree=pm4py_adapter.tree_text(model),
        _model=model,
    )


def _require_few_activities(variants: list[Variant]) -> None:
    seen: set[str] = set()
    for acts, _ in variants:
        seen.update(acts)
        if len(seen) > MAX_ACTIVITIES:
            break
    if len(seen) <= MAX_ACTIVITIES:
        return
    total = len({a for acts, _ in variants for a in acts})
    msg = (
        f"the log has {total:,} distinct activities; a model is mined from at most {MAX_ACTIVITIES:,} "
        "(more cannot be drawn or read, and the miners' work grows with their square)"
    )
    hint = phrase(
        "check that the activity column holds the names of steps, not ids or free text; ingest again "
        "naming the right one with ",
        Option("activity", "COLUMN"),
    )
    raise ModelError(msg, hint=hint)


# ---------------------------------------------------------------------------
# export


def to_bpmn_xml(model: DiscoveredModel, *, name: str = "") -> str:
    """BPMN 2.0 XML with diagram layout (see :mod:`mining.models.bpmn`)."""
    from mining import pm4py_adapter
    from mining.models.bpmn import BpmnGraph, FlowNode, to_xml

    nodes, flows = pm4py_adapter.bpmn_elements(_handle(model))
    graph = BpmnGraph(tuple(FlowNode(k, kind, label) for k, kind, label in nodes), tuple(flows))
    return to_xml(graph, name=name, exporter_version=_version())


def to_pnml_xml(model: DiscoveredModel) -> str:
    """PNML with the initial and final markings (pm4py's writer; reads back with ``pm4py.read_pnml``)."""
    from mining import pm4py_adapter

    return pm4py_adapter.pnml_xml(_handle(model))


def write_model(model: DiscoveredModel, path: str | Path) -> Path:
    """Write ``.bpmn`` or ``.pnml`` by the file's suffix; returns the path written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bpmn":
        text = to_bpmn_xml(model, name=path.stem)
    elif suffix == ".pnml":
        text = to_pnml_xml(model)
    else:
        msg = f"cannot write a model to {path.name!r}: expected a .bpmn or .pnml file"
        raise ModelError(msg)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise ModelError(msg) from exc
    return path


def from_discovered(model: DiscoveredModel, name: str = "discovered model") -> ProcessModel:
    """A discovered model as a model to check against (:func:`mining.conformance.conform`)."""
    from mining import pm4py_adapter

    places, transitions, arcs, initial, final = pm4py_adapter.net_parts(_handle(model))
    net = NetSpec(tuple(places), tuple(transitions), tuple(arcs), tuple(initial), tuple(final))
    return ProcessModel(name, "discovered", net)


def _handle(model: DiscoveredModel) -> Any:
    if model._model is None:
        msg = "this model record carries no net (it was rebuilt from its summary); discover it again"
        raise ModelError(msg)
    return model._model


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mining")
    except PackageNotFoundError:
        return ""
