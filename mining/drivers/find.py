"""Root-cause drivers: which kinds of cases have a worse outcome, behind guards against false drivers.

**Outcomes** (one per case):

* ``duration``: the cycle time.  Open and stalled cases are censored (at the
  data end, or at their last event): medians are Kaplan-Meier medians over
  every case;
* ``sla:DURATION``: a breach of the limit on the elapsed cycle time, decided
  when the case completed or has already run past the limit;
* ``rework``: the case repeats an activity;
* ``deviation[:MODEL]``: the case's path deviates from the model (aligned
  once per variant), or without a model, from the common paths: the most
  frequent variants that together cover 80 % of the cases.

**The scan.**  Every value of every candidate (:mod:`mining.drivers.features`)
is compared with the rest of the cases on a yes/no outcome: breach, rework,
deviation, or for durations "slower than the median".  Only *judged* cases
count: for ``duration`` and ``sla`` those started at least the median (the
limit) before the data end, whose outcome is then always known; for
``rework`` the complete cases and the open ones that already looped; for
``deviation`` the complete cases.  The others are counted in the notes.

**Guards:**

* *leakage*: a candidate whose value is first filled at or after the moment
  the outcome is decided (the last event; the breach instant; the first
  repeat) in at least half of the cases is excluded and listed with the
  reason, and so is a candidate that is the outcome itself;
* *support*: a value needs at least ``min_cases`` judged cases and
  ``min_share`` of them, and so does the rest;
* *multiple testing*: two-proportion z-tests, Benjamini-Hochberg over every
  value tested, at ``alpha``;
* *confounding*: each driver is re-tested with each other attribute that has
  a significant value held fixed (Mantel-Haenszel risk difference over its
  values).  When the adjusted difference is no longer significant or falls
  to half or less, the driver is reported with ``confounded_by`` naming the
  attributes that explain it, after the unconfounded drivers; when it
  reverses significantly, it is flagged as a Simpson's paradox;
* *stability*: the difference must point the same way in the cases started in
  the first and in the second half of the period; values that do not are
  listed among the excluded.

**Ranking**: drivers known when a case starts, then mechanisms (what happens
during the case: hand-offs, loops, activities it contains), then confounded
drivers; each group by impact.

**Effect and impact** in the outcome's units: for durations the difference of
Kaplan-Meier medians (interval from the order statistics of each median,
combined), for rates the difference of rates (Wald interval).  ``impact`` is
how much the overall figure would improve if those cases did as well as the
rest: the drop of the overall breach (rework, deviation) rate, or of the
overall median when the group's durations are shortened by the effect.  With
a rate card, ``impact_cost`` is the money the group's cases cost beyond the
rest's average.  Every figure is an association, never proof of a cause.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.filters import Filter
from mining.analysis.performance import instances_sql
from mining.drivers.features import DATES, EMPTY, IDENTIFIER, Candidate, candidates
from mining.drivers.stats import Z95, benjamini_hochberg, mantel_haenszel, two_proportions
from mining.durations import duration_words, parse_duration
from mining.errors import AnalysisError, Option, phrase
from mining.monitor.periods import COMPLETE, case_facts, kaplan_meier_quantile, left_out_note
from mining.rates import format_money
from mining.store import numpy_column
from mining.words import agree, plural

if TYPE_CHECKING:
    from mining.conformance.labels import LabelMapping
    from mining.models.net import ProcessModel
    from mining.monitor.periods import CaseFacts
    from mining.rates import RateCard
    from mining.store import Store

__all__ = [
    "COMMON_PATHS",
    "OUTCOME_KINDS",
    "Driver",
    "DriverReport",
    "Excluded",
    "OutcomeInfo",
    "OutcomeSpec",
    "find_drivers",
    "parse_outcome",
]

OUTCOME_KINDS = ("duration", "sla", "rework", "deviation")
#: Without a model, the common paths are the most frequent variants covering this share of cases.
COMMON_PATHS = 0.8
#: A leak: the value is first filled at or after the decision in at least this share of cases.
LEAK_SHARE = 0.5
#: Candidate kinds known when a case starts: only these are held fixed when checking for confounding
#: (holding fixed what happens during the case, a mediator, would hide real effects).
AT_START = frozenset({"case attribute", "first event", "derived"})
#: A Simpson's paradox: within the strata the difference reverses, significantly and by at least this share
#: of the overall difference (a confounded effect that merely vanishes wobbles around 0).
SIMPSON_SHARE = 0.25
#: Cases a value needs in each half of the period for its stability to be judged.
HALF_CASES = 10


@dataclass(frozen=True)
class OutcomeSpec:
    """What is explained: ``kind`` in :data:`OUTCOME_KINDS`; the SLA limit in seconds; the model's file."""

    kind: str
    sla_seconds: float | None = None
    model: str | None = None

    @property
    def is_rate(self) -> bool:
        return self.kind != "duration"


