"""One monitoring run: KPIs per period, before/after, control charts, alerts, and the stored record.

:func:`monitor` computes everything from a read-only store; :func:`save_run`
then records the result in ``monitor_runs`` under a key that hashes the log,
its ingest batches and every parameter, so running again on the same data
stores nothing new and gives the same bytes (:func:`run_json`).

Control charts and alerts
-------------------------
Every KPI series is charted with :mod:`mining.monitor.spc`: an I-MR chart for
durations, costs, ratios and volumes, a p-chart for rates (rework over the
complete cases, SLA breaches over the decided ones).  Points are the periods;
a point has no value (and is skipped by the rules) when

* the KPI is a volume (started, completed, work in progress) and the period is
  only partly covered by the data: a partial week holds fewer cases;
* the KPI is measured on complete cases and more than 10 % of the cases that
  started in the period are still open: its figures would flatter it, since
  the long cases are the ones still running.

With a change date the limits come from the periods wholly before it (at
least five judged points; otherwise from all points), and the later points are
judged against them.

An **alert** is raised for each signal of a Nelson rule on an I or p chart
that completes on the newest judged point of the chart: the period a
scheduled run has just closed (for case measures, the newest period whose
cases are known well enough).  Older signals are history, shown in the charts;
a sustained shift after a change date shows in the before/after comparison and
alerted when it first completed a rule.  Moving-range signals are shown but
do not alert.  With ``max_breach_rate``, an SLA breach rate above it on the
newest judged period alerts too.  A run whose data did not move judges the
same newest point, so it repeats the same alerts: the run is idempotent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.durations import format_duration
from mining.errors import MonitorError, Option, phrase
from mining.monitor.compare import Comparison, compare
from mining.monitor.periods import (
    CaseMeasure,
    KpiInfo,
    PeriodKPIs,
    PeriodSeries,
    case_facts,
    summarize,
)
from mining.monitor.spc import Capability, ControlChart, capability, imr_chart, p_chart
from mining.schema import QualityIssue, to_jsonable

if TYPE_CHECKING:
    from mining.conformance.rules import Rule, RuleResult
    from mining.models import ProcessModel
    from mining.monitor.lean import LeanView
    from mining.rates import RateCard
    from mining.store import Store

__all__ = [
    "MIN_BASELINE",
    "OPEN_SHARE_LIMIT",
    "Alert",
    "KpiChart",
    "MonitorOptions",
    "MonitorRun",
    "StoredRun",
    "conformance_measures",
    "format_value",
    "load_run",
    "monitor",
    "period_label",
    "rule_measures",
    "run_json",
    "run_key",
    "save_run",
    "stored_runs",
]

#: Periods with a larger share of their started cases still open are not charted for case measures.
OPEN_SHARE_LIMIT = 0.10
#: Judged points needed before the change date to take the limits from them.
MIN_BASELINE = 5
#: Bumped when the computation changes, so old stored runs never pass for new ones.
RUN_VERSION = 1

_RUNS_SQL = "SELECT run_id, content_hash, events_added FROM ingest_runs WHERE log_id = ? ORDER BY run_id"


@dataclass(frozen=True)
class MonitorOptions:
    """What to monitor and how; every field enters the run's key.

    ``sla_seconds`` is an elapsed-time limit on the cycle time;
    ``max_breach_rate`` (0-1) alerts when the SLA breach rate exceeds it;
    ``end_activities`` overrides the learned ones; ``stratify`` is
    ``"variant"`` or a case attribute's name.
    """

    period: str = "week"
    change_date: dt.date | None = None
    sla_seconds: float | None = None
    max_breach_rate: float | None = None
    cost_per_hour: float | RateCard | None = None  # one rate for all, or a rate card
    end_activities: tuple[str, ...] = ()
    stratify: str = "variant"
    calendar: Calendar | None = None
    timezone: str | None = None
    confidence: float = 0.95
    resamples: int = 1000
    seed: int = 0
    lean: bool = True

    def __post_init__(self) -> None:
        if self.max_breach_rate is not None:
            if self.sla_seconds is None:
                msg = phrase("a maximum SLA breach rate needs an SLA (", Option("sla", "DURATION"), ")")
                raise MonitorError(msg)
            if not 0 <= self.max_breach_rate <= 1:
                msg = (
                    f"the maximum SLA breach rate must be a share between 0 and 1, got {self.max_breach_rate}"
                )
                raise MonitorError(msg)


@dataclass(frozen=True)
class KpiChart:
    """The control chart of one KPI over the periods (``None`` points are not judged)."""

    kpi: str
    label: str
    unit: str
    chart: ControlChart
    moving_range: ControlChart | None
    note: str


@dataclass(frozen=True)
class Alert:
    """A rule that fired on a judged period, in one sentence."""

    kpi: str
    label: str
    rule: str  # "nelson-1" ... "nelson-8", or "max-breach-rate"
    rule_name: str
    period: dt.date
    period_label: str
    value: float | None
    direction: str  # "up", "down" or "mixed"
    assessment: str  # "worse", "better" or "changed"
    sentence: str


@dataclass(frozen=True)
class MonitorRun:
    """Everything one monitoring run found; :func:`run_json` is its stored and printed form."""

    key: str
    log: str
    log_id: int
    ingest_runs: int
    options: MonitorOptions
    filters: tuple[str, ...]
    quality: tuple[QualityIssue, ...]
    series: PeriodSeries
    comparison: Comparison | None
    charts: tuple[KpiChart, ...]
    alerts: tuple[Alert, ...]
    capability: Capability | None
    rules: tuple[RuleResult, ...]
    lean: LeanView | None
    notes: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class StoredRun:
    """One row of ``monitor_runs``."""

    key: str
    log_id: int
    alerts: int
    created_at: dt.datetime


# -- labels and values -----------------------------------------------------------


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_label(start: dt.date, period: str) -> str:
    """``2025-07-07`` (day), ``week of 2025-07-07`` or ``July 2025`` (month, in English whatever the locale)."""
    if period == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if period == "week":
        return f"week of {start.isoformat()}"
    return start.isoformat()


def format_value(value: float | None, unit: str) -> str:
    """A KPI value for people: durations as ``3d 04h``, shares as percentages, counts as integers."""
    if value is None:
        return "-"
    if unit == "seconds":
        return format_duration(value)
    if unit in {"share", "ratio"}:
        return f"{value:.1%}"
    if unit == "cases":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "cases per period":
        return f"{value:,.1f}"
    return f"{value:,.2f}"


# -- charts and alerts ---------------------------------------------------------


def _judged(kpi: KpiInfo, p: PeriodKPIs) -> bool:
    if kpi.kind == "count":
        return not p.partial
    return not (p.started and p.open / p.started > OPEN_SHARE_LIMIT)


def _baseline(
    series: PeriodSeries, present: Sequence[bool], change: dt.date | None
) -> tuple[int | None, str]:
    if change is None:
        return None, "limits from all judged periods"
    n_before = sum(1 for p in series.periods if p.end <= change)
    judged = sum(1 for p, ok in zip(series.periods[:n_before], present, strict=False) if ok)
    if judged >= MIN_BASELINE:
        return n_before, f"limits from the {judged} judged periods before {change.isoformat()}"
    return None, (
        f"only {judged} judged periods before {change.isoformat()} (fewer than {MIN_BASELINE}): "
        "limits from all judged periods"
    )


def _chart(series: PeriodSeries, kpi: KpiInfo, change: dt.date | None, labels: list[str]) -> KpiChart | None:
    periods = series.periods
    judged = [_judged(kpi, p) for p in periods]
    if kpi.kind == "rate":
        defects, sizes = _rate_counts(kpi, periods, judged)
        present = [s > 0 for s in sizes]
        base, how = _baseline(series, present, change)
        if sum(sizes[: base if base is not None else len(sizes)]) == 0:
            return None
        chart = p_chart(defects, sizes, baseline=base, labels=labels)
        return KpiChart(kpi.name, kpi.label, kpi.unit, chart, None, how)
    values = [p.value(kpi.name) if ok else None for p, ok in zip(periods, judged, strict=True)]
    present = [v is not None for v in values]
    base, how = _baseline(series, present, change)
    if sum(present[: base if base is not None else len(present)]) < 2:
        return None
    i_chart, mr_chart = imr_chart(values, baseline=base, labels=labels)
    return KpiChart(kpi.name, kpi.label, kpi.unit, i_chart, mr_chart, how)


def _rate_counts(
    kpi: KpiInfo, periods: Sequence[PeriodKPIs], judged: Sequence[bool]
) -> tuple[list[int], list[int]]:
    defects, sizes = [], []
    for p, ok in zip(periods, judged, strict=True):
        if kpi.name == "rework_rate":
            d, n = p.rework_cases, p.started - p.open - p.stalled
        elif kpi.name == "sla_breach_rate":
            d, n = p.sla_breaches, p.sla_decided
        else:
            key = kpi.name[len("extra.") :]
            n = p.extra_n.get(key, 0)
            mean = p.extra.get(key)
            d = round((mean or 0.0) * n)
        defects.append(d if ok else 0)
        sizes.append(n if ok else 0)
    return defects, sizes


def _direction(chart: ControlChart, rule: int, points: Sequence[int], index: int) -> str:
    if rule == 3:
        first, last = chart.values[points[0]], chart.values[points[-1]]
        if first is not None and last is not None:
            return "up" if last > first else "down"
    if rule in {4, 7, 8}:
        return "mixed"
    value = chart.values[index]
    if value is None or value == chart.center:
        return "mixed"
    return "up" if value > chart.center else "down"


def _assessment(kpi: KpiInfo, direction: str) -> str:
    if kpi.lower_is_better is None or direction == "mixed":
        return "changed"
    worse = (direction == "up") == kpi.lower_is_better
    return "worse" if worse else "better"


def _in(label: str) -> str:
    """``in the week of ...``, ``in July 2025``, ``on 2025-07-07``."""
    if label.startswith("week"):
        return f"in the {label}"
    return f"on {label}" if label[:1].isdigit() else f"in {label}"


def _alerts(
    series: PeriodSeries,
    charts: Sequence[KpiChart],
    labels: list[str],
    max_breach_rate: float | None,
) -> list[Alert]:
    periods = series.periods
    out: list[Alert] = []
    for kc in charts:
        kpi = series.kpi(kc.kpi)
        present = [i for i, v in enumerate(kc.chart.values) if v is not None]
        newest = present[-1] if present else None
        seen: set[tuple[int, int]] = set()
        for s in kc.chart.signals:
            if s.index != newest or (s.rule, s.index) in seen:
                continue
            seen.add((s.rule, s.index))
            direction = _direction(kc.chart, s.rule, s.points, s.index)
            assessment = _assessment(kpi, direction)
            value = kc.chart.values[s.index]
            verdict = {"worse": "worse than usual", "better": "better than usual", "changed": "unusual"}[
                assessment
            ]
            sentence = (
                f"{kpi.label} {_in(labels[s.index])} is {verdict} "
                f"({format_value(value, kpi.unit)} against a center of "
                f"{format_value(kc.chart.center, kpi.unit)}); Nelson rule {s.rule}, {s.name}: "
                f"{s.description}"
            )
            out.append(
                Alert(
                    kpi.name,
                    kpi.label,
                    f"nelson-{s.rule}",
                    s.name,
                    periods[s.index].start,
                    labels[s.index],
                    value,
                    direction,
                    assessment,
                    sentence,
                )
            )
    if max_breach_rate is not None:
        kpi = series.kpi("sla_breach_rate")
        judged = [i for i, p in enumerate(periods) if p.sla_breach_rate is not None and _judged(kpi, p)]
        rate = periods[judged[-1]].sla_breach_rate if judged else None
        if rate is not None and rate > max_breach_rate:
            i = judged[-1]
            sentence = (
                f"SLA breach rate {_in(labels[i])} is {rate:.1%} "
                f"({periods[i].sla_breaches:,} of {periods[i].sla_decided:,} decided cases over "
                f"{format_duration(series.sla_seconds)}), above the maximum of {max_breach_rate:.1%}."
            )
            out.append(
                Alert(
                    kpi.name,
                    kpi.label,
                    "max-breach-rate",
                    "SLA breach rate above the maximum",
                    periods[i].start,
                    labels[i],
                    rate,
                    "up",
                    "worse",
                    sentence,
                )
            )
    kpi_order = {k.name: i for i, k in enumerate(series.kpis)}
    out.sort(key=lambda a: (a.period, kpi_order[a.kpi], a.rule))
    return out


# -- a documented model ----------------------------------------------------------


def conformance_measures(
    store: Store, log_id: int, model: ProcessModel, flt: Filter | None = None
) -> dict[str, CaseMeasure]:
    """Each case's alignment fitness against ``model``, and whether it deviates, as two plug-in measures.

    Alignments run once per variant (:func:`mining.conformance.check.conform`,
    no budget: a monitor needs every case judged), so every case of a variant
    gets that variant's fitness.
    """
    from mining.conformance.check import conform

    result = conform(store, log_id, model, flt, method="alignments", precision=False)
    by_variant: dict[int, tuple[float, bool]] = {}
    for check in result.variants:
        if check.aligned and check.fitness is not None:
            for vid in check.stored_variant_ids:
                by_variant[vid] = (check.fitness, bool(check.fits))
    rows = store.query(
        "SELECT case_no, variant_id FROM cases WHERE log_id = ? ORDER BY case_no", [log_id]
    ).rows
    fitness = {int(c): by_variant[v][0] for c, v in rows if v in by_variant}
    deviating = {int(c): 0.0 if by_variant[v][1] else 1.0 for c, v in rows if v in by_variant}
    about = f"the model {model.name!r}, aligned once per variant ({result.engine})"
    return {
        "conformance_fitness": CaseMeasure(
            label="Conformance fitness",
            values=fitness,
            kind="mean",
            unit="fitness",
            lower_is_better=False,
            method=f"Mean alignment fitness of the complete cases started in the period, against {about}.",
        ),
        "deviating_cases": CaseMeasure(
            label="Cases deviating from the model",
            values=deviating,
            kind="rate",
            unit="share",
            method=f"Share of the complete cases started in the period whose alignment against {about} "
            "has a log or model move.",
        ),
    }


# -- rules -----------------------------------------------------------------------


def rule_measures(
    store: Store,
    log_id: int,
    rules: Sequence[Rule],
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> tuple[dict[str, CaseMeasure], tuple[RuleResult, ...]]:
    """Each rule's per-case outcome as a 0/1 violation measure, and the rules' overall results.

    A case counts as 1 when it violates the rule and 0 when it satisfies it;
    cases where the rule does not apply, cannot be judged or is pending have
    no value, as in the rule's own rate.
    """
    from mining.conformance.rules import check_rules, outcomes_sql

    results = check_rules(store, log_id, rules, flt, calendar=calendar)
    measures: dict[str, CaseMeasure] = {}
    for i, rule in enumerate(rules, start=1):
        o = outcomes_sql(store, log_id, rule, flt, calendar=calendar)
        rows = store.query(
            f"SELECT case_no, outcome FROM ({o.sql}) o WHERE outcome IN ('violated', 'satisfied') ORDER BY case_no",
            o.params,
        ).rows
        measures[f"rule_{i}"] = CaseMeasure(
            label=f"Violations of “{rule.name}”",
            values={int(case_no): 1.0 if outcome == "violated" else 0.0 for case_no, outcome in rows},
            kind="rate",
            unit="share",
            method=(
                f"Share of the complete cases started in the period that violate the rule “{rule.name}”, "
                "among those where it applies and can be judged."
            ),
        )
    return measures, results


# -- the run ---------------------------------------------------------------------


def _options_json(o: MonitorOptions) -> dict[str, Any]:
    out = to_jsonable(dataclasses.replace(o, calendar=None))
    out["change_date"] = o.change_date.isoformat() if o.change_date else None
    cal = o.calendar
    out["calendar"] = (
        None
        if cal is None
        else {
            "label": cal.label(),
            "timezone": cal.timezone,
            "workdays": list(cal.workdays),
            "hours": [str(h) for h in cal.window()],
            "country": cal.country,
            "subdivision": cal.subdivision,
            "closed_days": [d.isoformat() for d in cal.closed_days],
        }
    )
    return out


def _measures_json(measures: Mapping[str, CaseMeasure]) -> list[Any]:
    out = []
    for key in sorted(measures):
        m = measures[key]
        digest = hashlib.sha256(
            json.dumps(sorted((str(k), float(v)) for k, v in m.values.items())).encode()
        ).hexdigest()
        out.append([key, m.label, m.kind, m.unit, m.method, m.lower_is_better, digest])
    return out


def run_key(
    store: Store,
    log_id: int,
    flt: Filter | None,
    options: MonitorOptions,
    measures: Mapping[str, CaseMeasure] | None = None,
    rules: Sequence[Rule] = (),
) -> str:
    """The run's identity: a hash of the log, its ingest batches and every parameter."""
    batches = [[int(r), str(h), int(n)] for r, h, n in store.query(_RUNS_SQL, [log_id]).rows]
    payload = {
        "version": RUN_VERSION,
        "log_id": log_id,
        "ingest_runs": batches,
        "options": _options_json(options),
        "filter": to_jsonable(flt or Filter()),
        "measures": _measures_json(measures or {}),
        # A rule is its name and its text: where it was read from does not matter.
        "rules": [[r.name, r.text] for r in rules],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def monitor(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    options: MonitorOptions | None = None,
    *,
    measures: Mapping[str, CaseMeasure] | None = None,
    rules: Sequence[Rule] = (),
    memo: MutableMapping[Hashable, Any] | None = None,
) -> MonitorRun:
    """Monitor a stored log: KPIs per period, before/after, control charts and alerts.

    ``measures`` plugs in extra per-case measures (see
    :class:`~mining.monitor.periods.CaseMeasure`); ``rules`` adds the
    violation rate of each declarative rule as one.  Reads only.

    ``memo`` keeps the two costly stages for the next run on the same
    data: the case facts (one pass over the events, whatever the period,
    change date or SLA) and the Lean view.  The caller owns it and must
    drop it when the workspace changes; it is used only without measures
    and rules, which are not hashable inputs.

    Examples
    --------
    >>> opts = MonitorOptions(period="week", change_date=dt.date(2025, 7, 1), sla_seconds=5 * 86400)  # doctest: +SKIP
    >>> run = monitor(store, log_id, options=opts)                                                    # doctest: +SKIP
    >>> run.comparison.get("cycle_median_s").relative, [a.sentence for a in run.alerts]               # doctest: +SKIP
    """
    from mining.catalog import quality

    opts = options or MonitorOptions()
    name = store.scalar("SELECT name FROM logs WHERE log_id = ?", [log_id])
    if name is None:
        msg = f"no log with id {log_id} in the workspace"
        raise MonitorError(msg)
    all_measures = dict(measures or {})
    rule_results: tuple[RuleResult, ...] = ()
    found: dict[str, CaseMeasure] = {}
    if rules:
        found, rule_results = rule_measures(store, log_id, rules, flt, calendar=opts.calendar)
        clash = sorted(set(found) & set(all_measures))
        if clash:
            msg = f"measure names {clash} are taken by the rules; rename the plugged-in measures"
            raise MonitorError(msg)
        all_measures.update(found)
    key = run_key(store, log_id, flt, opts, measures, rules)
    if all_measures:
        memo = None
    facts = _kept(
        memo,
        ("facts", log_id, flt, opts.calendar, opts.timezone, opts.cost_per_hour, opts.end_activities),
        lambda: case_facts(
            store,
            log_id,
            flt,
            period=opts.period,
            calendar=opts.calendar,
            timezone=opts.timezone,
            cost_per_hour=opts.cost_per_hour,
            end_activities=opts.end_activities,
            measures=all_measures,
        ),
    )
    if facts.period != opts.period:
        facts = facts.at_period(opts.period)
    if facts.n == 0:
        msg = f"log {name!r} has no cases" + (" that pass the filter" if flt and not flt.is_empty else "")
        raise MonitorError(msg)
    series = summarize(facts, sla_seconds=opts.sla_seconds)
    comparison = None
    if opts.change_date is not None:
        comparison = compare(
            store,
            facts,
            series,
            opts.change_date,
            stratify=opts.stratify,
            confidence=opts.confidence,
            resamples=opts.resamples,
            seed=opts.seed,
        )
    labels = [period_label(p.start, opts.period) for p in series.periods]
    charts = []
    notes = []
    for kpi in series.kpis:
        if kpi.name in {"open", "stalled"}:
            continue
        chart = _chart(series, kpi, opts.change_date, labels)
        if chart is None:
            notes.append(f"{kpi.label}: too few judged periods for a control chart.")
        else:
            charts.append(chart)
    alerts = _alerts(series, charts, labels, opts.max_breach_rate)
    cap = None
    if opts.sla_seconds is not None:
        cycles = facts.cycle[facts.complete]
        if cycles.size >= 2:
            cap = capability([float(x) for x in cycles], usl=opts.sla_seconds)
    lean = None
    if opts.lean:
        from mining.monitor.lean import lean_view

        deviating = None
        if rules:
            # A case that violates any rule deviates; the Lean view prices its extra lead time.
            hit = np.zeros(facts.n, dtype=bool)
            for measure_key in found:
                hit |= facts.extra[measure_key] == 1.0
            deviating = [facts.case_id[i] for i in np.flatnonzero(hit).tolist()]
        lean = _kept(
            memo,
            ("lean", log_id, flt, opts.calendar, opts.cost_per_hour),
            lambda: lean_view(
                store,
                log_id,
                flt,
                calendar=opts.calendar,
                cost_per_hour=opts.cost_per_hour,
                deviating_cases=deviating,
            ),
        )
    batches = len(store.query(_RUNS_SQL, [log_id]).rows)
    return MonitorRun(
        key=key,
        log=str(name),
        log_id=log_id,
        ingest_runs=batches,
        options=opts,
        filters=tuple((flt or Filter()).chips()),
        quality=tuple(quality(store, log_id)),
        series=series,
        comparison=comparison,
        charts=tuple(charts),
        alerts=tuple(alerts),
        capability=cap,
        rules=rule_results,
        lean=lean,
        notes=tuple(notes),
        method=_METHOD,
    )


def _kept(memo: MutableMapping[Hashable, Any] | None, key: Hashable, compute: Callable[[], Any]) -> Any:
    if memo is None:
        return compute()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


_METHOD = (
    "Control charts: I-MR charts for durations, costs, ratios and volumes, p-charts for rates; limits at 3 sigma "
    "(see each chart's note). A period is not judged for a volume when the data cover it only partly, and not "
    f"for a case measure when more than {OPEN_SHARE_LIMIT:.0%} of its cases are still open. With a change date "
    f"the limits come from the periods before it (at least {MIN_BASELINE} judged). An alert is a Nelson-rule "
    "signal on an I or p chart that completes on the chart's newest judged period; moving-range signals do "
    "not alert."
)


def run_json(run: MonitorRun) -> str:
    """The run as JSON text: stable key order, no timestamps of its own, the same bytes for the same run."""
    s = run.series
    data = {
        "log": run.log,
        "key": run.key,
        "window": {"first": s.first, "as_of": s.as_of, "cases": s.cases, "ingest_runs": run.ingest_runs},
        "period": s.period,
        "timezone": s.timezone,
        "calendar": s.calendar,
        "sla_seconds": s.sla_seconds,
        "cost_source": s.cost_source,
        "filters": list(run.filters),
        "options": _options_json(run.options),
        "completeness": s.completeness,
        "kpis": s.kpis,
        "periods": s.periods,
        "comparison": run.comparison,
        "charts": run.charts,
        "alerts": run.alerts,
        "capability": run.capability,
        "rules": run.rules,
        "lean": _rounded(to_jsonable(run.lean)),
        "quality": run.quality,
        "notes": list(run.notes),
        "note": s.note,
        "method": run.method,
    }
    return json.dumps(_plain(to_jsonable(data)), ensure_ascii=False, indent=2, allow_nan=False)


def _rounded(value: Any, digits: int = 12) -> Any:
    """Floats to ``digits`` significant digits: the Lean view sums DOUBLEs in parallel SQL, whose last bits
    may differ from run to run; the stored run must not."""
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{digits}g}")
    return value


