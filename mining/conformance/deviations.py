"""Deviations found by alignments, in words a process owner can act on.

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

**Allowlist.**  Accepted deviations are written ``kind:Activity``, one per
line in a text file or as YAML lists::

    skip: [Send reminder]        # or lines "skip:Send reminder"
    insert: [Call customer]      # also covers activities not in the model
    swap: [Approve]              # Approve done out of order

They leave the deviation figures, and a case whose only deviations are
accepted counts as fitting; the result lists what was accepted.

**Map overlay.**  The model's directly-follows relation is computed from
its reachability graph: ``b`` may directly follow ``a`` when some reachable
marking reached by firing ``a`` enables ``b`` after silent transitions only.
Every directly-follows pair of the log outside that relation (and every
activity the model lacks) is listed with its counts.  Nets with more than
:data:`MAX_STATES` reachable markings (or an unbounded place) get no edge
overlay, which the record says.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import ConformanceError

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.conformance.check import ConformanceResult
    from mining.conformance.models import NetSpec
    from mining.store import Store

__all__ = [
    "KINDS",
    "MAX_STATES",
    "Allowlist",
    "DeviatingCase",
    "Deviation",
    "MapOverlay",
    "OverlayEdge",
    "VariantCheck",
    "aggregate",
    "deviating_cases",
    "export_cases",
    "format_duration",
    "map_overlay",
    "model_follows",
    "sentence",
    "split_accepted",
    "trace_deviations",
]

KINDS = ("skipped", "inserted", "out_of_order", "not_in_model")

#: Allowlist prefix -> the kinds it accepts.
_PREFIXES = {"skip": ("skipped",), "insert": ("inserted", "not_in_model"), "swap": ("out_of_order",)}

#: Reachable markings explored for the map overlay before giving up.
MAX_STATES = 20_000
_MAX_TOKENS = 255


@dataclass(frozen=True)
class Deviation:
    """One kind of deviation on one activity, over the checked cases."""

    kind: str
    activity: str
    cases: int
    share: float
    occurrences: int
    median_duration_with_s: float | None
    median_duration_without_s: float | None
    sentence: str
    variants: tuple[int, ...] = ()  # ranks of the checked variants that have it


@dataclass(frozen=True)
class Allowlist:
    """Accepted deviations as ``(kind, activity)``; see the module docstring for the file formats."""

    entries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str], *, source: str = "allowlist") -> Allowlist:
        """From ``"skip:Approve"``-style strings."""
        entries = []
        for n, item in enumerate(items, start=1):
            prefix, sep, activity = item.partition(":")
            if not sep or prefix.strip().lower() not in _PREFIXES or not activity.strip():
                msg = (
                    f"{source}, line {n}: {item!r}; expected 'skip:Activity', 'insert:Activity' "
                    "or 'swap:Activity'"
                )
                raise ConformanceError(msg)
            entries.append((prefix.strip().lower(), " ".join(activity.split())))
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: str | Path) -> Allowlist:
        """From a file: YAML (``skip: [..]``, ``insert: [..]``, ``swap: [..]``) or one entry per line."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"{path.name}: cannot read the allowlist ({exc}); expected UTF-8 text"
            raise ConformanceError(msg) from None
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            try:
                data = yaml.safe_load(text) or {}
            except yaml.YAMLError:
                msg = f"{path.name}: malformed YAML; expected 'skip: [Activity, ...]', 'insert: [...]', 'swap: [...]'"
                raise ConformanceError(msg) from None
            if not isinstance(data, dict) or not set(data) <= set(_PREFIXES):
                msg = f"{path.name}: expected the keys 'skip', 'insert' and 'swap', each with a list of activities"
                raise ConformanceError(msg)
            items = []
            for prefix, acts in data.items():
                if not isinstance(acts, list):
                    msg = f"{path.name}: '{prefix}' must be a list of activities"
                    raise ConformanceError(msg)
                items += [f"{prefix}:{a}" for a in acts]
            return cls.parse(items, source=path.name)
        lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
        parsed = cls.parse([ln for ln in lines if ln], source=path.name)
        return parsed

    def accepts(self, kind: str, activity: str) -> bool:
        return any(kind in _PREFIXES[p] and a == activity for p, a in self.entries)


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


@dataclass(frozen=True)
class VariantCheck:
    """One checked variant: its alignment's verdict and deviations ``(kind, activity, count)``.

    ``rank`` numbers the checked variants, most cases first; ``stored_variant_ids``
    are the variants of the ``variants`` table it stands for (several when a
    filter removed activities).  ``aligned`` is False when the budget ran out
    or the check was cancelled first; then nothing else is known.
    """

    rank: int
    activities: tuple[str, ...]
    cases: int
    stored_variant_ids: tuple[int, ...]
    aligned: bool
    cost: int | None = None  # deviating moves (log moves + visible model moves)
    fitness: float | None = None
    deviations: tuple[tuple[str, str, int], ...] = ()
    accepted: tuple[tuple[str, str, int], ...] = ()

    @property
    def fits(self) -> bool | None:
        """No deviation left after the allowlist (None when not aligned)."""
        return None if not self.aligned else not self.deviations


