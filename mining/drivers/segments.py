"""Segments compared (benchmarking): each value of one attribute against the rest of the cases.

The segments are the values of one candidate of :mod:`mining.drivers.features`
(a case attribute, a first-event attribute, the start weekday, who handled an
activity, ...): the :data:`TOP_SEGMENTS` biggest, the others pooled as
``(other)``.  Per segment, with the definitions of :mod:`mining.monitor.periods`:

* ``cases`` and ``open`` (open or stalled: not complete);
* ``cycle_median_s`` and ``cycle_p90_s``: cycle time of the complete cases;
* ``throughput_per_week``: complete cases per week of the log's span;
* ``rework_rate``: share of the complete cases that repeat an activity;
* ``sla_breach_rate`` (with an SLA): breaches over the decided cases;
* ``cost_per_case`` (with a rate card): mean cost of the complete cases.

Each KPI has a 95 % interval (percentile bootstrap over cases, seeded;
Poisson for throughput).  Against the rest of the cases: the difference with
its interval (the two sides resampled independently), and the **case-mix
adjusted** difference: the rest's cases reweighted so that their strata
(the most frequent variants, or an attribute's values) have the segment's
shares, strata the segment lacks left out.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.filters import Filter
from mining.drivers.features import EMPTY, Candidate, candidates
from mining.drivers.stats import Z95
from mining.errors import AnalysisError, Option, phrase
from mining.monitor.bootstrap import bootstrap
from mining.monitor.compare import strata
from mining.monitor.periods import case_facts, left_out_note

if TYPE_CHECKING:
    from mining.rates import RateCard
    from mining.store import Store

__all__ = [
    "KPI_LABELS",
    "OTHER",
    "TOP_SEGMENTS",
    "KpiVsRest",
    "Segment",
    "SegmentComparison",
    "compare_segments",
    "segments_json",
]

#: Segments shown on their own; smaller ones are pooled as "(other)".
TOP_SEGMENTS = 20
OTHER = "(other)"
#: KPI keys, in order, with their labels and units.
KPI_LABELS = {
    "cycle_median_s": ("Median cycle time", "seconds"),
    "cycle_p90_s": ("p90 cycle time", "seconds"),
    "throughput_per_week": ("Completed per week", "cases"),
    "rework_rate": ("Rework rate", "share"),
    "sla_breach_rate": ("SLA breach rate", "share"),
    "cost_per_case": ("Cost per case", "money"),
}
_KIND = {
    "cycle_median_s": "median",
    "cycle_p90_s": "p90",
    "rework_rate": "rate",
    "sla_breach_rate": "rate",
    "cost_per_case": "mean",
}
_WEEK = 7 * 86_400.0


@dataclass(frozen=True)
class KpiVsRest:
    """One KPI of a segment against the rest: ``difference = segment - rest`` with its 95 % interval."""

    rest: float | None
    difference: float | None
    ci: tuple[float | None, float | None]
    adjusted_difference: float | None


@dataclass(frozen=True)
class Segment:
    """One value of the attribute: its cases, KPIs (with intervals) and how they compare with the rest."""

    value: str
    cases: int
    open: int
    kpis: dict[str, float | None]
    intervals: dict[str, tuple[float | None, float | None]]
    vs_rest: dict[str, KpiVsRest]
    source_value: str | None  # the attribute's stored value, when the segment is exactly one (for filters)


@dataclass(frozen=True)
class SegmentComparison:
    """The segments of ``by``, biggest first (``(other)`` last), and how they were compared."""

    by: str
    source: str | None  # the source column behind ``by``, if it is an attribute
    segments: tuple[Segment, ...]
    kpis: tuple[str, ...]
    mix_by: str
    cases: int
    weeks: float
    currency: str
    note: str


def compare_segments(
    store: Store,
    log_id: int,
    by: str,
    flt: Filter | None = None,
    *,
    sla_seconds: float | None = None,
    rates: RateCard | None = None,
    mix_by: str = "variant",
    resamples: int = 1000,
    seed: int = 0,
) -> SegmentComparison:
    """Each segment of ``by`` against the rest of the kept cases (see the module docstring)."""
    flt = flt or Filter()
    facts = case_facts(store, log_id, flt)
    if facts.n == 0:
        raise AnalysisError("no case is kept: there is nothing to compare", hint="widen the filter")
    cands = candidates(store, log_id, flt, facts)
    cand = _pick(cands, by)
    labels, codes = _segments(cand)
    _, mix = strata(store, facts, mix_by)
    complete = facts.complete
    cycle = np.asarray(facts.cycle, float)
    rework = np.asarray(facts.rework, bool)
    decided = breached = None
    if sla_seconds is not None:
        decided, breached = facts.sla(float(sla_seconds))
    cost = None
    if rates is not None:
        from mining.costs import case_costs

        priced = case_costs(store, log_id, rates, flt)
        cost = facts.per_case(priced.case_no, priced.total)
    span = max(float(np.nanmax(facts.last) - np.nanmin(facts.first)), _WEEK)
    weeks = span / _WEEK
    kpis = ["cycle_median_s", "cycle_p90_s", "throughput_per_week", "rework_rate"]
    if sla_seconds is not None:
        kpis.append("sla_breach_rate")
    if cost is not None:
        kpis.append("cost_per_case")

    def values(kpi: str, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The case values of ``kpi`` among ``mask``, and their strata."""
        if kpi == "sla_breach_rate":
            assert decided is not None and breached is not None
            keep = mask & decided
            return breached[keep].astype(float), mix[keep]
        keep = mask & complete
        column = {"cycle_median_s": cycle, "cycle_p90_s": cycle, "rework_rate": rework.astype(float)}.get(kpi)
        if column is None:
            assert cost is not None
            column = cost
            keep = keep & ~np.isnan(cost)
        return column[keep], mix[keep]

    out = []
    for code, label in enumerate(labels):
        seg = codes == code
        rng = np.random.default_rng([seed, zlib.crc32(label.encode("utf-8"))])
        k: dict[str, float | None] = {}
        ci: dict[str, tuple[float | None, float | None]] = {}
        vs: dict[str, KpiVsRest] = {}
        for kpi in kpis:
            if kpi == "throughput_per_week":
                n_seg, n_rest = int((seg & complete).sum()), int((~seg & complete).sum())
                k[kpi] = n_seg / weeks
                half = Z95 * math.sqrt(n_seg) / weeks
                ci[kpi] = (max(k[kpi] - half, 0.0), k[kpi] + half)
                diff = (n_seg - n_rest) / weeks
                half_d = Z95 * math.sqrt(n_seg + n_rest) / weeks
                vs[kpi] = KpiVsRest(n_rest / weeks, diff, (diff - half_d, diff + half_d), None)
                continue
            kind = _KIND[kpi]
            x, sx = values(kpi, seg)
            r, sr = values(kpi, ~seg)
            k[kpi] = _stat(x, kind)
            rest = _stat(r, kind)
            if x.size >= 2:
                reps = bootstrap(x, kind, resamples, rng)
                ci[kpi] = (float(np.quantile(reps, 0.025)), float(np.quantile(reps, 0.975)))
            else:
                ci[kpi] = (None, None)
            diff = None if k[kpi] is None or rest is None else k[kpi] - rest
            dci: tuple[float | None, float | None] = (None, None)
            if diff is not None and x.size >= 2 and r.size >= 2:
                d = bootstrap(x, kind, resamples, rng) - bootstrap(r, kind, resamples, rng)
                dci = (float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975)))
            vs[kpi] = KpiVsRest(rest, diff, dci, _adjusted(x, sx, r, sr, kind))
        out.append(
            Segment(
                value=label,
                cases=int(seg.sum()),
                open=int((seg & ~complete).sum()),
                kpis=k,
                intervals=ci,
                vs_rest=vs,
                # "(empty)" is no stored value: a filter on it keeps no case (fines' lastsent drew nothing).
                source_value=label
                if cand.source is not None and cand.kind == "case attribute" and label not in {OTHER, EMPTY}
                else None,
            )
        )
    note = (
        f"Each segment of {cand.attribute} against all other kept cases. Cycle time, rework and cost over "
        "complete cases (open and stalled ones are counted apart); the SLA breach rate over decided cases; "
        f"throughput is complete cases per week over the log's {weeks:,.1f} weeks. Intervals: 95% percentile "
        f"bootstrap ({resamples} resamples, seed {seed}); throughput: Poisson. The adjusted difference reweights "
        f"the rest to the segment's mix of {mix_by if mix_by != 'variant' else 'variants (the most frequent ones)'}."
    )
    if facts.left_out:
        note += f" {left_out_note(facts.left_out)}"
    return SegmentComparison(
        by=cand.attribute,
        source=cand.source if cand.kind == "case attribute" else None,
        segments=tuple(out),
        kpis=tuple(kpis),
        mix_by=mix_by,
        cases=facts.n,
        weeks=weeks,
        currency=rates.currency if rates is not None else "",
        note=note,
    )