def parse_outcome(text: str) -> OutcomeSpec:
    """``duration``, ``sla:5d``, ``rework``, ``deviation`` or ``deviation:model.bpmn``.

    Examples
    --------
    >>> parse_outcome("sla:2d").sla_seconds
    172800.0
    """
    kind, _, arg = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in OUTCOME_KINDS:
        msg = phrase(
            f"unknown outcome {text!r}; ",
            Option("outcome", "duration|sla:DURATION|rework|deviation[:MODEL]"),
            " names one of duration, sla:DURATION (e.g. sla:5d), rework, deviation or deviation:MODEL",
        )
        raise AnalysisError(msg)
    if kind == "sla":
        if not arg.strip():
            raise AnalysisError(phrase("an SLA outcome needs its limit: ", Option("outcome", "sla:5d")))
        seconds = parse_duration(arg.strip(), what="SLA limit", error=AnalysisError).total_seconds
        return OutcomeSpec("sla", sla_seconds=float(seconds))
    if arg and kind != "deviation":
        raise AnalysisError(f"the outcome {kind!r} takes no argument, got {text!r}")
    return OutcomeSpec(kind, model=arg.strip() or None)


@dataclass(frozen=True)
class OutcomeInfo:
    """The outcome explained: ``baseline`` is the overall median (seconds) or rate (share) of the judged cases."""

    kind: str
    definition: str
    cases: int
    baseline: float | None
    unit: str  # "seconds" or "share"
    judged: int


@dataclass(frozen=True)
class Driver:
    """One attribute value associated with a worse outcome (see the module docstring for each figure)."""

    attribute: str
    value: str
    cases: int
    share: float
    outcome_value: float | None
    rest_value: float | None
    effect: float | None
    ci: tuple[float | None, float | None]
    adjusted_effect: float | None
    confounded_by: tuple[str, ...]
    impact: float | None
    sentence: str
    kind: str  # of the candidate: case attribute, first event, derived, handled by, mechanism
    p_value: float
    q_value: float
    judged_cases: int
    simpson: bool = False
    simpson_by: tuple[str, ...] = ()
    adjusted_for: tuple[str, ...] = ()
    halves: tuple[float, float] = (math.nan, math.nan)
    impact_cost: float | None = None
    source: str | None = None

    @property
    def label(self) -> str:
        """``channel = Partner``; a range reads as one (``amount > 380``, ``age 50 to 60``)."""
        joiner = " " if _is_range(self.value) else " = "
        return f"{self.attribute}{joiner}{self.value}"


@dataclass(frozen=True)
class Excluded:
    """A candidate (or one of its values) left out by a guard, and why."""

    attribute: str
    reason: str
    value: str | None = None


@dataclass(frozen=True)
class DriverReport:
    """Drivers ranked by impact (unconfounded first), what was excluded and how it was computed."""

    outcome: OutcomeInfo
    drivers: tuple[Driver, ...]
    excluded: tuple[Excluded, ...]
    notes: tuple[str, ...]
    tested: int
    candidates: int
    currency: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Outcome:
    info: OutcomeInfo
    judged: np.ndarray  # bool per case
    bad: np.ndarray  # bool per case (meaningful where judged)
    decided_at: np.ndarray  # epoch seconds per case
    time: np.ndarray | None = None  # durations (censored where not observed)
    observed: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    curve: _Curve | None = None

    def __post_init__(self) -> None:
        if self.time is not None and self.observed is not None:
            self.curve = _Curve(self.time, self.observed)


