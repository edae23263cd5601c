"""Before and after a change date: each KPI with a bootstrap interval, a rank test and the case mix.

Cases are split by the instant they started: *before* when their first event
is earlier than local midnight of the change date (in the clock's time zone),
*after* otherwise.  Each KPI uses the same cases as its per-period figure
(:mod:`mining.monitor.periods`): durations, rework, cost and PCE over complete
cases, the SLA breach rate over decided cases; volumes (started, completed,
work in progress) over the whole periods on each side of the change.

For each KPI the comparison gives the value before and after, the difference
``after - before`` (absolute and relative to before), and a test of that very
statistic: the bootstrap replicates of the difference (cases resampled with
replacement within each side, from a seeded generator with one stream per KPI,
so the result is reproducible; a median's or p90's replicates are drawn exactly
from the order statistics a resample would have, without building it, a
rate's are binomial, and a mean over more than ten million case draws takes the
normal replicates of the mean) give both the percentile interval and the
p-value (:func:`~mining.monitor.bootstrap.percentile_test`), so the p90 is
tested as a p90, not through the median or the whole distribution, and
``p < 1 - confidence`` exactly when the interval leaves 0 out.

Units: ``difference``, ``ci_low`` and ``ci_high`` are in the KPI's unit; for
a rate that is a difference of shares, which people read in percentage points
(``difference_label``: "-12.0 percentage points"), while ``relative`` is the
change relative to before, read in percent ("-39.6% relative to before").

Case mix: the cases are stratified by a case attribute (by default the one
:func:`default_stratum` picks, when the log has one), or by variant (the most
frequent ones, the rest as "other").  The *mix-adjusted* difference compares
like with like: it is computed over the strata that have cases on both sides
only, after-cases reweighted so that those strata have their before shares,
against the before-cases of the same strata; ``adjusted_coverage`` is the share
of all cases those strata hold.  When the KPI is fixed by the stratum (rework
by variant: a variant either repeats an activity or not), reweighting cannot
tell a change of the process from a change of the mix, and the adjustment is
reported as not applying instead of a number.  A chi-square test on the strata
counts (``scipy.stats.chi2_contingency``) flags a shifted mix at p < 0.01,
naming the biggest shifts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from mining.analysis.dfg import DFG, dfg
from mining.analysis.filters import Filter
from mining.durations import format_duration
from mining.errors import MonitorError
from mining.monitor.bootstrap import bootstrap, percentile_test, statistic
from mining.monitor.periods import OPEN, CaseFacts, PeriodSeries, still_running
from mining.monitor.words import difference_words, relative_words

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.store import Store

__all__ = [
    "CUT_SHORT_WARNING",
    "MIX_ALPHA",
    "CaseMix",
    "Comparison",
    "KpiComparison",
    "MapComparison",
    "MixShift",
    "Stratum",
    "case_stratum",
    "change_instant",
    "compare",
    "compare_maps",
    "default_stratum",
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
#: Warn when, at the durations before the change, more than this share of the after-cases would
#: still be running at the data end: their durations are cut short by the export.
CUT_SHORT_WARNING = 0.02
#: A default stratum is a case attribute with this many distinct values ...
STRATUM_VALUES = (2, 12)
#: ... on at least this share of the cases, constant within at least this share of them.
STRATUM_COVERAGE = 0.8
STRATUM_CONSTANT = 0.95
#: At most this many attribute columns are examined for a default stratum (wide exports have thousands).
STRATUM_COLUMNS = 40
#: KPIs whose value a case's variant fixes: the variant decides whether an activity repeats, and the
#: model-based measures are computed once per variant.
VARIANT_FIXED = frozenset({"rework_rate", "extra.deviating_cases", "extra.conformance_fitness"})

_ATTRIBUTE_SQL = """
SELECT e.case_no, first(a.{column} ORDER BY e.ts, e.row_no) FILTER (WHERE a.{column} IS NOT NULL) AS value
FROM events e JOIN {table} a USING (row_no)
WHERE e.log_id = $log
GROUP BY e.case_no
"""


@dataclass(frozen=True)
class KpiComparison:
    """One KPI before and after; ``ci_low``/``ci_high`` bound ``difference``.

    ``before``/``after`` are in the KPI's ``unit`` (a rate as a share);
    ``difference`` and its interval in ``difference_unit``; ``relative`` is a
    ratio to before.  ``difference_label`` and ``relative_label`` say both in
    words, telling percentage points from percent.  ``adjusted_*`` are the
    mix-adjusted figures over the strata on both sides (see the module
    docstring); ``adjustment`` says whether they apply.
    """

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
    difference_unit: str = ""
    difference_label: str = ""
    relative_label: str = ""
    adjusted_before: float | None = None
    adjusted_coverage: float | None = None
    adjustment: str = "not computed"  # "applied", "does not apply" or "not computed"
    adjustment_note: str = ""


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
    chosen: str = ""  # how the stratum was chosen


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
    #: At the durations before the change, the share of the after-cases that would still be running at
    #: the data end (see :data:`CUT_SHORT_WARNING`); None when it cannot be told.
    cut_short: float | None = None

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


@dataclass(frozen=True)
class Stratum:
    """The kinds of case a comparison compares like with like: ``by`` (``variant`` or an attribute), why
    (``chosen``), the stratum labels and each case's index into them, in the order of the facts."""

    by: str
    chosen: str
    labels: tuple[str, ...]
    index: np.ndarray


