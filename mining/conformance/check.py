"""Checking a stored log against a model: the alignment / replay driver and the metrics.

The input is always the variant-compressed log: one trace per distinct
activity sequence of the checked cases, weighted by its number of cases.
Alignments are computed once per variant (r4pm, else pm4py in a process
pool; see :mod:`mining.pm4py_adapter`), most frequent variant first, so a
check stopped by the budget or by ``cancel()`` has covered as many cases
as it could.  It then says so: ``complete`` is False, ``fitness`` is None
and ``fitness_bounds`` is the interval the full figure must lie in, since
each unaligned trace costs between 0 and its worst case (all log moves
plus the shortest path through the model).

Metrics, each equal to pm4py's on the full log (``tests/test_conformance_pm4py.py``):

* ``fitness``: alignment-based log fitness (``pm4py.fitness_alignments``'s
  ``log_fitness``: ``1 - sum(deviating moves) / sum(len(trace) + moves of
  the shortest path through the model)`` over all cases, counted in whole
  moves, where pm4py also adds 1/10000 of a move per silent step) or, with
  ``method="token-replay"``, token-replay log fitness
  (``pm4py.fitness_token_based_replay``);
* ``precision``: ETC precision (``pm4py.precision_token_based_replay``),
  computed on the prefix tree of the variants
  (:mod:`~mining.conformance.precision`);
* ``fitting_cases_share``: cases whose alignment has no deviation (with an
  allowlist: no deviation left after it), or that replay without missing
  or remaining tokens.

Examples
--------
>>> model = load_model("order_to_cash.bpmn")  # doctest: +SKIP
>>> result = conform(store, log_id, model, budget=30)  # doctest: +SKIP
>>> result.fitness, result.engine, result.deviations[0].sentence  # doctest: +SKIP
(0.93, 'r4pm', "'Credit check' skipped in 18% of cases (412 of 2,300); ...")
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mining.conformance.allowlist import Allowlist, split_accepted
from mining.conformance.deviations import aggregate, trace_deviations
from mining.conformance.labels import LabelMapping, label_coverage, match_labels, require_matches
from mining.conformance.overlay import map_overlay
from mining.conformance.precision import PrecisionStopped, etc_precision
from mining.conformance.records import ConformanceResult, VariantCheck
from mining.errors import ConformanceError
from mining.models.boundedness import Growth, growth

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.models.net import NetSpec, ProcessModel
    from mining.store import Store

__all__ = ["ENGINES", "METHODS", "checked_variants", "conform"]

METHODS = ("alignments", "token-replay")
ENGINES = ("auto", "r4pm", "pm4py")

#: pm4py's cost of one log move or visible model move (``align_utils.STD_MODEL_LOG_MOVE_COST``).
_MOVE = 10_000


def checked_variants(
    store: Store, log_id: int, flt: Filter | None = None
) -> list[tuple[tuple[str, ...], int, tuple[int, ...]]]:
    """``(activities, cases, stored variant ids)`` of the kept cases, most cases first.

    A filter that removes activities merges the stored variants that become
    the same sequence (:func:`mining.analysis.variants.projected_variants`).
    """
    from mining.analysis.filters import case_selection
    from mining.analysis.variants import projected_variants

    if flt is not None and flt.projects_events:
        return projected_variants(store, log_id, flt)
    params: dict[str, Any] = {"log": log_id}
    if flt is None or flt.is_empty:
        sql = "SELECT variant_id, activities, n_cases FROM variants WHERE log_id = $log"
    else:
        sql = (
            "SELECT v.variant_id, v.activities, c.n FROM (SELECT variant_id, count(*) AS n FROM cases "
            f"WHERE log_id = $log AND case_no IN ({case_selection(store, log_id, flt, params)}) "
            "GROUP BY variant_id) AS c JOIN variants AS v ON v.log_id = $log AND v.variant_id = c.variant_id"
        )
    rows = store.query(sql, params).rows
    ranked = sorted(((tuple(acts), int(n), int(vid)) for vid, acts, n in rows), key=lambda r: (-r[1], r[0]))
    return [(acts, n, (vid,)) for acts, n, vid in ranked]


def conform(
    store: Store,
    log_id: int,
    model: ProcessModel,
    flt: Filter | None = None,
    *,
    method: str = "alignments",
    mapping: LabelMapping | None = None,
    allow: Allowlist | None = None,
    budget: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    engine: str = "auto",
    processes: int | None = None,
    precision: bool = True,
    force: bool = False,
) -> ConformanceResult:
    """Check the (filtered) log against ``model``; see the module docstring for what is measured.

    ``budget`` (seconds) bounds the whole check; ``progress(done, total)``
    is called as variants are aligned; ``cancel()`` returning True stops
    early.  ``engine`` forces ``r4pm`` or ``pm4py`` (``auto``: r4pm, with
    pm4py for what it cannot do); ``processes`` sizes pm4py's pool (default:
    the cores; 0 aligns in this process, bounded in time only).  ``precision=False`` skips ETC precision; it runs only if
    the budget is not spent by then, and stops when it is.
    """
    if method not in METHODS:
        msg = f"unknown method {method!r}; expected one of {', '.join(METHODS)}"
        raise ConformanceError(msg)
    if engine not in ENGINES:
        msg = f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}"
        raise ConformanceError(msg)
    if budget is not None and budget < 0:
        msg = f"the budget must be at least 0 seconds, got {budget}"
        raise ConformanceError(msg)
    started = time.monotonic()
    deadline = None if budget is None else started + budget
    rows = checked_variants(store, log_id, flt)
    if not rows:
        msg = "no cases to check" + (
            " (the filter keeps none)" if flt is not None and not flt.is_empty else ""
        )
        raise ConformanceError(msg)
    total = sum(n for _, n, _ in rows)
    weighted = [(acts, n) for acts, n, _ in rows]
    counts = _event_counts(weighted)
    activities = sorted(counts, key=lambda a: (-counts[a], a))
    labels = match_labels(model.tasks, activities, mapping)
    coverage = label_coverage(labels, counts)
    if not force:
        require_matches(labels, coverage)
    net = model.net.relabel(labels.relabelling())
    notes = list(model.notes)
    forced = not coverage.enough
    if forced:
        notes.insert(
            0,
            f"scored anyway although {coverage.matched_tasks:,} of {coverage.tasks:,} model tasks "
            f"match the log and they cover {_share_words(coverage.event_share)} of its events: "
            "the figures say little",
        )
    if labels.silent:
        notes.append("treated as silent steps: " + ", ".join(repr(s) for s in labels.silent))
    if not labels.matched:
        notes.append("no task of the model matches an activity of the log; see the suggested label matches")

    stop = _Stop(deadline, cancel)
    stopping = stop.now
    grows = growth(net, should_stop=stopping)
    if grows is not None:
        notes.append(f"the model is unbounded: {grows.describe()}")

    if method == "token-replay":
        checks, fitness_pair, fitting_pair, used = _token_replay(net, rows, total, deadline, stopping)
        notes.append(
            "token replay gives fitness and fitting cases; deviations per activity come from alignments"
        )
    else:
        checks, fitness_pair, fitting_pair, used, run_notes = _alignments(
            net, rows, total, allow, deadline, progress, stopping, engine, processes, grows
        )
        notes += run_notes
    every = all(c.aligned for c in checks)
    complete = every and fitness_pair[0] == fitness_pair[1]
    etc = None
    if precision and stopping():
        notes.append(f"precision was not computed: {stop.reason}")
    elif precision and grows is not None and all(label is None for _, label in grows.steps):
        notes.append(
            "precision was not computed: silent steps alone reach infinitely many markings of the model, "
            "so the tasks it allows after a prefix cannot be listed"
        )
    elif precision:
        try:
            etc = etc_precision(net, weighted, should_stop=stopping)
        except PrecisionStopped:
            notes.append(f"precision was not computed: {stop.reason}")
        except ConformanceError as exc:
            notes.append(f"precision was not computed: {exc}")
    aligned_cases = sum(c.cases for c in checks if c.aligned)
    done = "replayed" if method == "token-replay" else "aligned"
    if not every:
        notes.append(
            f"partial result: {sum(c.aligned for c in checks):,} of {len(checks):,} variants "
            f"({aligned_cases:,} of {total:,} cases) were {done} "
            + (f"before {stop.reason}" if stop.reason else "(the engines found no alignment for the rest)")
        )
    accepted: dict[tuple[str, str], int] = {}
    for c in checks:
        for kind, act, _ in c.accepted:
            accepted[(kind, act)] = accepted.get((kind, act), 0) + c.cases
    return ConformanceResult(
        log_id=log_id,
        filter=flt,
        model=model.name,
        method=method,
        engine=used,
        cases=total,
        complete=complete,
        fitness=fitness_pair[0] if complete else None,
        fitness_bounds=fitness_pair,
        precision=etc,
        fitting_cases_share=fitting_pair[0] if complete else None,
        fitting_cases_bounds=fitting_pair,
        aligned_variants_share=sum(c.aligned for c in checks) / len(checks),
        aligned_cases_share=aligned_cases / total,
        deviations=aggregate(store, log_id, flt, checks, total, frozenset(labels.model_only))
        if method == "alignments"
        else (),
        accepted=tuple((k, a, n) for (k, a), n in sorted(accepted.items(), key=lambda kv: (-kv[1], kv[0]))),
        variants=tuple(checks),
        labels=labels,
        overlay=map_overlay(net, weighted, should_stop=stopping),
        notes=tuple(notes),
        seconds=time.monotonic() - started,
        coverage=coverage,
        forced=forced,
    )


class _Stop:
    """Whether to stop (budget spent or cancel() said so), remembering why."""

    def __init__(self, deadline: float | None, cancel: Callable[[], bool] | None) -> None:
        self.deadline, self.cancel = deadline, cancel
        self.reason = ""

    def now(self) -> bool:
        if self.reason:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.reason = "the budget ran out"
        elif self.cancel is not None and self.cancel():
            self.reason = "the check was cancelled"
        return bool(self.reason)


def _event_counts(weighted: Sequence[tuple[Sequence[str], int]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for acts, n in weighted:
        for a in acts:
            counts[a] = counts.get(a, 0) + n
    return counts


def _share_words(share: float) -> str:
    # 0.003% of the events is not "0%": a log of ids has matched events, just very few.
    if share == 0 or share >= 0.01:
        return f"{share:.0%}"
    return f"{share:.1%}" if share >= 0.001 else "less than 0.1%"


def _token_replay(
    net: NetSpec,
    rows: Sequence[tuple[tuple[str, ...], int, tuple[int, ...]]],
    total: int,
    deadline: float | None,
    stopping: Callable[[], bool],
) -> tuple[list[VariantCheck], tuple[float, float], tuple[float, float], str]:
    from mining import pm4py_adapter

    replayed = pm4py_adapter.token_replay(
        pm4py_adapter.petri_net(net), [acts for acts, _, _ in rows], deadline=deadline, should_stop=stopping
    )
    m = c = r = p = 0
    checks = []
    fitting = 0
    for rank, ((acts, n, ids), (mi, co, re, pr, fits)) in enumerate(
        zip(rows, replayed, strict=False), start=1
    ):
        m, c, r, p = m + n * mi, c + n * co, r + n * re, p + n * pr
        fitting += n if fits else 0
        trace_fitness = 0.5 * (1 - mi / co if co else 1) + 0.5 * (1 - re / pr if pr else 1)
        checks.append(VariantCheck(rank, acts, n, ids, aligned=True, fitness=trace_fitness))
    left = sum(n for _, n, _ in rows[len(replayed) :])
    checks += [
        VariantCheck(rank, acts, n, ids, aligned=False)
        for rank, (acts, n, ids) in enumerate(rows[len(replayed) :], start=len(replayed) + 1)
    ]
    if left:
        # The cases not replayed may consume and produce any number of tokens, missing or
        # leaving all of them: the log's token-replay fitness may be anything.
        return checks, (0.0, 1.0), (fitting / total, (fitting + left) / total), "pm4py"
    # pm4py's log fitness (replay_fitness.token_replay.evaluate), weighted by cases.
    fitness = 0.5 * (1 - m / c) + 0.5 * (1 - r / p) if c > 0 and p > 0 else 0.0
    return checks, (fitness, fitness), (fitting / total, fitting / total), "pm4py"


def _alignments(
    net: NetSpec,
    rows: Sequence[tuple[tuple[str, ...], int, tuple[int, ...]]],
    total: int,
    allow: Allowlist | None,
    deadline: float | None,
    progress: Callable[[int, int], None] | None,
    stopping: Callable[[], bool],
    engine: str,
    processes: int | None,
    grows: Growth | None,
) -> tuple[list[VariantCheck], tuple[float, float], tuple[float, float], str, list[str]]:
    from mining import pm4py_adapter

    traces = [acts for acts, _, _ in rows]
    notes: list[str] = []
    done = 0

    def advance(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, len(traces))

    aligned: dict[int, pm4py_adapter.Aligned] = {}
    empty_cost: int | None = None
    used: list[str] = []
    todo = list(range(len(traces)))
    if engine in {"auto", "r4pm"}:
        try:
            run = pm4py_adapter.align_r4pm(
                net, traces, deadline=deadline, on_chunk=advance, should_stop=stopping
            )
        except ConformanceError as exc:
            if engine == "r4pm":
                raise
            if grows is not None:
                # pm4py would search the infinitely many markings for a way to the final one.
                msg = (
                    f"{exc}; the model is unbounded: {grows.describe()}, so no search of its markings "
                    "can end; correct the model (a place whose tokens are never taken, or an arc too many)"
                )
                raise ConformanceError(msg) from exc
            notes.append(f"{exc}; aligned with pm4py instead")
            done = 0  # pm4py starts over: progress counts from zero again
        else:
            used.append("r4pm")
            empty_cost, aligned = run.empty_cost, dict(run.aligned)
            todo = sorted(run.failed)
            if run.empty_cost is None:
                if engine == "r4pm":
                    msg = (
                        f"r4pm's search for the shortest way through the model exceeded "
                        f"{pm4py_adapter.EMPTY_TRACE_STATES:,} states (many branches in parallel)"
                    )
                    raise ConformanceError(msg)
                notes.append(
                    f"r4pm's search for the shortest way through the model exceeded "
                    f"{pm4py_adapter.EMPTY_TRACE_STATES:,} states (many branches in parallel); pm4py searched it"
                )
            if run.failed:
                notes.append(
                    f"r4pm could not align {len(run.failed):,} variant(s) "
                    f"({next(iter(run.failed.values()))}); "
                    + ("they were aligned with pm4py" if engine == "auto" else "they stay unaligned")
                )
            done = len(run.aligned)
            if engine == "r4pm":
                todo = []
    if (todo or empty_cost is None) and not stopping():
        run = pm4py_adapter.align_pm4py(
            net,
            [traces[i] for i in todo],
            processes=(os.cpu_count() or 1) if processes is None else processes,
            deadline=deadline,
            on_done=advance,
            should_stop=stopping,
            empty=empty_cost is None,
        )
        if "pm4py" not in used:
            used.append("pm4py")
        empty_cost = run.empty_cost if empty_cost is None else empty_cost
        aligned.update({todo[j]: res for j, res in run.aligned.items()})
        if run.failed:
            notes.append(
                f"pm4py found no alignment for {len(run.failed):,} variant(s) ({next(iter(run.failed.values()))})"
            )
    if not used:
        used = ["pm4py" if engine == "pm4py" else "r4pm"]
    if empty_cost is None:
        notes.append(
            "the shortest way through the model was not found"
            + (" before the check stopped" if stopping() else "")
            + ": fitness is given as bounds"
        )
    labels = set(net.labels)
    checks: list[VariantCheck] = []
    cost_sum = 0
    fitting = unaligned_cases = 0
    # Whole deviating moves: pm4py's raw costs add 1 per silent step (1/10000 of a move) on both
    # sides of its ratio, so a log that fits scores 0.99998 there and exactly 1 here.
    empty_moves = None if empty_cost is None else empty_cost // _MOVE
    for i, (acts, n, ids) in enumerate(rows):
        if i not in aligned:
            unaligned_cases += n
            checks.append(VariantCheck(i + 1, acts, n, ids, aligned=False))
            continue
        raw, moves = aligned[i]
        cost = raw // _MOVE
        cost_sum += n * cost
        kept, accepted = split_accepted(trace_deviations(moves, labels), allow)
        # pm4py's trace fitness, which counts whole moves too.
        worst = None if empty_moves is None else len(acts) + empty_moves
        fitness = None if worst is None else (1 - cost / worst if worst else 0.0)
        checks.append(
            VariantCheck(
                i + 1,
                acts,
                n,
                ids,
                aligned=True,
                cost=cost,
                fitness=fitness,
                deviations=kept,
                accepted=accepted,
            )
        )
        fitting += n if not kept else 0
    if empty_moves is not None:
        shortest: tuple[int, int] = (empty_moves, empty_moves)
    else:
        # Any alignment's model side is a way through the model: the shortest is no longer.
        runs = [sum(1 for kind, _ in aligned[i][1] if kind in {"sync", "model"}) for i in aligned]
        shortest = (0, min(runs)) if runs else (0, -1)
    fitness_pair = _fitness_bounds(rows, aligned, cost_sum, shortest)
    fitting_pair = (fitting / total, (fitting + unaligned_cases) / total)
    return checks, fitness_pair, fitting_pair, "+".join(used), notes


def _fitness_bounds(
    rows: Sequence[tuple[tuple[str, ...], int, tuple[int, ...]]],
    aligned: Mapping[int, Any],
    cost_sum: int,
    shortest: tuple[int, int],
) -> tuple[float, float]:
    """Log fitness ``1 - cost / worst`` over all cases, as an interval.

    Each unaligned case costs between 0 and its worst (all its events as log
    moves plus the shortest way through the model, in moves); the shortest
    way is known, or lies in ``shortest`` (its high end -1: unknown).
    """
    if shortest[1] < 0:
        return (0.0, 1.0)
    length = sum(n * len(acts) for acts, n, _ in rows)
    cases = sum(n for _, n, _ in rows)
    unaligned_length = sum(n * len(acts) for i, (acts, n, _) in enumerate(rows) if i not in aligned)
    unaligned_cases = sum(n for i, (_, n, _) in enumerate(rows) if i not in aligned)

    def fitness(extra: int, moves: int) -> float:
        worst = length + cases * moves
        return 1 - (cost_sum + extra) / worst if worst else 0.0

    lows = [fitness(unaligned_length + unaligned_cases * e, e) for e in shortest]
    highs = [fitness(0, e) for e in shortest]
    return (min(lows), max(highs))
