"""Before and after a change date: each KPI with a bootstrap interval, a rank test and the case mix.

Cases are split by the instant they started: *before* when their first event
is earlier than local midnight of the change date (in the clock's time zone),
*after* otherwise.  Each KPI uses the same cases as its per-period figure
(:mod:`mining.monitor.periods`): durations, rework, cost and PCE over complete
cases, the SLA breach rate over decided cases; volumes (started, completed,
work in progress) over the whole periods on each side of the change.

For each KPI the comparison gives the value before and after, the difference
``after - before`` (absolute and relative to before), a percentile bootstrap
interval of the difference (cases resampled with replacement within each side,
from a seeded generator, so the interval is reproducible; a median's or
p90's replicates are drawn exactly from the order statistics a resample would
have, without building it, and a mean over more than ten million case draws
takes the normal replicates of the mean) and a two-sided
Mann-Whitney U test (``scipy.stats.mannwhitneyu``) on the case values.  For a
rate the case values are 0/1; on two groups of 0/1 values the tie-corrected
asymptotic Mann-Whitney test is the two-proportion z-test (with a continuity
correction).  Medians and percentiles are compared through the whole
distribution: the U test asks whether after-cases tend to be shorter.

Case mix: the cases are stratified by variant (the most frequent ones, the
rest as "other") or by a case attribute.  The *mix-adjusted* value reweights
the after-cases so that the strata have their before shares (strata missing
after are left out, the rest renormalised); the adjusted difference compares
it with the before value computed the same way.  A chi-square test on the
strata counts (``scipy.stats.chi2_contingency``) flags a shifted mix at
p < 0.01, naming the biggest shifts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from mining.analysis.dfg import DFG, dfg
from mining.analysis.filters import Filter
from mining.errors import MonitorError
from mining.monitor.bootstrap import bootstrap, statistic
from mining.monitor.periods import OPEN, CaseFacts, PeriodSeries

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.store import Store

__all__ = [
    "MIX_ALPHA",
    "CaseMix",
    "Comparison",
    "KpiComparison",
    "MapComparison",
    "MixShift",
    "change_instant",
    "compare",
    "compare_maps",
    "strata",
]

#: A chi-square p-value below this flags a shifted case mix.
MIX_ALPHA = 0.01
#: Variants kept as their own stratum; the rest are "other".
TOP_VARIANTS = 5
#: Attribute values kept as their own stratum.
TOP_VALUES = 10
#: Warn when more than this share of the after-cases is still open.
OPEN_WARNING = 0.05
#: Warn when a side has fewer cases than this.
FEW_CASES = 20

_ATTRIBUTE_SQL = """
SELECT e.case_no, first(a.{column} ORDER BY e.ts, e.row_no) FILTER (WHERE a.{column} IS NOT NULL) AS value
FROM events e JOIN {table} a USING (row_no)
WHERE e.log_id = $log
GROUP BY e.case_no
"""


@dataclass(frozen=True)
class KpiComparison:
    """One KPI before and after; ``ci_low``/``ci_high`` bound ``difference``.  Units as in the period table."""

    kpi: str
    label: str
    unit: str
    before: float | None
    after: float | None
    difference: float | None
    relative: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str
    n_before: int
    n_after: int
    adjusted_after: float | None
    adjusted_difference: float | None
    method: str


@dataclass(frozen=True)
class MixShift:
    """How one stratum's share of the cases moved."""

    stratum: str
    before_share: float
    after_share: float


@dataclass(frozen=True)
class CaseMix:
    """The strata counts on each side and the chi-square test of their distribution."""

    by: str
    strata: tuple[str, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]
    chi2: float | None
    p_value: float | None
    shifted: bool
    biggest: tuple[MixShift, ...]
    note: str


@dataclass(frozen=True)
class Comparison:
    """Every KPI before and after ``change_date`` (see the module docstring)."""

    change_date: dt.date
    change_at: dt.datetime
    timezone: str
    before_cases: int
    after_cases: int
    before_periods: int
    after_periods: int
    confidence: float
    resamples: int
    seed: int
    kpis: tuple[KpiComparison, ...]
    mix: CaseMix
    warnings: tuple[str, ...]
    method: str

    def get(self, kpi: str) -> KpiComparison:
        for k in self.kpis:
            if k.kpi == kpi:
                return k
        msg = f"no KPI {kpi!r} in the comparison; KPIs: {', '.join(k.kpi for k in self.kpis)}"
        raise MonitorError(msg)