def case_stratum(store: Store, facts: CaseFacts, stratify: str | None = None) -> Stratum:
    """The strata of ``facts``: by ``stratify`` (``variant`` or an attribute), else :func:`default_stratum`."""
    if stratify is None or stratify == "auto":
        by, chosen = default_stratum(store, facts)
    else:
        by, chosen = stratify, f"Stratified by {stratify}, as asked."
    labels, index = strata(store, facts, by)
    index.flags.writeable = False  # kept between runs: nobody may change it
    return Stratum(by, chosen, tuple(labels), index)


def default_stratum(store: Store, facts: CaseFacts) -> tuple[str, str]:
    """The stratum to use when none is asked for: a case attribute if the log has one, else the variant.

    A case attribute has one value per case (in at least 95 % of the cases
    that have one), between 2 and 12 distinct values, and a value on at least
    80 % of the cases.  Of several, the one on most cases wins, then the one
    with fewer values, then the one first in the file.  Returns the stratum
    and a sentence on why.
    """
    columns = store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position LIMIT ?",
        [facts.log_id, STRATUM_COLUMNS],
    ).rows
    # Internal names are a1, a2, ...; checked before they reach SQL.
    columns = [(c, name) for c, name in columns if c.startswith("a") and c[1:].isdigit()]
    if not columns or facts.n == 0:
        return "variant", "Stratified by variant: the log has no case attribute."
    # A case's value is its first (as :func:`strata` takes it), so the values counted are the strata's.
    per_case = ", ".join(
        f"count(DISTINCT a.{c}) AS n{k}, arg_min(a.{c}, struct_pack(t := e.ts, r := e.row_no)) AS v{k}"
        for k, (c, _) in enumerate(columns)
    )
    summary = ", ".join(
        f"count(*) FILTER (WHERE n{k} >= 1), count(*) FILTER (WHERE n{k} = 1), count(DISTINCT v{k})"
        for k in range(len(columns))
    )
    sql = (
        f"WITH pc AS (SELECT e.case_no, {per_case} FROM events e JOIN attrs_{int(facts.log_id)} a USING (row_no) "
        "WHERE e.log_id = $log AND list_contains($cases, e.case_no) GROUP BY e.case_no) "
        f"SELECT {summary} FROM pc"
    )
    row = store.query(sql, {"log": facts.log_id, "cases": facts.case_no.tolist()}).rows[0]
    lo, hi = STRATUM_VALUES
    found = []
    for k, (_, name) in enumerate(columns):
        valued, constant, distinct = (int(x) for x in row[3 * k : 3 * k + 3])
        coverage = valued / facts.n
        if (
            lo <= distinct <= hi
            and coverage >= STRATUM_COVERAGE
            and valued
            and constant / valued >= STRATUM_CONSTANT
        ):
            found.append((-round(coverage, 2), distinct, k, name, coverage))
    if not found:
        return "variant", (
            f"Stratified by variant: no attribute holds one of {lo} to {hi} values per case on "
            f"{STRATUM_COVERAGE:.0%} of the cases."
        )
    _, distinct, _, name, coverage = min(found)
    return name, (
        f"Stratified by {name}, chosen as a case attribute with {distinct} values on {coverage:.0%} of the "
        "cases; ask for another attribute or for variant to compare."
    )


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


@dataclass(frozen=True)
class _Adjusted:
    before: float | None = None
    after: float | None = None
    difference: float | None = None
    coverage: float | None = None
    state: str = "not computed"
    note: str = ""


