"""One monitoring run: KPIs per period, before/after, control charts, alerts, and the stored record.

:func:`monitor` computes everything from a read-only store; :func:`save_run`
then records the result in ``monitor_runs`` under a key that hashes the log,
its ingest batches and every parameter, so running again on the same data
stores nothing new and gives the same bytes (:func:`run_json`).

Control charts and alerts
-------------------------
Every KPI series is charted with :mod:`mining.monitor.spc`: a u-chart of the
cases started and completed per working day (a holiday week is judged against
its fewer working days), a Laney p'-chart for rates (rework over the complete
cases, SLA breaches over the decided ones), an I-MR chart for durations, costs
and ratios, and a CUSUM beside the chart for the cycle times and the rates, so
that a sustained shift too small for the 3-sigma limits is still caught.

**Which periods are judged.**  Only whole periods: a period cut by the
export's edges (the partial newest one, the first one, those at the export's
start whose cases began before it, those after the last case start; see
:mod:`mining.monitor.periods`) is shown but never judged.  A case measure
(duration, rate, cost) is judged in a period only when at most
:data:`OPEN_SHARE_LIMIT` of its cases are still open: the long cases are the
ones still running, so an earlier figure would flatter the period.  Nor when,
at the cycle times of the complete cases, more than that share of its cases
would usually still be running at the data end (``expected_open``): an export
of closed cases only has no open case, yet a young period holds only its fast
ones.

**Limits.**  The newest judged period of a chart is judged against the
:data:`BASELINE_PERIODS` judged periods before it (at least
:data:`MIN_BASELINE`; with fewer the chart is drawn but does not alert).  With
a change date, the periods before it form the old phase; once the new phase
has :data:`NEW_PHASE_PERIODS` judged periods before the newest, the new
periods are judged against limits of their own, and until then against the
old phase's, which the alerts say.  The periods older than a phase's
baseline are drawn against its limits for context, and no rule judges them
(:mod:`mining.monitor.spc`).

**Alerts.**  A chart alerts when, on its newest judged period, rule 1 (beyond
3 sigma), rule 2 (nine in a row on one side), rule 5 (two of three beyond 2
sigma) or the CUSUM fires, or (with ``max_breach_rate``) the SLA breach rate
is above the maximum.  One alert per KPI: the strongest rule
(:data:`ALERT_RULES`), with every other rule that fired on that period listed
inside it.  Rules 3, 4, 6, 7 and 8 describe patterns and are shown on the
charts only; moving-range signals do not alert; work in progress (a stock,
whose periods are not independent) is charted but never alerts.  A run whose
data did not move judges the same newest point, so it repeats the same
alerts: the run is idempotent.

**Steady trends.**  Limits from moving ranges assume the baseline scatters
around one level.  When it drifts instead (a duration that fell in nearly
every step of the baseline: Road Traffic Fines' 90th percentile drops by a
week each week, because fines go to credit collection in yearly batches),
the moving ranges measure the drift, the limits are narrow, and the newest
point is "beyond 3 sigma" merely by continuing it.  Such an alert stays (the
KPI did move that far from its usual level) but says what it is: a
continued trend, with its steps, its pace and where it leads
(:class:`Trend`).  A newest point that breaks away from the trend keeps the
ordinary wording.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Hashable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.durations import format_duration
from mining.errors import MonitorError, Option, phrase
from mining.monitor.compare import Comparison, case_stratum, compare
from mining.monitor.periods import (
    CaseMeasure,
    KpiInfo,
    PeriodKPIs,
    PeriodSeries,
    case_facts,
    summarize,
)
from mining.monitor.spc import (
    Capability,
    ControlChart,
    Cusum,
    Phase,
    capability,
    cusum,
    imr_chart,
    p_chart,
    u_chart,
)
from mining.monitor.words import format_pair, format_value, period_label
from mining.schema import QualityIssue, to_jsonable

if TYPE_CHECKING:
    from mining.conformance.labels import LabelMapping
    from mining.conformance.rules import Rule, RuleResult
    from mining.models import ProcessModel
    from mining.monitor.lean import LeanView
    from mining.rates import RateCard
    from mining.store import Store

__all__ = [
    "ALERT_RULES",
    "BASELINE_PERIODS",
    "MIN_BASELINE",
    "NEW_PHASE_PERIODS",
    "OPEN_SHARE_LIMIT",
    "Alert",
    "KpiChart",
    "MonitorOptions",
    "MonitorRun",
    "StoredRun",
    "Trend",
    "code_fingerprint",
    "conformance_measures",
    "format_value",
    "keep_stratum",
    "load_run",
    "monitor",
    "period_label",
    "rule_measures",
    "run_json",
    "run_key",
    "save_run",
    "stored_runs",
    "why_not_judged",
]

#: Periods with a larger share of their started cases still open are not judged for case measures.
OPEN_SHARE_LIMIT = 0.02
#: The newest judged period is judged against at most this many judged periods before it.
BASELINE_PERIODS = 26
#: Judged periods needed before the newest one for a chart to alert.
MIN_BASELINE = 8
#: Judged periods after a change date (before the newest) needed for limits of the new phase.
NEW_PHASE_PERIODS = 8
#: Bumped when the stored record's shape changes.  Changes of the computation need no bump: the
#: run key also hashes the code that computes the figures (:func:`code_fingerprint`).
RUN_VERSION = 3

_RUNS_SQL = "SELECT run_id, content_hash, events_added FROM ingest_runs WHERE log_id = ? ORDER BY run_id"


@dataclass(frozen=True)
class MonitorOptions:
    """What to monitor and how; every field enters the run's key.

    ``sla_seconds`` is an elapsed-time limit on the cycle time;
    ``max_breach_rate`` (0-1) alerts when the SLA breach rate exceeds it;
    ``end_activities`` overrides the learned ones; ``stratify`` is
    ``"variant"``, a case attribute's name, or ``None``: a case attribute
    when the log has a suitable one, else the variant
    (:func:`~mining.monitor.compare.default_stratum`).
    """

    period: str = "week"
    change_date: dt.date | None = None
    sla_seconds: float | None = None
    max_breach_rate: float | None = None
    cost_per_hour: float | RateCard | None = None  # one rate for all, or a rate card
    end_activities: tuple[str, ...] = ()
    stratify: str | None = None
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
    """The control chart of one KPI over the periods (``None`` points are not judged).

    ``unit`` is the unit of the charted values (``cases per working day`` for
    the volumes); ``newest`` the index of the newest judged period, the one
    alerts are about; ``compared_with`` what its limits come from:
    ``"recent"`` periods, the ``"old phase"`` or the ``"new phase"`` of a
    change, or ``"all"`` periods when too few are judged to alert.
    """

    kpi: str
    label: str
    unit: str
    chart: ControlChart
    moving_range: ControlChart | None
    note: str
    cusum: Cusum | None = None
    judged: tuple[bool, ...] = ()
    newest: int = -1
    alerting: bool = True
    compared_with: str = "recent"
    baseline_words: str = ""


@dataclass(frozen=True)
class Trend:
    """A steady drift of a KPI over the baseline of an alert, which the alert's period continues.

    ``steps`` are the baseline's steps between consecutive judged periods that
    changed the value, ``along`` those that went the trend's way; ``first``
    and ``last`` the baseline's first and last values, ``per_period`` the
    fitted change per period and ``expected`` where the fitted line leads at
    the alert's period.
    """

    direction: str  # "up" or "down"
    periods: int
    steps: int
    along: int
    first: float
    last: float
    per_period: float
    expected: float


@dataclass(frozen=True)
class Alert:
    """The strongest rule that fired on a KPI's newest judged period, in words, with the others listed."""

    kpi: str
    label: str
    rule: str  # the strongest rule: "max-breach-rate", "nelson-1", "cusum", "nelson-5" or "nelson-2"
    rule_name: str
    period: dt.date
    period_label: str
    value: float | None
    direction: str  # "up", "down" or "mixed"
    assessment: str  # "worse", "better" or "changed"
    sentence: str
    rules: tuple[str, ...] = ()  # every rule that fired on the period, strongest first
    compared_with: str = "recent"  # see KpiChart.compared_with
    short: str = ""  # the alert in a few words, for a summary
    trend: Trend | None = None  # set when the period only continues a steady trend of its baseline


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