@dataclass(frozen=True)
class MapComparison:
    """The process maps of the cases started before and after the change, over one node set.

    ``activities`` and ``edges`` are the unions of both maps (sorted), so an
    app can lay the nodes out once and draw both maps in the same places.
    """

    change_date: dt.date
    change_at: dt.datetime
    activities: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    before: DFG
    after: DFG


# -- strata --------------------------------------------------------------------


def strata(store: Store, facts: CaseFacts, by: str = "variant") -> tuple[list[str], np.ndarray]:
    """Stratum labels and the stratum index of each case: variants (top ones + other) or an attribute's values."""
    if by == "variant":
        ids, counts = np.unique(facts.variant_id, return_counts=True)
        ranked = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda x: (-x[1], x[0]))
        top = [v for v, _ in ranked[:TOP_VARIANTS]]
        names = dict(
            store.query(
                "SELECT variant_id, activities FROM variants WHERE log_id = ? AND list_contains(?, variant_id)",
                [facts.log_id, top],
            ).rows
        )
        labels = [f"variant {v}: {_trace(names.get(v, []))}" for v in top]
        pos = {v: i for i, v in enumerate(top)}
        index = np.array([pos.get(v, len(top)) for v in facts.variant_id.tolist()], dtype=np.int64)
        if (index == len(top)).any():
            labels.append("other variants")
        return labels, index
    column = store.scalar(
        "SELECT column_name FROM attribute_columns WHERE log_id = ? AND source_name = ?", [facts.log_id, by]
    )
    if column is None:
        names = [
            r[0]
            for r in store.query(
                "SELECT source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [facts.log_id]
            ).rows
        ]
        msg = (
            f"cannot stratify by {by!r}: the log has no such attribute; use 'variant' or one of: "
            f"{', '.join(map(repr, names)) or 'none'}"
        )
        raise MonitorError(msg)
    # Internal names are a1, a2, ...; checked before they reach SQL.
    if not (column.startswith("a") and column[1:].isdigit()):
        msg = f"unexpected internal attribute name {column!r}"
        raise MonitorError(msg)
    sql = _ATTRIBUTE_SQL.format(column=column, table=f"attrs_{int(facts.log_id)}")
    found = dict(store.query(sql, {"log": facts.log_id}).rows)
    values = [found.get(int(c)) for c in facts.case_no.tolist()]
    counts: dict[str, int] = {}
    for v in values:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    top = [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_VALUES]]
    pos = {v: i for i, v in enumerate(top)}
    labels = [f"{by} = {v}" for v in top]
    other, missing = len(top), len(top) + 1
    index = np.array([missing if v is None else pos.get(v, other) for v in values], dtype=np.int64)
    labels += [f"{by}: other values", f"{by}: no value"]
    used = sorted(set(index.tolist()))
    remap = {old: new for new, old in enumerate(used)}
    return [labels[i] for i in used], np.array([remap[i] for i in index.tolist()], dtype=np.int64)


def _trace(activities: Sequence[str], limit: int = 12) -> str:
    """The activity sequence in words; a long one keeps its first six and last five steps."""
    acts = list(activities)
    shown = acts if len(acts) <= limit else [*acts[:6], "…", *acts[-5:]]
    return " → ".join(shown)


# -- statistics ------------------------------------------------------------------


def _weighted(values: np.ndarray, weights: np.ndarray, kind: str) -> float | None:
    """The statistic with case weights: weighted mean, or the lower weighted quantile."""
    if values.size == 0 or weights.sum() <= 0:
        return None
    if kind in {"mean", "rate"}:
        return float(np.average(values, weights=weights))
    q = 0.5 if kind == "median" else 0.9
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q - 1e-12, "left")])