def _plain(value: Any) -> Any:
    """Dates and any remaining non-JSON scalars as text; NaN as null."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- stored runs ---------------------------------------------------------------------


def save_run(store: Store, run: MonitorRun, *, text: str | None = None) -> bool:
    """Record ``run`` in ``monitor_runs`` unless its key is there; return whether a row was added.

    ``store`` must be open for writing; the run was computed beforehand, so
    the write is one short statement.
    """
    text = text if text is not None else run_json(run)
    with store.transaction():
        if store.scalar("SELECT count(*) FROM monitor_runs WHERE run_key = ?", [run.key]):
            return False
        store.execute(
            "INSERT INTO monitor_runs VALUES (?, ?, ?, ?, ?, ?)",
            [
                run.key,
                run.log_id,
                json.dumps(_options_json(run.options), sort_keys=True),
                text,
                len(run.alerts),
                dt.datetime.now(dt.UTC),
            ],
        )
    return True


def stored_runs(store: Store, log_id: int | None = None) -> list[StoredRun]:
    """The stored runs, oldest first (of one log when ``log_id`` is given)."""
    sql = "SELECT run_key, log_id, alerts, created_at FROM monitor_runs"
    params: list[Any] = []
    if log_id is not None:
        sql += " WHERE log_id = ?"
        params.append(log_id)
    return [
        StoredRun(k, int(lid), int(n), at)
        for k, lid, n, at in store.query(sql + " ORDER BY created_at, run_key", params).rows
    ]


def load_run(store: Store, key: str) -> str | None:
    """The stored JSON of the run with ``key``, or ``None``."""
    return store.scalar("SELECT result FROM monitor_runs WHERE run_key = ?", [key])