def find_drivers(
    store: Store,
    log_id: int,
    outcome: OutcomeSpec | str,
    flt: Filter | None = None,
    *,
    model: ProcessModel | None = None,
    mapping: LabelMapping | None = None,
    rates: RateCard | None = None,
    alpha: float = 0.05,
    min_cases: int = 30,
    min_share: float = 0.01,
) -> DriverReport:
    """The drivers of ``outcome`` among the kept cases of a log (see the module docstring).

    ``model`` is the documented model for ``deviation:MODEL`` (read by the
    caller), its tasks matched to the log's activities by ``mapping`` (the one
    saved for the log and model) where names differ; ``rates`` prices the drivers' impact.

    Examples
    --------
    >>> report = find_drivers(store, log_id, "sla:5d")  # doctest: +SKIP
    >>> report.drivers[0].sentence  # doctest: +SKIP
    'Cases with channel = Partner breach the SLA in 41% vs 12% of the rest (n=512, ...'
    """
    spec = parse_outcome(outcome) if isinstance(outcome, str) else outcome
    if not 0 < alpha < 1:
        raise AnalysisError(f"the false-discovery rate must be between 0 and 1, got {alpha}")
    if min_cases < 1 or not 0 <= min_share < 1:
        raise AnalysisError("the minimum support must be at least 1 case and a share below 1")
    flt = flt or Filter()
    facts = case_facts(store, log_id, flt)
    if facts.n == 0:
        raise AnalysisError("no case is kept: there is nothing to explain", hint="widen the filter")
    out = _outcome(store, log_id, flt, facts, spec, model, mapping)
    found = candidates(store, log_id, flt, facts)
    left_out = {
        IDENTIFIER: "an identifier: a different value on every event, which no two cases share",
        DATES: "dates or times: no kind of case, and one set as a case closes would be a consequence",
    }
    excluded: list[Excluded] = [Excluded(c.attribute, left_out[c.kind]) for c in found if c.kind in left_out]
    cands = [_when_known(cand, facts) for cand in found if cand.kind not in left_out]
    usable: list[Candidate] = []
    for cand in cands:
        reason = _leak(cand, spec, out) or _named_outcome(cand)
        if reason:
            excluded.append(Excluded(cand.attribute, reason))
        else:
            usable.append(cand)

    # (candidate, code, n1, b1, judged cases and bad ones the value is compared within)
    rows: list[tuple[int, int, int, int, int, int]] = []
    for ci, cand in enumerate(usable):
        judged = out.judged if cand.scope is None else out.judged & cand.scope
        bad = out.bad & judged
        n_j, b_all = int(judged.sum()), int(bad.sum())
        k = len(cand.labels)
        n1 = np.bincount(cand.codes[judged], minlength=k)
        b1 = np.bincount(cand.codes[bad], minlength=k)
        for code in range(k):
            n0 = n_j - n1[code]
            if n1[code] >= min_cases and n1[code] >= min_share * n_j and n0 >= min_cases:
                rows.append((ci, code, int(n1[code]), int(b1[code]), n_j, b_all))
    notes = list(out.notes)
    if facts.left_out:
        notes.append(left_out_note(facts.left_out))
    drivers: list[Driver] = []
    if rows:
        arr = np.array(rows, dtype=np.int64)
        n1, b1, n_j, b_all = arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
        diff, _se, _z, p = two_proportions(b1, n1, b_all - b1, n_j - n1)
        q = benjamini_hochberg(p)
        significant = q <= alpha
        strong = sorted({int(arr[i, 0]) for i in np.flatnonzero(significant)})
        cost = _case_costs(store, log_id, flt, facts, rates) if rates is not None else None
        for i in np.flatnonzero(significant & (diff > 0)):
            ci, code = int(arr[i, 0]), int(arr[i, 1])
            driver, why = _driver(
                usable,
                ci,
                code,
                strong,
                out,
                facts,
                spec,
                float(p[i]),
                float(q[i]),
                float(diff[i]),
                cost,
                rates.currency if rates is not None else "",
            )
            if driver is None:
                excluded.append(Excluded(usable[ci].attribute, why, usable[ci].labels[code]))
            else:
                drivers.append(driver)
        tested = len(rows)
    else:
        tested = 0
    drivers.sort(key=_rank)
    notes += _notes(spec, tested, len(usable), alpha, min_cases, min_share, drivers, out)
    return DriverReport(
        outcome=out.info,
        drivers=tuple(drivers),
        excluded=tuple(excluded),
        notes=tuple(notes),
        tested=tested,
        candidates=len(usable),
        currency=rates.currency if rates is not None else "",
    )


def _rank(d: Driver) -> tuple[Any, ...]:
    """Drivers known at the start first, then mechanisms, then confounded ones; each by impact."""
    group = 2 if d.confounded_by else 1 if d.kind == "mechanism" else 0
    return (group, -(d.impact or 0.0), -d.cases, d.attribute, d.value)


# -- the outcome ---------------------------------------------------------------------