def _adjusted(
    before: np.ndarray, after: np.ndarray, sb: np.ndarray, sa: np.ndarray, kind: str
) -> tuple[float | None, float | None]:
    """(after reweighted to the before mix, that minus before computed the same way)."""
    common = np.intersect1d(np.unique(sb), np.unique(sa))
    if before.size == 0 or after.size == 0 or common.size == 0:
        return None, None
    share_before = {s: float((sb == s).mean()) for s in common.tolist()}
    count_after = {s: int((sa == s).sum()) for s in common.tolist()}
    keep = np.isin(sa, common)
    weights = np.array([share_before[s] / count_after[s] for s in sa[keep].tolist()])
    adj_after = _weighted(after[keep], weights, kind)
    ref = _weighted(before, np.ones(before.size), kind)
    if adj_after is None or ref is None:
        return None, None
    return adj_after, adj_after - ref


def _mann_whitney(after: np.ndarray, before: np.ndarray) -> float | None:
    from scipy.stats import mannwhitneyu

    if after.size == 0 or before.size == 0:
        return None
    if np.unique(np.concatenate([after, before])).size < 2:
        return 1.0  # every value equal: no evidence of a difference
    p = float(mannwhitneyu(after, before, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else None


def _rng(seed: int, name: str) -> np.random.Generator:
    # One stream per KPI, so adding a KPI never changes another's interval.
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _case_kpi(
    name: str,
    label: str,
    unit: str,
    kind: str,
    before: np.ndarray,
    after: np.ndarray,
    sb: np.ndarray,
    sa: np.ndarray,
    *,
    seed: int,
    resamples: int,
    confidence: float,
    method: str,
) -> KpiComparison:
    ok_b, ok_a = ~np.isnan(before), ~np.isnan(after)
    before, after, sb, sa = before[ok_b], after[ok_a], sb[ok_b], sa[ok_a]
    stat = statistic(kind)
    vb = float(stat(before)) if before.size else None
    va = float(stat(after)) if after.size else None
    diff = va - vb if va is not None and vb is not None else None
    lo = hi = None
    if before.size and after.size:
        rng = _rng(seed, name)
        reps = bootstrap(after, kind, resamples, rng) - bootstrap(before, kind, resamples, rng)
        tail = (1 - confidence) / 2 * 100
        lo, hi = (float(x) for x in np.percentile(reps, [tail, 100 - tail]))
    adj_after, adj_diff = _adjusted(before, after, sb, sa, kind)
    test = (
        "Mann-Whitney U on the 0/1 case values (two-proportion z-test)"
        if kind == "rate"
        else "Mann-Whitney U on the case values"
    )
    return KpiComparison(
        kpi=name,
        label=label,
        unit=unit,
        before=vb,
        after=va,
        difference=diff,
        relative=diff / vb if diff is not None and vb else None,
        ci_low=lo,
        ci_high=hi,
        p_value=_mann_whitney(after, before),
        test=test,
        n_before=int(before.size),
        n_after=int(after.size),
        adjusted_after=adj_after,
        adjusted_difference=adj_diff,
        method=method,
    )


def _period_kpi(
    name: str,
    label: str,
    before: list[float],
    after: list[float],
    *,
    seed: int,
    resamples: int,
    confidence: float,
    method: str,
) -> KpiComparison:
    b, a = np.array(before, dtype=float), np.array(after, dtype=float)
    vb = float(b.mean()) if b.size else None
    va = float(a.mean()) if a.size else None
    diff = va - vb if va is not None and vb is not None else None
    lo = hi = None
    if b.size and a.size:
        rng = _rng(seed, name)
        reps = bootstrap(a, "mean", resamples, rng) - bootstrap(b, "mean", resamples, rng)
        tail = (1 - confidence) / 2 * 100
        lo, hi = (float(x) for x in np.percentile(reps, [tail, 100 - tail]))
    return KpiComparison(
        kpi=name,
        label=label,
        unit="cases per period",
        before=vb,
        after=va,
        difference=diff,
        relative=diff / vb if diff is not None and vb else None,
        ci_low=lo,
        ci_high=hi,
        p_value=_mann_whitney(a, b),
        test="Mann-Whitney U on the per-period values",
        n_before=int(b.size),
        n_after=int(a.size),
        adjusted_after=None,
        adjusted_difference=None,
        method=method,
    )


def _mix(labels: list[str], index: np.ndarray, after: np.ndarray, by: str) -> CaseMix:
    from scipy.stats import chi2_contingency

    k = len(labels)
    cb = np.bincount(index[~after], minlength=k)
    ca = np.bincount(index[after], minlength=k)
    used = (cb + ca) > 0
    chi2 = p = None
    if used.sum() >= 2 and cb.sum() and ca.sum():
        res = chi2_contingency(np.vstack([cb[used], ca[used]]), correction=False)
        chi2, p = float(res[0]), float(res[1])
    shifted = p is not None and p < MIX_ALPHA
    shares_b = cb / cb.sum() if cb.sum() else np.zeros(k)
    shares_a = ca / ca.sum() if ca.sum() else np.zeros(k)
    moves = sorted(range(k), key=lambda i: (-abs(shares_a[i] - shares_b[i]), i))[:3]
    biggest = tuple(
        MixShift(labels[i], float(shares_b[i]), float(shares_a[i]))
        for i in moves
        if shares_a[i] != shares_b[i]
    )
    if p is None:
        note = "The case mix could not be tested (one side or one stratum only)."
    elif shifted:
        words = "; ".join(
            f"{m.stratum}: {m.before_share:.1%} of cases before, {m.after_share:.1%} after" for m in biggest
        )
        note = (
            f"The case mix by {by} shifted (chi-square p = {p:.2g}): {words}. Compare the mix-adjusted "
            "differences with the raw ones."
        )
    else:
        note = f"The case mix by {by} did not shift detectably (chi-square p = {p:.2g})."
    return CaseMix(
        by,
        tuple(labels),
        tuple(int(x) for x in cb),
        tuple(int(x) for x in ca),
        chi2,
        p,
        shifted,
        biggest,
        note,
    )


def change_instant(change_date: dt.date, timezone: str) -> dt.datetime:
    """Local midnight starting ``change_date`` in ``timezone``, as a UTC instant."""
    local = dt.datetime.combine(change_date, dt.time(), ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def compare(
    store: Store,
    facts: CaseFacts,
    series: PeriodSeries,
    change_date: dt.date,
    *,
    stratify: str = "variant",
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Each KPI of ``series`` before and after ``change_date`` (see the module docstring).

    Examples
    --------
    >>> facts = case_facts(store, log_id, timezone="Europe/Amsterdam")          # doctest: +SKIP
    >>> c = compare(store, facts, summarize(facts), dt.date(2025, 7, 1))       # doctest: +SKIP
    >>> c.get("cycle_median_s").relative, c.get("cycle_median_s").p_value      # doctest: +SKIP
    """
    if not 0 < confidence < 1:
        msg = f"confidence must be between 0 and 1, got {confidence}"
        raise MonitorError(msg)
    if resamples < 100:
        msg = f"at least 100 bootstrap resamples are needed for an interval, got {resamples}"
        raise MonitorError(msg)
    boundary = float((change_date - dt.date(1970, 1, 1)).days * 86_400)
    after = facts.first_local >= boundary
    if not after.any() or after.all():
        side = "after" if not after.any() else "before"
        msg = f"no case started {side} the change date {change_date.isoformat()}; nothing to compare"
        raise MonitorError(msg, hint="choose a change date inside the data window")
    labels, index = strata(store, facts, stratify)
    common = {"seed": seed, "resamples": resamples, "confidence": confidence}
    complete = facts.complete
    infos = {k.name: k for k in series.kpis}
    out: list[KpiComparison] = []

    def case_kpi(name: str, kind: str, values: np.ndarray, mask: np.ndarray) -> None:
        info = infos[name]
        out.append(
            _case_kpi(
                name,
                info.label,
                info.unit,
                kind,
                values[mask & ~after],
                values[mask & after],
                index[mask & ~after],
                index[mask & after],
                method=info.method,
                **common,
            )
        )

    case_kpi("cycle_median_s", "median", facts.cycle, complete)
    case_kpi("cycle_p90_s", "p90", facts.cycle, complete)
    if "cycle_median_business_s" in infos:
        case_kpi("cycle_median_business_s", "median", facts.cycle_b, complete)
    case_kpi("rework_rate", "rate", facts.rework.astype(float), complete)
    if series.sla_seconds is not None:
        decided, breached = facts.sla(series.sla_seconds)
        case_kpi("sla_breach_rate", "rate", breached.astype(float), decided)
    if "cost_per_case" in infos:
        case_kpi("cost_per_case", "mean", facts.cost, complete)
    if "pce_median" in infos:
        case_kpi("pce_median", "median", facts.pce, complete)
    for key, values in facts.extra.items():
        m = facts.measures[key]
        case_kpi(f"extra.{key}", "rate" if m.kind == "rate" else "mean", values, complete)
    full = [p for p in series.periods if not p.partial]
    before_p = [p for p in full if p.end <= change_date]
    after_p = [p for p in full if p.start >= change_date]
    for name in ("started", "completed", "wip_end"):
        info = infos[name]
        out.append(
            _period_kpi(
                name,
                info.label,
                [float(getattr(p, name)) for p in before_p],
                [float(getattr(p, name)) for p in after_p],
                method=info.method
                + " Compared as the mean over the whole periods on each side of the change.",
                **common,
            )
        )
    mix = _mix(labels, index, after, stratify)
    warnings = []
    if mix.shifted:
        warnings.append(mix.note)
    n_after = int(after.sum())
    open_after = int((after & (facts.state == OPEN)).sum())
    if n_after and open_after / n_after > OPEN_WARNING:
        warnings.append(
            f"{open_after:,} of the {n_after:,} cases that started after the change ({open_after / n_after:.0%}) "
            "are still open: durations after the change cover only the completed ones and will look shorter "
            "than they turn out (see the Kaplan-Meier median per period)."
        )
    for k in out:
        if k.unit != "cases per period" and min(k.n_before, k.n_after) < FEW_CASES:
            warnings.append(
                f"{k.label}: only {k.n_before} cases before and {k.n_after} after; "
                "the interval is wide and the test weak."
            )
    if not before_p or not after_p:
        warnings.append("No whole period lies on one side of the change: volumes are not compared.")
    change_at = change_instant(change_date, facts.timezone)
    method = (
        f"Cases are split by their first event: before or from {change_date.isoformat()} 00:00 "
        f"({facts.timezone}). Differences are after minus before; intervals are {confidence:.0%} percentile "
        f"bootstrap intervals from {resamples:,} resamples of the cases on each side (seed {seed}; a "
        "resample's median or p90 is drawn from the order statistics it would have, and a mean over more than "
        "ten million draws from its normal bootstrap distribution); p-values are "
        "two-sided Mann-Whitney U tests. Mix-adjusted values reweight the after-cases to the before shares of "
        f"the strata ({stratify}); a chi-square test on the strata counts flags a shift at p < {MIX_ALPHA}."
    )
    return Comparison(
        change_date=change_date,
        change_at=change_at,
        timezone=facts.timezone,
        before_cases=int((~after).sum()),
        after_cases=n_after,
        before_periods=len(before_p),
        after_periods=len(after_p),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
        kpis=tuple(out),
        mix=mix,
        warnings=tuple(warnings),
        method=method,
    )


def compare_maps(
    store: Store,
    log_id: int,
    change_date: dt.date,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    timezone: str | None = None,
) -> MapComparison:
    """The DFGs of the cases started before and after ``change_date``, with the union of their nodes.

    The split is by case start, like :func:`compare`; a filter's own time
    window must therefore use ``window="started"``.
    """
    from mining.analysis.calendar import clock

    flt = flt or Filter()
    if (flt.start is not None or flt.end is not None) and flt.window != "started":
        msg = (
            f"compare_maps splits cases by their start; the filter's time window must use window='started', "
            f"not {flt.window!r}"
        )
        raise MonitorError(msg)
    tz = clock(store, log_id, calendar, timezone=timezone).timezone
    at = change_instant(change_date, tz)
    before_end = at if flt.end is None else min(at, flt.end)
    after_start = at if flt.start is None else max(at, flt.start)
    before = dfg(store, log_id, dataclasses.replace(flt, window="started", end=before_end), calendar=calendar)
    after = dfg(
        store, log_id, dataclasses.replace(flt, window="started", start=after_start), calendar=calendar
    )
    activities = tuple(sorted(set(before.activities) | set(after.activities)))
    edges = tuple(
        sorted({(e.source, e.target) for e in before.edges} | {(e.source, e.target) for e in after.edges})
    )
    return MapComparison(change_date, at, activities, edges, before, after)
