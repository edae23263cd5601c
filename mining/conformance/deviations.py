"""Deviations found by alignments: per trace, then per activity over the checked cases.

From each variant's optimal alignment (see :mod:`mining.conformance.check`)
every activity gets up to one entry per kind:

* ``skipped``: the model required it and the case did not do it (a model
  move on a visible transition);
* ``inserted``: the case did it where the model does not allow it (a log
  move);
* ``out_of_order``: the same trace has it both as a log move and as a model
  move, i.e. it was done, but at another point than the model's (each such
  pair counts once, and not as skipped or inserted);
* ``not_in_model``: a log move of an activity the model has no task for.

Counts are cases (a variant counts with all its cases).  The duration impact
compares the median case duration (``cases.duration_s``) of the checked
cases with the deviation against the aligned checked cases without it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from mining.conformance.records import KINDS, Deviation, VariantCheck
from mining.conformance.sentences import sentence
from mining.store import numpy_column

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.store import Store

__all__ = ["DURATIONS_SQL", "aggregate", "trace_deviations"]

#: Each checked case's stored variant and duration: fetched once, so every deviation's two
#: medians are array work instead of one scan of ``cases`` per deviation.
DURATIONS_SQL = "SELECT variant_id, duration_s FROM cases WHERE log_id = $log {selection}"


def trace_deviations(
    moves: Sequence[tuple[str, str | None]], model_labels: set[str]
) -> Counter[tuple[str, str]]:
    """``(kind, activity) -> count`` in one alignment's moves (see the module docstring)."""
    logs = Counter(a for k, a in moves if k == "log" and a is not None)
    models = Counter(a for k, a in moves if k == "model" and a is not None)
    out: Counter[tuple[str, str]] = Counter()
    for act in sorted(set(logs) | set(models)):
        moved = min(logs[act], models[act])
        if moved:
            out[("out_of_order", act)] = moved
        if logs[act] > moved:
            out[("inserted" if act in model_labels else "not_in_model", act)] = logs[act] - moved
        if models[act] > moved:
            out[("skipped", act)] = models[act] - moved
    return out


def aggregate(
    store: Store,
    log_id: int,
    flt: Filter | None,
    variants: Sequence[VariantCheck],
    total_cases: int,
    unmatched: Collection[str] = (),
) -> tuple[Deviation, ...]:
    """Per (kind, activity) over the aligned variants: cases, share, medians and the sentence; most cases first.

    ``unmatched``: the model tasks that match no log activity, worded as such when skipped.
    """
    import numpy as np

    from mining.analysis.filters import case_selection

    groups: dict[tuple[str, str], list[tuple[VariantCheck, int]]] = {}
    for v in variants:
        for kind, act, n in v.deviations:
            groups.setdefault((kind, act), []).append((v, n))
    if not groups:
        return ()
    aligned_ids = {vid for v in variants if v.aligned for vid in v.stored_variant_ids}
    params: dict[str, Any] = {"log": log_id}
    selection = ""
    if flt is not None and not flt.is_empty:
        selection = f"AND case_no IN ({case_selection(store, log_id, flt, params)})"
    table = store.arrow(DURATIONS_SQL.format(selection=selection), params)
    # In duration order (ties in any order: equal values), a group's median is its middle member.
    by_duration = np.argsort(numpy_column(table.column("duration_s")))
    duration = numpy_column(table.column("duration_s"))[by_duration]
    case_variant = numpy_column(table.column("variant_id"))[by_duration]
    # Each stored variant's cases as positions in duration order (ascending): one sort, then slices,
    # so a deviation costs its own cases, not all of them.
    grouped = np.argsort(case_variant, kind="stable")
    ids, starts, counts = np.unique(case_variant[grouped], return_index=True, return_counts=True)
    slices = {int(v): grouped[a : a + n] for v, a, n in zip(ids, starts, counts, strict=True)}
    member = np.isin(case_variant, np.fromiter(aligned_ids, dtype=np.int64, count=len(aligned_ids)))
    aligned_at = np.flatnonzero(member)  # the aligned cases, ascending

    def middle(values: Any) -> float | None:
        # The mean of the two middle values for an even count, as DuckDB's median.
        m = len(values)
        return None if not m else float((values[(m - 1) // 2] + values[m // 2]) / 2)

    def median_without(inside: Any) -> float | None:
        # The aligned cases minus ``inside`` (a sorted subset of them), without building the rest:
        # the k-th of the rest is aligned_at[k + s], s = how many of ``inside`` come before it.
        rest = len(aligned_at) - len(inside)
        if rest <= 0:
            return None
        at = np.searchsorted(aligned_at, inside) - np.arange(len(inside))

        def kth(k: int) -> float:
            return float(duration[aligned_at[k + int(np.searchsorted(at, k, side="right"))]])

        return (kth((rest - 1) // 2) + kth(rest // 2)) / 2

    out = []
    for (kind, act), members in groups.items():
        parts = [slices[vid] for v, _ in members for vid in v.stored_variant_ids if vid in slices]
        with_at = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        med_with = middle(duration[with_at])
        med_without = median_without(with_at[member[with_at]])
        cases = sum(v.cases for v, _ in members)
        out.append(
            Deviation(
                kind=kind,
                activity=act,
                cases=cases,
                share=cases / total_cases,
                occurrences=sum(v.cases * n for v, n in members),
                median_duration_with_s=med_with,
                median_duration_without_s=med_without,
                sentence=sentence(
                    kind, act, cases, total_cases, med_with, med_without, unmatched=act in unmatched
                ),
                variants=tuple(sorted(v.rank for v, _ in members)),
            )
        )
    order = {k: i for i, k in enumerate(KINDS)}
    return tuple(sorted(out, key=lambda d: (-d.cases, order[d.kind], d.activity)))