# -- charts and alerts ---------------------------------------------------------

#: Rules that raise an alert, strongest first; the other Nelson rules are patterns shown on the charts.
ALERT_RULES = ("max-breach-rate", "nelson-1", "cusum", "nelson-5", "nelson-2")
_ALERTING_NELSON = frozenset({1, 2, 5})
#: A baseline drifts when its steps go one way this much more often than a coin would (one-sided).
TREND_P = 0.005
#: Fewest steps that changed the value for a baseline to be called a drift.
TREND_MIN_STEPS = 8
#: KPIs charted without alerting: a stock carried from period to period has no independent points.
_NOT_ALERTED = frozenset({"wip_end"})
#: KPIs not charted: the Kaplan-Meier median is for periods with open cases, which are never judged.
_NOT_CHARTED = frozenset({"open", "stalled", "cycle_median_km_s"})


def _case_measure(kpi: KpiInfo) -> bool:
    return kpi.kind != "count" and kpi.name != "wip_end"


def _judged(kpi: KpiInfo, p: PeriodKPIs) -> bool:
    """Whether a period's value of ``kpi`` may be judged (see the module docstring)."""
    if p.cut:
        return False
    if kpi.name in {"started", "completed"}:
        return p.working_days > 0
    if _case_measure(kpi):
        return bool(p.started) and max(p.open / p.started, p.expected_open) <= OPEN_SHARE_LIMIT
    return True