def _outcome(
    store: Store,
    log_id: int,
    flt: Filter,
    facts: Any,
    spec: OutcomeSpec,
    model: ProcessModel | None,
    mapping: LabelMapping | None = None,
) -> _Outcome:
    n = facts.n
    complete = facts.state == COMPLETE
    as_of = facts.as_of if facts.as_of is not None else float(np.max(facts.last))
    last = np.asarray(facts.last, float)
    first = np.asarray(facts.first, float)
    if spec.kind in {"duration", "sla"}:
        # A case of one event (or all at one instant) took no time: it has no duration to explain, and
        # counted as the fastest it would make "contains any second step" a driver. Censored at 0, it
        # leaves the medians as if it were not there.
        instant = last <= first
        complete = complete & ~instant
        time = np.where(complete, np.asarray(facts.cycle, float), facts.age())
        time = np.where(instant, 0.0, time)
        if spec.kind == "duration":
            median = kaplan_meier_quantile(time, complete)
            if median is None:
                raise AnalysisError(
                    "fewer than half of the cases are complete: their median duration is unknown"
                )
            limit = median
            definition = (
                "cycle time (first to last event); open cases are censored at the data end, stalled ones at their "
                f"last event. A case is judged slow when it takes longer than the median ({duration_words(median)})"
            )
        else:
            limit = float(spec.sla_seconds or 0.0)
            definition = f"SLA breach: cycle time longer than {duration_words(limit)}"
        followed = first <= as_of - limit
        bad = time > limit
        judged = followed & (complete | bad)
        decided_at = np.where(bad & (first + limit < last), first + limit, last)
        recent = int((~followed).sum())
        notes = []
        if instant.any():
            notes.append(
                f"{plural(int(instant.sum()), 'case')} of a single instant (one event, or all at one time) "
                f"{agree(int(instant.sum()), 'has', 'have')} no duration to explain: not judged, and left out of the medians."
            )
        if recent:
            notes.append(
                f"{plural(recent, 'case')} started less than {duration_words(limit)} before the data end, too recent to "
                "tell whether they will take longer: they count in the medians (as censored cases) but not in "
                "the rates and tests."
            )
        stalled = int((followed & ~complete & ~bad & ~instant).sum())
        if stalled:
            notes.append(
                f"{plural(stalled, 'stalled case')} stopped before the limit without completing: not judged."
            )
        if spec.kind == "duration":
            info = OutcomeInfo("duration", definition, n, float(limit), "seconds", int(judged.sum()))
        else:
            rate = float(bad[judged].mean()) if judged.any() else None
            info = OutcomeInfo("sla", definition, n, rate, "share", int(judged.sum()))
        return _Outcome(info, judged, bad, decided_at, time, complete, notes)
    if spec.kind == "rework":
        bad = np.asarray(facts.rework, bool)
        judged = complete | bad
        first_repeat = _first_repeat(store, log_id, flt, facts)
        decided_at = np.where(bad & ~np.isnan(first_repeat), first_repeat, last)
        definition = "rework: the case repeats an activity"
        notes = []
        if (~judged).any():
            notes.append(
                f"{plural(int((~judged).sum()), 'open or stalled case')} without a repeat yet not judged."
            )
        rate = float(bad[judged].mean()) if judged.any() else None
        return _Outcome(
            OutcomeInfo("rework", definition, n, rate, "share", int(judged.sum())),
            judged,
            bad,
            decided_at,
            notes=notes,
        )
    # deviation
    if spec.model is not None or model is not None:
        if model is None:
            raise AnalysisError(f"the model {spec.model!r} was not read")
        from mining.monitor.run import conformance_measures

        values = conformance_measures(store, log_id, model, flt, mapping=mapping)["deviating_cases"].values
        dev = np.array([values.get(int(c), np.nan) for c in facts.case_no.tolist()], dtype=float)
        definition = f"deviation: the case's path has a log or model move against the model {model.name!r}"
    else:
        ids, counts = np.unique(facts.variant_id, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        cum = np.cumsum(counts[order]) / counts.sum()
        keep = ids[order[: int(np.searchsorted(cum, COMMON_PATHS) + 1)]]
        dev = (~np.isin(facts.variant_id, keep)).astype(float)
        definition = (
            f"deviation: the case follows none of the common paths (the {len(keep)} most frequent variants, "
            f"covering {COMMON_PATHS:.0%} of the cases)"
        )
    judged = complete & ~np.isnan(dev)
    bad = np.nan_to_num(dev) > 0
    notes = []
    if (~complete).any():
        notes.append(
            f"{plural(int((~complete).sum()), 'open or stalled case')} not judged: their path may still change."
        )
    rate = float(bad[judged].mean()) if judged.any() else None
    info = OutcomeInfo("deviation", definition, n, rate, "share", int(judged.sum()))
    return _Outcome(info, judged, bad, last.copy(), notes=notes)


def _first_repeat(store: Store, log_id: int, flt: Filter, facts: Any) -> np.ndarray:
    inst = instances_sql(store, log_id, flt, starts=False)
    sql = (
        "SELECT case_no, epoch(min(en) FILTER (WHERE occ > 1)) AS t FROM ("
        "SELECT case_no, en, row_number() OVER (PARTITION BY case_no, unit ORDER BY en, row_no) AS occ "
        f"FROM ({inst.sql}) i) x GROUP BY case_no"
    )
    table = store.arrow(sql, inst.params)
    return facts.per_case(
        np.asarray(numpy_column(table.column("case_no"))), table.column("t").to_numpy(zero_copy_only=False)
    )


def _when_known(cand: Candidate, facts: CaseFacts) -> Candidate:
    """A case attribute first filled after the case's first event (in at least half of the cases where it
    is filled) is not known when the case starts: it tells how the case unfolds, a mechanism, and is
    neither ranked with the start drivers nor held fixed as a confounder. Filled at or after the decision
    it is a leak, which :func:`_leak` excludes."""
    if cand.kind != "case attribute" or cand.known_at is None:
        return cand
    filled = ~np.isnan(cand.known_at)
    if not filled.any():
        return cand
    later = cand.known_at[filled] > np.asarray(facts.first, float)[filled]
    return replace(cand, kind="mechanism") if later.mean() >= LEAK_SHARE else cand


#: Words of a column named for how a case ended (ServiceNow's closed_code and resolved_by, Jira's
#: Resolution, Zendesk's solved_at).  Exports repeat such a value on every row, the first included, so
#: the time a value was first filled cannot tell it was set as the case closed.
_OUTCOME_WORDS = frozenset(
    {"close", "closed", "closing", "closure", "resolve", "resolved", "resolution", "resolver", "solved"}
)


def _named_outcome(cand: Candidate) -> str | None:
    if cand.kind not in {"case attribute", "first event", "mechanism"} or not cand.source:
        return None
    words = set(re.split(r"[^a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", cand.source).lower()))
    if words & _OUTCOME_WORDS:
        return "named for how the case ended (set as it closes): a consequence of the outcome, not a cause"
    return None