def _pick(cands: list[Candidate], by: str) -> Candidate:
    for c in cands:
        if c.attribute == by:
            return c
    for c in cands:
        if c.source == by:
            return c
    names = ", ".join(repr(c.attribute) for c in cands[:40])
    msg = phrase(f"cannot compare by {by!r}; ", Option("by", "ATTRIBUTE"), f" names one of {names}")
    raise AnalysisError(msg)


def _segments(cand: Candidate) -> tuple[list[str], np.ndarray]:
    """The biggest values as their own segments, the rest pooled; codes renumbered biggest first."""
    counts = np.bincount(cand.codes, minlength=len(cand.labels))
    order = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
    keep = order[:TOP_SEGMENTS]
    remap = np.full(len(cand.labels), len(keep), dtype=np.int64)
    for new, old in enumerate(keep):
        remap[old] = new
    labels = [cand.labels[i] for i in keep]
    if len(order) > TOP_SEGMENTS:
        labels.append(OTHER)
    return labels, remap[cand.codes]


def _stat(x: np.ndarray, kind: str) -> float | None:
    if x.size == 0:
        return None
    if kind == "median":
        return float(np.quantile(x, 0.5))
    if kind == "p90":
        return float(np.quantile(x, 0.9))
    return float(x.mean())


def _weighted(values: np.ndarray, weights: np.ndarray, kind: str) -> float | None:
    if values.size == 0 or weights.sum() <= 0:
        return None
    if kind in {"mean", "rate"}:
        return float(np.average(values, weights=weights))
    q = 0.5 if kind == "median" else 0.9
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q - 1e-12, "left")])