def _adjusted(
    before: np.ndarray,
    after: np.ndarray,
    sb: np.ndarray,
    sa: np.ndarray,
    kind: str,
    *,
    fixed_by_stratum: bool,
    by: str,
    label: str,
) -> _Adjusted:
    """The mix-adjusted comparison over the strata with cases on both sides (see the module docstring)."""
    if before.size == 0 or after.size == 0:
        return _Adjusted(note="one side has no case")
    common = np.intersect1d(np.unique(sb), np.unique(sa))
    total = before.size + after.size
    in_b, in_a = np.isin(sb, common), np.isin(sa, common)
    coverage = float((in_b.sum() + in_a.sum()) / total)
    if common.size == 0:
        return _Adjusted(coverage=0.0, note=f"no {by} stratum has cases on both sides")
    if fixed_by_stratum:
        return _Adjusted(
            coverage=coverage,
            state="does not apply",
            note=f"The mix adjustment does not apply to {label.lower()}: a case's {by} fixes it, so within "
            f"a {by} it cannot change and reweighting the strata cannot tell a change in the process from a "
            "change in the mix.",
        )
    b, a, sbc, sac = before[in_b], after[in_a], sb[in_b], sa[in_a]
    share_before = {s: float((sbc == s).mean()) for s in common.tolist()}
    count_after = {s: int((sac == s).sum()) for s in common.tolist()}
    weights = np.array([share_before[s] / count_after[s] for s in sac.tolist()])
    adj_after = _weighted(a, weights, kind)
    ref = _weighted(b, np.ones(b.size), kind)
    if adj_after is None or ref is None:
        return _Adjusted(coverage=coverage, note="no value to weigh")
    note = (
        f"Over the {common.size} {by} strata with cases on both sides, holding {coverage:.0%} of the cases; "
        "the after-cases reweighted to the before shares."
    )
    return _Adjusted(ref, adj_after, adj_after - ref, coverage, "applied", note)


def _rng(seed: int, name: str) -> np.random.Generator:
    # One stream per KPI, so adding a KPI never changes another's interval.
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _difference_unit(unit: str) -> str:
    if unit in {"share", "ratio"}:
        return "share (0.01 = 1 percentage point)"
    return unit


_TESTS = {
    "median": "bootstrap of the difference of the medians",
    "p90": "bootstrap of the difference of the 90th percentiles",
    "mean": "bootstrap of the difference of the means",
    "rate": "bootstrap of the difference of the rates (binomial replicates)",
}