_DECIDED = {
    "duration": "the moment the case became slow (or its last event)",
    "sla": "the breach (or the last event)",
    "rework": "the first repeated activity",
    "deviation": "the case's last event",
}


def _late_share(cand: Candidate, cases: np.ndarray, out: _Outcome) -> float | None:
    """The share of ``cases`` (judged, with a known time) whose value is known only once the outcome is."""
    assert cand.known_at is not None
    ok = cases & out.judged & ~np.isnan(cand.known_at)
    if not ok.any():
        return None
    return float((cand.known_at[ok] >= out.decided_at[ok]).mean())


def _leak(cand: Candidate, spec: OutcomeSpec, out: _Outcome) -> str | None:
    if spec.kind == "rework" and cand.attribute == "repeats an activity":
        return "it is the outcome itself (a repeated activity is rework)"
    if cand.known_at is None:
        return None
    share = _late_share(cand, np.ones(len(cand.codes), dtype=bool), out)
    if share is not None and share >= LEAK_SHARE:
        return (
            f"leakage: first filled at or after {_DECIDED[spec.kind]} in {share:.0%} of the judged cases, so it "
            "is known only once the outcome is decided (it may be a consequence, not a cause)"
        )
    return None


def _value_leak(cand: Candidate, group: np.ndarray, spec: OutcomeSpec, out: _Outcome) -> str | None:
    """The leak of one value of a candidate that passed :func:`_leak` as a whole: a person who mostly does
    the step that closes the case, or an activity that mostly ends the cases it occurs in."""
    if cand.known_at is None:
        return None
    share = _late_share(cand, group, out)
    if share is None or share < LEAK_SHARE:
        return None
    return (
        f"leakage: this value is known only at or after {_DECIDED[spec.kind]} in {share:.0%} of its judged "
        "cases, so it comes with the outcome (it may be a consequence, not a cause)"
    )


# -- one driver --------------------------------------------------------------------