def why_not_judged(p: PeriodKPIs) -> str:
    """Why a period's values, or its case measures (durations, rates, costs), are not judged; empty if they are."""
    if p.cut:
        return p.cut
    if not p.started:
        return ""
    if p.open / p.started > OPEN_SHARE_LIMIT:
        return (
            f"{p.open / p.started:.0%} of its cases are still open: durations, rates and costs not judged yet"
        )
    if p.expected_open > OPEN_SHARE_LIMIT:
        return (
            f"too recent: about {p.expected_open:.0%} of its cases would usually still be running: durations, "
            "rates and costs not judged yet"
        )
    return ""


def _unit_words(period: str, n: int) -> str:
    return f"{n} judged {period}{'' if n == 1 else 's'}"


def _plan(
    series: PeriodSeries, judged: Sequence[int], change: dt.date | None
) -> tuple[list[Phase], str, str, bool]:
    """The chart's phases, the alert's words for its limits, what they compare with, and whether to alert.

    ``judged`` are the indices of the judged points, oldest first; the newest
    is judged against limits that never include it (see the module docstring).
    """
    periods = series.periods
    n = len(periods)
    period = series.period
    newest = judged[-1]
    before_newest = [i for i in judged if i != newest]

    def recent(pool: Sequence[int]) -> tuple[int, ...]:
        return tuple(pool[-BASELINE_PERIODS:])

    if change is not None and periods[newest].end > change:
        old = [i for i in judged if periods[i].end <= change]
        new = [i for i in before_newest if periods[i].start >= change]
        split = next(i for i, p in enumerate(periods) if p.end > change)
        day = change.isoformat()
        if len(new) >= NEW_PHASE_PERIODS and len(old) >= 2 and split > 0:
            base_old, base_new = recent(old), recent(new)
            phases = [
                Phase(0, split, base_old, f"Before {day}"),
                Phase(split, n, base_new, f"From {day}"),
            ]
            words = f"the {_unit_words(period, len(base_new))} since the change of {day}"
            return phases, words, "new phase", True
        if len(old) >= MIN_BASELINE:
            base = recent(old)
            words = (
                f"the {_unit_words(period, len(base))} before the change of {day} (the old phase: the new "
                f"one has {len(new)} of the {NEW_PHASE_PERIODS} judged {period}s it needs for limits of its own)"
            )
            return [Phase(0, n, base, f"Limits from before {day}")], words, "old phase", True
    base = recent(before_newest)
    if len(base) >= MIN_BASELINE:
        return [Phase(0, n, base)], f"the {_unit_words(period, len(base))} before it", "recent", True
    everything = tuple(judged)
    words = (
        f"all {_unit_words(period, len(everything))}: too few to judge the newest against the others "
        f"(alerts need {MIN_BASELINE} before it)"
    )
    return [Phase(0, n, everything)], words, "all", False