def _tested(
    before: np.ndarray,
    after: np.ndarray,
    kind: str,
    name: str,
    *,
    seed: int,
    resamples: int,
    confidence: float,
) -> tuple[float | None, float | None, float | None]:
    """The interval and p-value of after - before, both from the statistic's own replicates."""
    if not (before.size and after.size):
        return None, None, None
    rng = _rng(seed, name)
    reps = bootstrap(after, kind, resamples, rng) - bootstrap(before, kind, resamples, rng)
    return percentile_test(reps, confidence)


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
    by: str,
    fixed_by_stratum: bool,
) -> KpiComparison:
    ok_b, ok_a = ~np.isnan(before), ~np.isnan(after)
    before, after, sb, sa = before[ok_b], after[ok_a], sb[ok_b], sa[ok_a]
    stat = statistic(kind)
    vb = float(stat(before)) if before.size else None
    va = float(stat(after)) if after.size else None
    diff = va - vb if va is not None and vb is not None else None
    lo, hi, p = _tested(before, after, kind, name, seed=seed, resamples=resamples, confidence=confidence)
    adj = _adjusted(before, after, sb, sa, kind, fixed_by_stratum=fixed_by_stratum, by=by, label=label)
    relative = diff / vb if diff is not None and vb else None
    return KpiComparison(
        kpi=name,
        label=label,
        unit=unit,
        before=vb,
        after=va,
        difference=diff,
        relative=relative,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        test=f"{_TESTS[kind]}: interval and p-value from the same {resamples:,} replicates",
        n_before=int(before.size),
        n_after=int(after.size),
        adjusted_after=adj.after,
        adjusted_difference=adj.difference,
        method=method,
        difference_unit=_difference_unit(unit),
        difference_label=difference_words(diff, unit),
        relative_label=relative_words(relative),
        adjusted_before=adj.before,
        adjusted_coverage=adj.coverage,
        adjustment=adj.state,
        adjustment_note=adj.note,
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
    lo, hi, p = _tested(b, a, "mean", name, seed=seed, resamples=resamples, confidence=confidence)
    relative = diff / vb if diff is not None and vb else None
    return KpiComparison(
        kpi=name,
        label=label,
        unit="cases per period",
        before=vb,
        after=va,
        difference=diff,
        relative=relative,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        test=f"bootstrap of the difference of the per-period means: interval and p-value from the same "
        f"{resamples:,} replicates",
        n_before=int(b.size),
        n_after=int(a.size),
        adjusted_after=None,
        adjusted_difference=None,
        method=method,
        difference_unit="cases per period",
        difference_label=difference_words(diff, "cases per period"),
        relative_label=relative_words(relative),
        adjustment="not computed",
        adjustment_note="Volumes are whole periods, not cases: there is no case mix to adjust.",
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
        note = (
            f"The case mix by {by} did not shift detectably (chi-square p = {p:.2g}; a shift is flagged "
            f"below {MIX_ALPHA:g})."
        )
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


def _cut_short(facts: CaseFacts, after: np.ndarray) -> tuple[float, float] | None:
    """The after-cases' expected share still running at the window's end, and their shortest follow-up.

    A case that started ``f`` seconds before the end could only be seen to take
    up to ``f``; under the durations of the complete cases before the change, it
    would take longer with the probability that they exceed ``f``.  The mean of
    that over the after-cases is the share whose durations the export cuts
    short, were the process unchanged: a fall of the 90th percentile of about
    that size is the export's, not the process's.
    """
    if facts.end_local is None or not after.any():
        return None
    before = facts.cycle[facts.complete & ~after]
    if np.isnan(before).all():
        return None
    follow = np.maximum(facts.end_local - facts.first_local[after], 0.0)
    return float(still_running(before, follow).mean()), float(follow.min())


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
    stratify: str | None = None,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    stratum: Stratum | None = None,
) -> Comparison:
    """Each KPI of ``series`` before and after ``change_date`` (see the module docstring).

    ``stratum`` is the :func:`case_stratum` of ``facts`` under ``stratify``, when the caller kept it from
    an earlier comparison of the same cases (it does not depend on the change date).

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
    found = stratum if stratum is not None else case_stratum(store, facts, stratify)
    by, chosen, labels, index = found.by, found.chosen, list(found.labels), found.index
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
                by=by,
                fixed_by_stratum=by == "variant" and name in VARIANT_FIXED,
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
    full = [p for p in series.periods if not p.cut]
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
    mix = dataclasses.replace(_mix(labels, index, after, by), chosen=chosen)
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
    cut = _cut_short(facts, after)
    open_warned = bool(n_after and open_after / n_after > OPEN_WARNING)
    if cut is not None and cut[0] > CUT_SHORT_WARNING and not open_warned:
        warnings.append(
            f"The newest case that started after the change has had {format_duration(cut[1])} to finish by the "
            f"data end; at the durations seen before the change, {cut[0]:.0%} of the cases after it would still "
            "be running then. Durations after the change, the 90th percentile most, are cut short by the "
            "export's end and will look shorter than they turn out."
        )
    biased = np.zeros(facts.n, dtype=bool)
    cut_starts = {
        p.start for p in series.periods if "began before the export" in p.cut or "no case completes" in p.cut
    }
    if cut_starts:
        biased = np.array([d in cut_starts for d in facts.p_start], dtype=bool)
    for side, mask in (("before", ~after), ("after", after)):
        n_side, n_biased = int(mask.sum()), int((biased & mask).sum())
        if n_side and n_biased / n_side > OPEN_WARNING:
            warnings.append(
                f"{n_biased:,} of the {n_side:,} cases {side} the change ({n_biased / n_side:.0%}) started in "
                "periods the export cuts (they began before it, or are in it only because they ran long): "
                f"the figures {side} the change are biased by the export, not only by the process."
            )
    for k in out:
        if k.unit != "cases per period" and min(k.n_before, k.n_after) < FEW_CASES:
            warnings.append(
                f"{k.label}: only {k.n_before} cases before and {k.n_after} after; "
                "the interval is wide and the test weak."
            )
    if not before_p or not after_p:
        warnings.append(
            "No whole period that the export does not cut lies on one side of the change: "
            "volumes are not compared."
        )
    change_at = change_instant(change_date, facts.timezone)
    method = (
        f"Cases are split by their first event: before or from {change_date.isoformat()} 00:00 "
        f"({facts.timezone}). Differences are after minus before (a difference of rates in percentage points, "
        f"a relative change in percent); each statistic is tested by its own bootstrap: {resamples:,} resamples "
        f"of the cases on each side (seed {seed}; a resample's median or p90 is drawn from the order statistics "
        "it would have, and a mean over more than ten million draws from its normal bootstrap distribution) "
        f"give the {confidence:.0%} percentile interval and the two-sided p-value, which is below "
        f"{1 - confidence:.2g} exactly when the interval leaves 0 out. Mix-adjusted values compare the strata "
        f"({by}) that have cases on both sides, the after-cases reweighted to the before shares; a chi-square "
        f"test on the strata counts flags a shift at p < {MIX_ALPHA}. {chosen}"
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
        cut_short=None if cut is None else cut[0],
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