def _driver(
    usable: Sequence[Candidate],
    ci: int,
    code: int,
    strong: Sequence[int],
    out: _Outcome,
    facts: Any,
    spec: OutcomeSpec,
    p: float,
    q: float,
    diff: float,
    cost: np.ndarray | None,
    currency: str = "",
) -> tuple[Driver | None, str]:
    cand = usable[ci]
    value = cand.labels[code]
    # A value is compared with the rest of the cases the candidate speaks of (its scope).
    scope = np.ones(len(cand.codes), dtype=bool) if cand.scope is None else cand.scope
    group = cand.codes == code
    rest = scope & ~group
    judged, bad = out.judged & scope, out.bad & out.judged & scope
    late = _value_leak(cand, group, spec, out)
    if late:
        return None, late

    # Stability: the same direction in both halves of the period (by start).
    first = np.asarray(facts.first, float)
    cut = float(np.median(first[judged]))
    halves = []
    for side in (judged & (first < cut), judged & (first >= cut)):
        g, r = side & group, side & rest
        if g.sum() < HALF_CASES or r.sum() < HALF_CASES:
            return None, (
                f"not enough cases in both halves of the period to check that it holds in both "
                f"(at least {HALF_CASES} needed on each side)"
            )
        halves.append(float(bad[g].mean() - bad[r].mean()))
    if not (halves[0] > 0 and halves[1] > 0):
        return None, (
            "unstable: the difference does not hold in both halves of the period "
            f"({halves[0]:+.1%} then {halves[1]:+.1%} in the rate of {_bad_words(spec)})"
        )

    # Confounding: held fixed, one at a time, each other attribute with a significant value.
    adjusted_rd = diff
    adjusted_for, confounded, simpson_by = [], [], []
    best: tuple[float, Candidate] | None = None
    for other in strong:
        o = usable[other]
        if other == ci or (o.source is not None and o.source == cand.source) or o.kind not in AT_START:
            continue
        rd, _se, z = mantel_haenszel(group[judged], bad[judged], o.codes[judged])
        if rd is None:
            continue
        adjusted_for.append(o.attribute)
        if z is not None and rd <= -SIMPSON_SHARE * diff and z <= -Z95:
            simpson_by.append(o.attribute)
        if z is None or z < Z95 or rd <= 0.5 * diff:
            confounded.append((rd, o.attribute))
        if best is None or rd < best[0]:
            best = (rd, o)
    if best is not None:
        adjusted_rd = best[0]
    confounded_by = tuple(a for _, a in sorted(confounded))

    n1 = int(group[judged].sum())
    n_j = int(judged.sum())
    if spec.kind == "duration":
        t, obs, km = out.time, out.observed, out.curve
        assert t is not None and obs is not None and km is not None
        m1 = km.quantile(group)
        m0 = km.quantile(rest)
        if m1 is None or m0 is None:
            return None, "its median (or the rest's) is unknown: too many of those cases are still open"
        effect = m1 - m0
        lo, hi = _median_diff_ci(km, group, rest, m1, m0)
        adjusted = effect if best is None else _stratified_median_diff(km, group, rest, best[1].codes)
        # A reversal of the slow-case rate must show in the medians too before it is called a paradox.
        by_name = {usable[o].attribute: usable[o] for o in strong}
        simpson_by = [
            b for b in simpson_by if (_stratified_median_diff(km, group, rest, by_name[b].codes) or 0.0) < 0
        ]
        baseline = out.info.baseline or 0.0
        shifted = t.copy()
        shifted[group] = np.maximum(t[group] - effect, 0.0)
        cf = kaplan_meier_quantile(shifted, obs)
        impact = None if cf is None else baseline - cf
        outcome_value, rest_value = m1, m0
    else:
        r1 = float(bad[group].sum() / max(n1, 1))
        r0 = float(bad[judged & rest].sum() / max(n_j - n1, 1))
        effect = r1 - r0
        se = math.sqrt(r1 * (1 - r1) / max(n1, 1) + r0 * (1 - r0) / max(n_j - n1, 1))
        lo, hi = effect - Z95 * se, effect + Z95 * se
        adjusted = adjusted_rd
        impact = n1 * effect / max(int(out.judged.sum()), 1)  # on the whole log's rate
        outcome_value, rest_value = r1, r0

    impact_cost = None
    if cost is not None:
        c = cost[judged & group & ~np.isnan(cost)]
        r = cost[judged & rest & ~np.isnan(cost)]
        if c.size and r.size:
            impact_cost = float(max(c.mean() - r.mean(), 0.0) * int((group & judged).sum()))

    driver = Driver(
        attribute=cand.attribute,
        value=value,
        cases=int(group.sum()),
        share=float(n1 / out.judged.sum()) if out.judged.any() else 0.0,
        outcome_value=outcome_value,
        rest_value=rest_value,
        effect=effect,
        ci=(lo, hi),
        adjusted_effect=adjusted,
        confounded_by=confounded_by,
        impact=impact,
        sentence="",
        kind=cand.kind,
        p_value=p,
        q_value=q,
        judged_cases=n1,
        simpson=bool(simpson_by),
        simpson_by=tuple(simpson_by),
        adjusted_for=tuple(adjusted_for),
        halves=(halves[0], halves[1]),
        impact_cost=impact_cost,
        source=cand.source,
    )
    return _with_sentence(driver, spec, out.info, currency), ""