def _chart(series: PeriodSeries, kpi: KpiInfo, change: dt.date | None, labels: list[str]) -> KpiChart | None:
    periods = series.periods
    judged_mask = [_judged(kpi, p) for p in periods]
    fmt = _formatter(kpi.unit)
    if kpi.kind == "rate":
        defects, sizes = _rate_counts(kpi, periods, judged_mask)
        judged = [i for i, s in enumerate(sizes) if s > 0]
        if len(judged) < 2:
            return None
        phases, words, against, alerting = _plan(series, judged, change)
        chart = p_chart(defects, sizes, phases=phases, labels=labels, laney=True)
        unit = kpi.unit
    elif kpi.name in {"started", "completed"}:
        counts = [getattr(p, kpi.name) if ok else 0 for p, ok in zip(periods, judged_mask, strict=True)]
        exposure = [p.working_days if ok else 0.0 for p, ok in zip(periods, judged_mask, strict=True)]
        judged = [i for i, e in enumerate(exposure) if e > 0]
        if len(judged) < 2 or sum(counts[i] for i in judged) == 0:
            return None
        phases, words, against, alerting = _plan(series, judged, change)
        chart = u_chart(counts, exposure, phases=phases, labels=labels, unit="cases per working day")
        unit = "cases per working day"
    else:
        values = [p.value(kpi.name) if ok else None for p, ok in zip(periods, judged_mask, strict=True)]
        judged = [i for i, v in enumerate(values) if v is not None]
        if len(judged) < 2:
            return None
        phases, words, against, alerting = _plan(series, judged, change)
        chart, mr = imr_chart(values, phases=phases, labels=labels, fmt=fmt)
        if kpi.unit in {"seconds", "cases"}:
            # A skewed duration's 3 sigma can reach below zero; no period can (SPC draws such an LCL at 0).
            chart = dataclasses.replace(
                chart, lcl=tuple(None if v is None else max(v, 0.0) for v in chart.lcl)
            )
        unit = kpi.unit
    shift = cusum(chart, fmt=fmt) if kpi.unit == "seconds" or kpi.kind == "rate" else None
    alerting = alerting and kpi.name not in _NOT_ALERTED
    how = f"limits from {words}"
    if kpi.name in _NOT_ALERTED:
        how += (
            "; shown, never alerted on: a stock carried over from period to period has no independent points"
        )
    return KpiChart(
        kpi.name,
        kpi.label,
        unit,
        chart,
        mr if chart.kind == "I" else None,
        how,
        cusum=shift,
        judged=tuple(judged_mask[i] and chart.values[i] is not None for i in range(len(periods))),
        newest=judged[-1],
        alerting=alerting,
        compared_with=against,
        baseline_words=words,
    )


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


def _formatter(unit: str) -> Callable[[float], str]:
    return lambda v: format_value(v, unit)


def _direction(chart: ControlChart, rule: int, points: Sequence[int], index: int) -> str:
    if rule == 3:
        first, last = chart.values[points[0]], chart.values[points[-1]]
        if first is not None and last is not None:
            return "up" if last > first else "down"
    if rule in {4, 7, 8}:
        return "mixed"
    value = chart.values[index]
    center = chart.center_at(index)
    if value is None or value == center:
        return "mixed"
    return "up" if value > center else "down"


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