def _adjusted(x: np.ndarray, sx: np.ndarray, r: np.ndarray, sr: np.ndarray, kind: str) -> float | None:
    """The segment's value minus the rest's, the rest reweighted to the segment's strata shares."""
    common = np.intersect1d(np.unique(sx), np.unique(sr))
    if x.size == 0 or r.size == 0 or common.size == 0:
        return None
    inside = np.isin(sx, common)
    share = {s: float((sx[inside] == s).mean()) for s in common.tolist()}
    count = {s: int((sr == s).sum()) for s in common.tolist()}
    keep = np.isin(sr, common)
    weights = np.array([share[s] / count[s] for s in sr[keep].tolist()])
    seg = _weighted(x[inside], np.ones(int(inside.sum())), kind)
    rest = _weighted(r[keep], weights, kind)
    return None if seg is None or rest is None else seg - rest


def segments_json(comparison: SegmentComparison) -> dict[str, Any]:
    """The comparison as ``mining compare --json`` prints it."""
    return {
        "by": comparison.by,
        "segments": [
            {
                "value": s.value,
                "cases": s.cases,
                "open": s.open,
                "kpis": dict(s.kpis),
                "intervals": {k: list(v) for k, v in s.intervals.items()},
                "vs_rest": {
                    k: {
                        "rest": v.rest,
                        "difference": v.difference,
                        "ci": list(v.ci),
                        "adjusted_difference": v.adjusted_difference,
                    }
                    for k, v in s.vs_rest.items()
                },
            }
            for s in comparison.segments
        ],
        "kpis": list(comparison.kpis),
        "mix_by": comparison.mix_by,
        "cases": comparison.cases,
        "weeks": comparison.weeks,
        "currency": comparison.currency,
        "note": comparison.note,
    }