class _Curve:
    """Kaplan-Meier quantiles of any subset of the cases, sorted once.

    The same rule as :func:`~mining.monitor.periods.kaplan_meier_quantile`
    (completions before censorings at equal durations); a subset keeps the
    global order, so no subset is sorted again.
    """

    def __init__(self, t: np.ndarray, observed: np.ndarray) -> None:
        self.order = np.lexsort((~observed, t))
        self.t = t[self.order]
        self.e = observed[self.order]
        self.ok = ~np.isnan(self.t)

    def quantile(self, mask: np.ndarray, q: float = 0.5) -> float | None:
        keep = mask[self.order] & self.ok
        d, e = self.t[keep], self.e[keep]
        if d.size == 0:
            return None
        at_risk = d.size - np.arange(d.size)
        survival = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
        hit = np.flatnonzero(e & (survival <= 1.0 - q + 1e-12))
        return float(d[hit[0]]) if hit.size else None


def _median_ci(km: _Curve, mask: np.ndarray) -> tuple[float | None, float | None]:
    """A distribution-free interval of a (Kaplan-Meier) median from the order statistics around it."""
    half = Z95 * 0.5 / math.sqrt(max(int(mask.sum()), 1))
    return km.quantile(mask, max(0.5 - half, 0.0)), km.quantile(mask, min(0.5 + half, 1.0))


def _median_diff_ci(
    km: _Curve, group: np.ndarray, rest: np.ndarray, m1: float, m0: float
) -> tuple[float | None, float | None]:
    """Interval of the difference of two medians: each median's interval turned into a standard error."""
    l1, h1 = _median_ci(km, group)
    l0, h0 = _median_ci(km, rest)
    if l1 is None or h1 is None or l0 is None or h0 is None:
        return None, None
    se = math.sqrt(((h1 - l1) / (2 * Z95)) ** 2 + ((h0 - l0) / (2 * Z95)) ** 2)
    d = m1 - m0
    return d - Z95 * se, d + Z95 * se


def _stratified_median_diff(
    km: _Curve, group: np.ndarray, rest: np.ndarray, strata: np.ndarray
) -> float | None:
    """The difference of medians within each stratum, averaged with Mantel-Haenszel weights."""
    num = den = 0.0
    for s in np.flatnonzero(np.bincount(strata)):  # the codes present (np.unique hashes: slower)
        inside = strata == s
        g, r = inside & group, inside & rest
        n1, n0 = int(g.sum()), int(r.sum())
        if n1 < 5 or n0 < 5:
            continue
        m1 = km.quantile(g)
        m0 = km.quantile(r)
        if m1 is None or m0 is None:
            continue
        w = n1 * n0 / (n1 + n0)
        num += w * (m1 - m0)
        den += w
    return num / den if den else None


def _case_costs(store: Store, log_id: int, flt: Filter, facts: Any, rates: RateCard) -> np.ndarray:
    from mining.costs import case_costs

    costs = case_costs(store, log_id, rates, flt)
    return facts.per_case(costs.case_no, costs.total)


# -- words -----------------------------------------------------------------------------


def _bad_words(spec: OutcomeSpec) -> str:
    return {"duration": "slow cases", "sla": "breaches", "rework": "rework", "deviation": "deviations"}[
        spec.kind
    ]


def _who(d: Driver) -> str:
    if d.kind == "handled by":
        return f"Cases whose {d.attribute} {d.value}"
    if d.attribute == "repeats an activity":
        return "Cases that repeat an activity" if d.value == "yes" else "Cases that repeat no activity"
    if d.attribute.startswith("contains ") and d.value in {"yes", "no"}:
        what = d.attribute[len("contains ") :]
        return f"Cases that contain {what}" if d.value == "yes" else f"Cases without {what}"
    if d.attribute == "hand-offs":
        return f"Cases with {d.value} hand-off{'' if d.value == '1' else 's'}"
    if d.value == EMPTY:
        return f"Cases without a value for {d.attribute}"
    return f"Cases with {d.label}"