def split_accepted(
    found: Counter[tuple[str, str]], allow: Allowlist | None
) -> tuple[tuple[tuple[str, str, int], ...], tuple[tuple[str, str, int], ...]]:
    """(deviations, accepted) of one trace, each sorted by kind then activity."""
    order = {k: i for i, k in enumerate(KINDS)}
    items = sorted(found.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    kept = tuple((k, a, n) for (k, a), n in items if allow is None or not allow.accepts(k, a))
    accepted = tuple((k, a, n) for (k, a), n in items if allow is not None and allow.accepts(k, a))
    return kept, accepted


#: Each checked case's stored variant and duration: fetched once, so every deviation's two
#: medians are array work instead of one scan of ``cases`` per deviation.
DURATIONS_SQL = "SELECT variant_id, duration_s FROM cases WHERE log_id = $log {selection}"


def aggregate(
    store: Store, log_id: int, flt: Filter | None, variants: Sequence[VariantCheck], total_cases: int
) -> tuple[Deviation, ...]:
    """Per (kind, activity) over the aligned variants: cases, share, medians and the sentence; most cases first."""
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
    by_duration = np.argsort(table.column("duration_s").to_numpy())
    duration = table.column("duration_s").to_numpy()[by_duration]
    case_variant = table.column("variant_id").to_numpy()[by_duration]
    size = int(case_variant.max()) + 1 if len(case_variant) else 1

    def cases_of(ids: Iterable[int]) -> Any:
        member = np.zeros(size, dtype=bool)
        member[[i for i in ids if i < size]] = True
        return member[case_variant]

    def median(mask: Any) -> float | None:
        # The mean of the two middle values for an even count, as DuckDB's median.
        picked = np.flatnonzero(mask)
        if not len(picked):
            return None
        m = len(picked)
        return float((duration[picked[(m - 1) // 2]] + duration[picked[m // 2]]) / 2)

    aligned_case = cases_of(aligned_ids)
    out = []
    for (kind, act), members in groups.items():
        with_case = cases_of({vid for v, _ in members for vid in v.stored_variant_ids})
        med_with, med_without = median(with_case), median(aligned_case & ~with_case)
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
                sentence=sentence(kind, act, cases, total_cases, med_with, med_without),
                variants=tuple(sorted(v.rank for v, _ in members)),
            )
        )
    order = {k: i for i, k in enumerate(KINDS)}
    return tuple(sorted(out, key=lambda d: (-d.cases, order[d.kind], d.activity)))


# ---------------------------------------------------------------------------
# sentences


def format_duration(seconds: float) -> str:
    """``45 seconds``, ``12.5 minutes``, ``3.2 hours``, ``2.1 days``: the unit that keeps the number readable."""
    s = abs(seconds)
    if s < 60:
        value, unit = s, "second"
        text = f"{value:.0f}"
    elif s < 3600:
        value, unit = s / 60, "minute"
        text = f"{value:.1f}"
    elif s < 2 * 86400:
        value, unit = s / 3600, "hour"
        text = f"{value:.1f}"
    else:
        value, unit = s / 86400, "day"
        text = f"{value:.1f}"
    return f"{text} {unit}" + ("" if text in {"1", "1.0"} else "s")


def _share(share: float) -> str:
    pct = share * 100
    if pct >= 1 or pct == 0:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%" if pct >= 0.1 else "<0.1%"


_WHAT = {
    "skipped": "'{a}' skipped",
    "inserted": "'{a}' done where the model does not allow it",
    "out_of_order": "'{a}' done out of order",
    "not_in_model": "'{a}' (not in the model) done",
}


def sentence(
    kind: str, activity: str, cases: int, total: int, with_s: float | None, without_s: float | None
) -> str:
    """One plain sentence, e.g. "'Approve' skipped in 18% of cases (412 of 2,300); those cases take
    2.1 days longer (median)."."""
    text = f"{_WHAT[kind].format(a=activity)} in {_share(cases / total)} of cases ({cases:,} of {total:,})"
    if with_s is None or without_s is None:
        return text + "; no cases without it to compare durations."
    diff = with_s - without_s
    if diff == 0:
        return text + "; those cases take as long as the others (median)."
    word = "longer" if diff > 0 else "shorter"
    return text + f"; those cases take {format_duration(diff)} {word} (median)."


# ---------------------------------------------------------------------------
# map overlay


@dataclass(frozen=True)
class OverlayEdge:
    """A directly-follows pair of the log that the model does not allow."""

    source: str
    target: str
    count: int
    cases: int


@dataclass(frozen=True)
class MapOverlay:
    """What to draw over the process map: edges and activities the model does not have.

    ``complete`` is False when the net was too large to explore (then
    ``edges`` is empty and only ``activities`` is filled).
    """

    edges: tuple[OverlayEdge, ...]
    activities: tuple[tuple[str, int, int], ...]  # (activity, events, cases) not in the model
    model_pairs: int
    complete: bool


def model_follows(net: NetSpec) -> set[tuple[str, str]] | None:
    """Pairs (a, b) such that b can directly follow a in the net, silent steps ignored; None if too large."""
    places = {p: i for i, p in enumerate(net.places)}
    labels = dict(net.transitions)
    pre: dict[str, list[tuple[int, int]]] = {t: [] for t in labels}
    post: dict[str, list[tuple[int, int]]] = {t: [] for t in labels}
    for src, dst, w in net.arcs:
        if src in places:
            pre[dst].append((places[src], w))
        else:
            post[src].append((places[dst], w))
    start = [0] * len(places)
    for p, n in net.initial:
        start[places[p]] += n
    first = tuple(start)
    seen: dict[tuple[int, ...], list[tuple[str, tuple[int, ...]]]] = {}
    queue = deque([first])
    while queue:
        marking = queue.popleft()
        if marking in seen:
            continue
        if len(seen) >= MAX_STATES:
            return None
        edges: list[tuple[str, tuple[int, ...]]] = []
        for t in labels:
            if all(marking[i] >= w for i, w in pre[t]):
                nxt = list(marking)
                for i, w in pre[t]:
                    nxt[i] -= w
                for i, w in post[t]:
                    nxt[i] += w
                if max(nxt, default=0) > _MAX_TOKENS:
                    return None
                edges.append((t, tuple(nxt)))
                queue.append(tuple(nxt))
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


def map_overlay(net: NetSpec, variants: Sequence[tuple[Sequence[str], int]]) -> MapOverlay:
    """The log's directly-follows pairs and activities the (relabelled) net does not allow."""
    allowed = model_follows(net)
    known = set(net.labels)
    pair_count: Counter[tuple[str, str]] = Counter()
    pair_cases: Counter[tuple[str, str]] = Counter()
    act_events: Counter[str] = Counter()
    act_cases: Counter[str] = Counter()
    for acts, n in variants:
        pairs = Counter(itertools.pairwise(acts))
        for pair, k in pairs.items():
            pair_count[pair] += k * n
            pair_cases[pair] += n
        for act, k in Counter(acts).items():
            if act not in known:
                act_events[act] += k * n
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


# ---------------------------------------------------------------------------
# deviating cases

#: The checked cases of some stored variants, with their durations.
CASES_SQL = """
SELECT case_id, variant_id, duration_s FROM cases
WHERE log_id = $log AND list_contains($vids, variant_id) {selection}
ORDER BY case_id
"""


@dataclass(frozen=True)
class DeviatingCase:
    """One case whose variant deviates (accepted deviations left out)."""

    case_id: str
    variant_id: int
    deviations: str
    duration_s: float


def _describe(deviations: Sequence[tuple[str, str, int]]) -> str:
    words = {
        "skipped": "skipped",
        "inserted": "inserted",
        "out_of_order": "out of order",
        "not_in_model": "not in the model",
    }
    return "; ".join(f"{words[k]} '{a}'" + (f" ({n}x)" if n > 1 else "") for k, a, n in deviations)


def deviating_cases(
    store: Store, result: ConformanceResult, *, limit: int | None = None
) -> list[DeviatingCase]:
    """The checked cases whose variant has a deviation that was not accepted, by case id."""
    from mining.analysis.filters import case_selection

    text: dict[int, str] = {}
    for v in result.variants:
        if v.deviations:
            for vid in v.stored_variant_ids:
                text[vid] = _describe(v.deviations)
    if not text:
        return []
    params: dict[str, Any] = {"log": result.log_id, "vids": sorted(text)}
    selection = ""
    if result.filter is not None and not result.filter.is_empty:
        selection = f"AND case_no IN ({case_selection(store, result.log_id, result.filter, params)})"
    sql = CASES_SQL.format(selection=selection) + (" LIMIT $limit" if limit is not None else "")
    if limit is not None:
        params["limit"] = limit
    return [
        DeviatingCase(str(c), int(v), text[int(v)], float(d)) for c, v, d in store.query(sql, params).rows
    ]


def export_cases(cases: Sequence[DeviatingCase], path: str | Path) -> int:
    """Write deviating cases to ``.csv`` or ``.xlsx``; text that a spreadsheet would run is neutralised."""
    from mining.spreadsheet import safe_cell as _safe_cell

    path = Path(path)
    header = ["case", "variant", "deviations", "duration_seconds", "duration"]
    rows = [
        [c.case_id, c.variant_id, c.deviations, c.duration_s, format_duration(c.duration_s)] for c in cases
    ]
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows([_safe_cell(x) for x in row] for row in rows)
        elif suffix == ".xlsx":
            import xlsxwriter

            book = xlsxwriter.Workbook(
                str(path),
                {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
            )
            sheet = book.add_worksheet("deviating cases")
            for col, name in enumerate(header):
                sheet.write_string(0, col, name)
            for r, row in enumerate(rows, start=1):
                for col, value in enumerate(row):
                    if isinstance(value, str):
                        sheet.write_string(r, col, str(_safe_cell(value)))
                    else:
                        sheet.write_number(r, col, value)
            book.close()
        else:
            msg = f"cannot write deviating cases to {path.name!r}: expected a .csv or .xlsx file"
            raise ConformanceError(msg)
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise ConformanceError(msg) from exc
    return len(rows)