def _fired_at(kc: KpiChart, index: int) -> list[tuple[str, str, str, str]]:
    """(rule, its name, direction, description) of every rule that fired at ``index``, strongest first."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for s in kc.chart.signals:
        if s.index == index:
            key = f"nelson-{s.rule}"
            found.setdefault(
                key, (key, s.name, _direction(kc.chart, s.rule, s.points, s.index), s.description)
            )
    if kc.cusum is not None:
        for c in kc.cusum.signals:
            if c.index == index:
                found.setdefault("cusum", ("cusum", "CUSUM: a sustained shift", c.direction, c.description))
    rank = {r: k for k, r in enumerate(ALERT_RULES)}
    return sorted(found.values(), key=lambda f: (rank.get(f[0], len(rank)), f[0]))


def _value_words(kc: KpiChart, kpi: KpiInfo, p: PeriodKPIs, index: int) -> tuple[str, str]:
    """The value and the usual level, in words and human units."""
    chart = kc.chart
    value, center = chart.values[index], chart.center_at(index)
    if chart.kind == "u":
        count = getattr(p, kpi.name)
        days = f"{p.working_days:g} working day{'' if p.working_days == 1 else 's'}"
        if p.holidays:
            days += " (" + ", ".join(p.holidays) + ")"
        return (
            f"{count:,} cases, {value:,.1f} per working day over {days}",
            f"{center:,.1f} per working day",
        )
    return format_pair(value, center, kpi.unit)


def _limits_words(kc: KpiChart, kpi: KpiInfo, index: int) -> str:
    chart = kc.chart
    lo, hi = chart.lcl[index], chart.ucl[index]
    if lo is None or hi is None:
        return ""
    unit = "cases per working day" if chart.kind == "u" else kpi.unit
    fmt = (lambda v: f"{v:,.1f}") if chart.kind == "u" else _formatter(unit)
    return f"limits {fmt(lo)} to {fmt(hi)}"


def _alerts(
    series: PeriodSeries,
    charts: Sequence[KpiChart],
    labels: list[str],
    max_breach_rate: float | None,
) -> list[Alert]:
    """One alert per KPI on its newest judged period: the strongest rule, the others inside it."""
    periods = series.periods
    out: list[Alert] = []
    breach_done = False
    for kc in charts:
        kpi = series.kpi(kc.kpi)
        i = kc.newest
        fired = _fired_at(kc, i)
        alerting = [f for f in fired if f[0] in ALERT_RULES] if kc.alerting else []
        breach = None
        if kpi.name == "sla_breach_rate" and max_breach_rate is not None:
            breach_done = True
            breach = _breach(series, kpi, i, max_breach_rate)
            if breach is not None:
                alerting.insert(0, breach)
        if not alerting:
            continue
        rule, name, direction, _ = alerting[0]
        others = [f for f in fired if f[0] != rule]
        assessment = _assessment(kpi, direction)
        p = periods[i]
        value, usual = _value_words(kc, kpi, p, i)
        verdict = {
            "worse": "worse than usual",
            "better": "better than usual",
            "changed": "unusually "
            + ("high" if direction == "up" else "low" if direction == "down" else "variable"),
        }[assessment]
        limits = _limits_words(kc, kpi, i)
        trend = None if rule == "max-breach-rate" else _steady_trend(kc, i, direction)
        along, along_short = _trend_words(trend, kpi, series.period) if trend else ("", "")
        if rule == "max-breach-rate":
            sentence = breach[3]  # type: ignore[index]
        elif trend is not None:
            # The limits measure the drift's small steps, so quoting them would mislead.
            sentence = (
                f"{kpi.label} {_in(labels[i])} {_is(kpi)} {verdict}: {value} against a usual {usual} "
                f"(from {kc.baseline_words}){along}. {_rule_words(rule, name)}."
            )
        else:
            sentence = (
                f"{kpi.label} {_in(labels[i])} {_is(kpi)} {verdict}: {value} against a usual {usual} "
                f"({limits + ', ' if limits else ''}from {kc.baseline_words}). {_rule_words(rule, name)}."
            )
        if others:
            sentence += " Also: " + "; ".join(_rule_words(r, nm) for r, nm, _, _ in others) + "."
        if rule == "max-breach-rate":
            short = f"the SLA breach rate {_in(labels[i])} is {p.sla_breach_rate:.1%}, above the maximum"
        else:
            short = f"{_lower(kpi.label)} {_in(labels[i])} {_is(kpi)} {verdict} ({value}; usually {usual}){along_short}"
        out.append(
            Alert(
                kpi.name,
                kpi.label,
                rule,
                name,
                p.start,
                labels[i],
                kc.chart.values[i] if rule != "max-breach-rate" else p.sla_breach_rate,
                direction,
                assessment,
                sentence,
                rules=(rule, *(f[0] for f in others)),
                compared_with=kc.compared_with,
                short=short,
                trend=trend,
            )
        )
    if max_breach_rate is not None and not breach_done:
        # No chart for the breach rate (too few judged periods): the threshold still applies.
        kpi = series.kpi("sla_breach_rate")
        judged = [i for i, p in enumerate(periods) if p.sla_breach_rate is not None and _judged(kpi, p)]
        if judged:
            found = _breach(series, kpi, judged[-1], max_breach_rate)
            if found is not None:
                p = periods[judged[-1]]
                out.append(
                    Alert(
                        kpi.name,
                        kpi.label,
                        "max-breach-rate",
                        found[1],
                        p.start,
                        labels[judged[-1]],
                        p.sla_breach_rate,
                        "up",
                        "worse",
                        found[3],
                        rules=("max-breach-rate",),
                        compared_with="threshold",
                        short=f"the SLA breach rate {_in(labels[judged[-1]])} is {p.sla_breach_rate:.1%}, "
                        "above the maximum",
                    )
                )
    kpi_order = {k.name: i for i, k in enumerate(series.kpis)}
    out.sort(key=lambda a: (a.period, kpi_order[a.kpi], a.rule))
    return out


def _steady_trend(kc: KpiChart, index: int, direction: str) -> Trend | None:
    """The steady drift of the baseline that point ``index`` continues, if it does (see the module docstring).

    A drift: the baseline's steps go ``direction``'s way more often than a
    fair coin's would, at :data:`TREND_P`, and so does the least-squares line
    through it.  The point continues it when it lies within the chart's own
    3 sigma of where that line leads.
    """
    chart = kc.chart
    if chart.kind != "I" or direction not in {"up", "down"}:
        return None
    sigma = chart.sigma[index]
    value = chart.values[index]
    phase = next((ph for ph in chart.phases if ph.start <= index < ph.stop), None)
    if sigma is None or value is None or phase is None:
        return None
    xs = [i for i in phase.baseline if i != index and chart.values[i] is not None]
    ys = [float(chart.values[i]) for i in xs]  # type: ignore[arg-type]
    steps = [b - a for a, b in itertools.pairwise(ys) if b != a]
    along = sum(1 for d in steps if (d > 0) == (direction == "up"))
    if len(steps) < TREND_MIN_STEPS or _coin_tail(len(steps), along) > TREND_P:
        return None
    x_mean, y_mean = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    slope = math.fsum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / math.fsum(
        (x - x_mean) ** 2 for x in xs
    )
    expected = y_mean + slope * (index - x_mean)
    if (slope > 0) != (direction == "up") or abs(value - expected) > 3 * sigma:
        return None
    return Trend(direction, len(xs), len(steps), along, ys[0], ys[-1], slope, expected)


def _share_words(k: int, n: int) -> str:
    return f"all {n}" if k == n else f"{k} of {n}"


def _coin_tail(n: int, k: int) -> float:
    """P(at least ``k`` heads in ``n`` tosses of a fair coin)."""
    return math.fsum(math.comb(n, j) for j in range(k, n + 1)) / 2**n


def _trend_words(trend: Trend, kpi: KpiInfo, period: str) -> tuple[str, str]:
    """What the alert adds when its period continues a steady trend: a clause, and its short form."""
    fmt = _formatter(kpi.unit)
    rise, rose, more = ("rise", "rose", "more") if trend.direction == "up" else ("fall", "fell", "less")
    clause = (
        f", but it only continues a steady {rise}: over the {trend.periods} {period}s before it, it {rose} "
        f"in {_share_words(trend.along, trend.steps)} steps, from {fmt(trend.first)} to {fmt(trend.last)} "
        f"(about {fmt(abs(trend.per_period))} a {period}), and that trend leads to about "
        f"{fmt(trend.expected)}. A drift rather than a sudden change: the question is what keeps it moving"
    )
    return clause, f", continuing a steady {rise} of about {fmt(abs(trend.per_period))} {more} each {period}"


def _is(kpi: KpiInfo) -> str:
    return "are" if kpi.label.startswith("Cases") else "is"


def _lower(label: str) -> str:
    # "Median cycle time" -> "median cycle time"; "SLA breach rate" keeps its capitals.
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _rule_words(rule: str, name: str) -> str:
    if rule.startswith("nelson-"):
        return f"Nelson rule {rule[len('nelson-') :]}, {name}"
    return name


def _breach(series: PeriodSeries, kpi: KpiInfo, i: int, limit: float) -> tuple[str, str, str, str] | None:
    p = series.periods[i]
    rate = p.sla_breach_rate
    if rate is None or rate <= limit or not _judged(kpi, p):
        return None
    label = period_label(p.start, series.period)
    sentence = (
        f"SLA breach rate {_in(label)} is {rate:.1%} "
        f"({p.sla_breaches:,} of {p.sla_decided:,} decided cases over "
        f"{format_duration(series.sla_seconds)}), above the maximum of {limit:.1%}."
    )
    return "max-breach-rate", "SLA breach rate above the maximum", "up", sentence


# -- a documented model ----------------------------------------------------------


def conformance_measures(
    store: Store,
    log_id: int,
    model: ProcessModel,
    flt: Filter | None = None,
    *,
    mapping: LabelMapping | None = None,
) -> dict[str, CaseMeasure]:
    """Each case's alignment fitness against ``model``, and whether it deviates, as two plug-in measures.

    Alignments run once per variant (:func:`mining.conformance.check.conform`,
    no budget: a monitor needs every case judged), so every case of a variant
    gets that variant's fitness.  ``mapping`` is the label mapping (the one
    saved in the workspace for this log and model, say); a model whose tasks
    match too little of the log raises :class:`~mining.errors.LabelsUnmatched`.
    """
    from mining.conformance.check import conform

    if mapping is not None:
        from mining.conformance.check import checked_variants

        kept = {a for acts, _, _ in checked_variants(store, log_id, flt) for a in acts}
        mapping = mapping.restricted(model.tasks, kept)
    result = conform(store, log_id, model, flt, method="alignments", precision=False, mapping=mapping)
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
        "code": code_fingerprint(),
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


@functools.cache
def code_fingerprint() -> str:
    """A hash of the library's computing code (everything but the app and the CLI).

    Part of the run key: after an upgrade that changes a figure, running again stores the new run
    instead of answering "already stored" with the old code's figures.  A comment-only change also
    makes a new key; that costs one more stored run, never a stale one.
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("ui/", "commands/")):
            continue
        digest.update(rel.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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

    ``memo`` keeps the costly stages for the next run on the same
    data: the case facts (one pass over the events, whatever the period,
    change date or SLA), the KPIs per period (whatever the change date),
    the strata of a before/after and the Lean view.  The caller owns it and must
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
    facts_key = _facts_key(log_id, flt, opts)
    facts = _kept(
        memo,
        facts_key,
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
        if facts.left_out and facts.robust is not None and facts.robust.note:
            msg = f"log {name!r} has no case dated inside its range: {facts.robust.note}"
        raise MonitorError(msg)
    # The KPIs per period do not depend on the change date: another date typed reuses them.
    series = _kept(
        memo,
        ("series", *facts_key, opts.period, opts.sla_seconds),
        lambda: summarize(facts, sla_seconds=opts.sla_seconds),
    )
    comparison = None
    if opts.change_date is not None:
        # The strata read the attributes of every kept case: the same for any change date.
        stratum = _kept(
            memo,
            _stratum_key(facts_key, opts),
            lambda: case_stratum(store, facts, opts.stratify),
        )
        comparison = compare(
            store,
            facts,
            series,
            opts.change_date,
            stratify=opts.stratify,
            confidence=opts.confidence,
            resamples=opts.resamples,
            seed=opts.seed,
            stratum=stratum,
        )
    labels = [period_label(p.start, opts.period) for p in series.periods]
    charts = []
    notes = []
    for kpi in series.kpis:
        if kpi.name in _NOT_CHARTED:
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
            cap = capability([float(x) for x in cycles], usl=opts.sla_seconds, fmt=_formatter("seconds"))
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
                leave_out=facts.left_out_cases.tolist(),
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


def keep_stratum(
    store: Store,
    log_id: int,
    flt: Filter | None,
    options: MonitorOptions,
    memo: MutableMapping[Hashable, Any],
) -> None:
    """Keep in ``memo`` the strata a before/after of the run just kept there would use.

    They read every kept case's attributes and do not depend on the change date: computed ahead
    (after a :func:`monitor` with the same ``memo``), the first change date typed does not wait for them.
    """
    key = _facts_key(log_id, flt, options)
    facts = memo.get(key)
    if facts is not None:
        _kept(memo, _stratum_key(key, options), lambda: case_stratum(store, facts, options.stratify))


def _facts_key(log_id: int, flt: Filter | None, opts: MonitorOptions) -> tuple[Hashable, ...]:
    # The period, change date and SLA are not in the facts: one set serves them all.
    return ("facts", log_id, flt, opts.calendar, opts.timezone, opts.cost_per_hour, opts.end_activities)


def _stratum_key(facts_key: tuple[Hashable, ...], opts: MonitorOptions) -> tuple[Hashable, ...]:
    return ("stratum", *facts_key, opts.stratify)


def _kept(memo: MutableMapping[Hashable, Any] | None, key: Hashable, compute: Callable[[], Any]) -> Any:
    if memo is None:
        return compute()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


_METHOD = (
    "Control charts: u-charts of the cases started and completed per working day, Laney p'-charts for rates, "
    "I-MR charts for durations, costs and ratios, and a CUSUM (k = 0.5, h = 5 sigma) for the cycle times and "
    "rates; limits at 3 sigma (see each chart's note). A period cut by the export's edges (partial, at the "
    "export's start or after the last case start) is never judged, and a case measure is judged only when at "
    f"most {OPEN_SHARE_LIMIT:.0%} of the period's cases are still open and, at the cycle times of the complete "
    f"cases, at most {OPEN_SHARE_LIMIT:.0%} would usually still be running at the data end. The newest judged "
    "period is judged "
    f"against the {BASELINE_PERIODS} judged periods before it (at least {MIN_BASELINE}); with a change date, "
    f"against the periods before the change until the new phase has {NEW_PHASE_PERIODS} judged periods of its "
    "own. An alert is rule 1, 2 or 5 or the CUSUM firing on a chart's newest judged period (or an SLA breach "
    "rate above the maximum): one per KPI, the strongest rule with the others listed; the other rules are "
    "patterns shown on the charts; work in progress and moving ranges never alert."
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
        "left_out": {"cases": s.left_out, "events": s.left_out_events, "note": s.range_note},
        "working_days": s.working_days_method,
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