def _is_range(value: str) -> bool:
    return value.startswith(("≤ ", "> ")) or " to " in value


def _longer(seconds: float) -> str:
    return f"{duration_words(seconds)} {'shorter' if seconds < 0 else 'longer'}"


def _duration_ci(lo: float | None, hi: float | None) -> str:
    """The 95% interval of a median difference in words: its bounds' signs are words, not dropped."""
    if lo is None or hi is None:
        return "no CI"
    if lo >= 0:
        return f"95% CI {duration_words(lo)} to {duration_words(hi)}"
    if hi <= 0:
        return f"95% CI {duration_words(hi)} to {duration_words(lo)} shorter"
    return f"95% CI from {_longer(lo)} to {_longer(hi)}, so possibly no difference"


def _with_sentence(d: Driver, spec: OutcomeSpec, info: OutcomeInfo, currency: str = "") -> Driver:
    import dataclasses

    lo, hi = d.ci
    # Who handled an activity is compared among the cases that do it.
    rest = (
        f"the other cases with {d.attribute.removesuffix(' handled by')}"
        if d.kind == "handled by"
        else "the rest"
    )
    if spec.kind == "duration":
        ci = _duration_ci(lo, hi)
        head = (
            f"{_who(d)} take a median {_longer(d.effect or 0.0)} than {rest} "
            f"({duration_words(d.outcome_value or 0.0)} vs {duration_words(d.rest_value or 0.0)}; n={d.cases}, {ci})"
        )
        tail = (
            f"if they matched the rest, the overall median would drop by {duration_words(d.impact)}"
            if d.impact is not None and d.impact > 0
            else "the overall median would barely move if they matched the rest"
        )
    else:
        verb = {"sla": "breach the SLA", "rework": "repeat work", "deviation": "deviate"}[spec.kind]
        head = (
            f"{_who(d)} {verb} in {d.outcome_value:.0%} of cases vs {d.rest_value:.0%} for {rest} "
            f"(n={d.judged_cases}, 95% CI of the difference {lo * 100:.0f} to {hi * 100:.0f} points)"
        )
        base = info.baseline or 0.0
        tail = f"if they matched the rest, the overall rate would drop from {base:.1%} to {base - (d.impact or 0):.1%}"
    if d.simpson:
        middle = (
            f"but within each {', '.join(d.simpson_by)} the difference reverses (a Simpson's paradox): "
            f"the overall difference comes from the mix of {', '.join(d.simpson_by)}"
        )
    elif d.confounded_by:
        shown = ", ".join(d.confounded_by[:3]) + (
            f" and {len(d.confounded_by) - 3} more" if len(d.confounded_by) > 3 else ""
        )
        middle = f"this is largely explained by {shown}: it shrinks or vanishes when that is held fixed"
    elif d.adjusted_for:
        shown = d.adjusted_for[:3]
        more = f" and {len(d.adjusted_for) - 3} more" if len(d.adjusted_for) > 3 else ""
        middle = f"this holds after accounting for {', '.join(shown)}{more}"
    else:
        middle = "no other attribute was strong enough to account for"
    text = f"{head}; {middle}; {tail}."
    if d.kind == "mechanism":
        text += " This describes how those cases unfold (a mechanism), not what they were from the start."
    if d.impact_cost:
        text += (
            f" Together they cost {format_money(d.impact_cost, currency)} more than if each cost the rest's "
            "average."
        )
    return dataclasses.replace(d, sentence=text)


def _notes(
    spec: OutcomeSpec,
    tested: int,
    candidates: int,
    alpha: float,
    min_cases: int,
    min_share: float,
    drivers: Sequence[Driver],
    out: _Outcome,
) -> list[str]:
    notes = [
        f"{plural(tested, 'value')} of {plural(candidates, 'candidate attribute')} had enough cases to test "
        f"(at least {min_cases} "
        f"judged cases and {min_share:.0%} of them, and as many in the rest); the false-discovery rate is held at "
        f"{alpha:.0%} over all of them (Benjamini-Hochberg).",
        "These are associations in the recorded data, not proven causes: a driver says which cases go worse, "
        "not why. Check a change with a before/after comparison (mining monitor --change-date).",
    ]
    if not drivers:
        notes.append(f"No driver: no value is associated with more {_bad_words(spec)} beyond chance.")
    return notes
