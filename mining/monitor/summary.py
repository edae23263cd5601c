"""The manager's summary of a monitoring run: at most five sentences, the same in the report, the page and the digest.

What it says, in this order:

1. **What changed** at the change date: the median cycle time before and
   after, by how much (in its unit and relative to before) and whether that is
   significant at the run's confidence; without a change date, how the newest
   judged period of the median cycle time compares with the usual level.
2. **What else changed** significantly at the change date (the two strongest,
   those that got worse first and marked so, rates in percentage points;
   "also" only when the median itself changed
   significantly), or that nothing else did.  A duration that fell while the
   export's end cuts the after-cases short (:data:`~mining.monitor.compare.CUT_SHORT_WARNING`)
   says so, once.
3. **What needs attention now**: the alerts that say worse, in a few words
   each; else the good news of alerts that say better; else that nothing does.
4. **What the figures leave out**: the periods shown but not judged (cut by the
   export's edges) and events left out for placeholder dates, if any.
5. **Which limits the alerts use** after a change date: the old phase, until the
   new one has enough periods of its own.

A sentence with nothing to say is left out, so a quiet run reads in three.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.monitor.compare import CUT_SHORT_WARNING, Comparison, KpiComparison
from mining.monitor.run import NEW_PHASE_PERIODS, OPEN_SHARE_LIMIT, MonitorRun
from mining.monitor.words import difference_words, format_value, p_words, period_label
from mining.words import plural

if TYPE_CHECKING:
    from mining.monitor.periods import PeriodSeries

__all__ = ["MAX_SENTENCES", "Summary", "manager_summary"]

#: The summary never says more than this many sentences.
MAX_SENTENCES = 5
_HEADLINE_KPI = "cycle_median_s"


@dataclass(frozen=True)
class Summary:
    """The summary: ``sentences`` (at most :data:`MAX_SENTENCES`) and a ``subject`` line for the digest."""

    subject: str
    sentences: tuple[str, ...]
    attention: int  # alerts that say worse

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def manager_summary(run: MonitorRun) -> Summary:
    """The summary of ``run`` (see the module docstring)."""
    sentences = [
        _what_changed(run),
        _what_else(run),
        _attention(run),
        _left_out(run),
        _phase(run),
    ]
    kept = tuple(s for s in sentences if s)[:MAX_SENTENCES]
    worse = sum(1 for a in run.alerts if a.assessment == "worse")
    if worse:
        state = f"{worse} alert{'s' if worse > 1 else ''} need{'' if worse > 1 else 's'} attention"
    elif run.alerts:
        state = f"{len(run.alerts)} alert{'s' if len(run.alerts) > 1 else ''}, none worse than usual"
    else:
        state = "no alert"
    return Summary(f"{run.log}: {state}", kept, worse)


def _sig(k: object, confidence: float, resamples: int) -> str:
    p = getattr(k, "p_value", None)
    if p is None:
        return "not tested"
    words = p_words(p, resamples)
    alpha = 1 - confidence
    if p < alpha:
        return f"a significant change (p {'= ' if not words.startswith('<') else ''}{words})"
    return f"within what chance explains (p = {words}, not significant at {alpha:.0%})"


def _what_changed(run: MonitorRun) -> str:
    c = run.comparison
    if c is not None:
        k = next((x for x in c.kpis if x.kpi == _HEADLINE_KPI), None)
        if k is None or k.before is None or k.after is None or k.difference is None:
            return (
                f"Since the change on {c.change_date.isoformat()}, the median cycle time cannot be compared."
            )
        verb = "rose" if k.difference > 0 else "fell" if k.difference < 0 else "stayed"
        how_much = (
            ""
            if k.difference == 0
            else f" ({difference_words(k.difference, k.unit)}, {k.relative:+.1%} relative)"
            if k.relative is not None
            else f" ({difference_words(k.difference, k.unit)})"
        )
        return (
            f"Since the change on {c.change_date.isoformat()}, the median cycle time of the completed cases {verb} from "
            f"{format_value(k.before, k.unit)} to {format_value(k.after, k.unit)}{how_much}: "
            f"{_sig(k, c.confidence, c.resamples)}{_cut_short(c, [k]) if _significant(k, c) else ''}."
        )
    chart = next((kc for kc in run.charts if kc.kpi == _HEADLINE_KPI), None)
    if chart is None or chart.newest < 0:
        period = run.series.period
        starts = [p.start for p in run.series.periods]
        # Months help only where the data spans enough of them to compare; else only more data does.
        longer = (
            " Months judge a process whose cases last longer than a week sooner: choose the period month."
            if period in {"day", "week"} and starts and (starts[-1] - starts[0]).days >= 120
            else " A longer export, reaching further past these cases' starts, lets them settle."
        )
        return (
            f"No {period} is complete enough yet to judge the median cycle time: in each, too many cases "
            f"were still running at the data's end, or too few had completed.{longer}"
        )
    i = chart.newest
    label = period_label(run.series.periods[i].start, run.series.period)
    value = chart.chart.values[i]
    center = chart.chart.center_at(i)
    period = run.series.period
    young = any(
        not p.cut and p.started and p.expected_open > OPEN_SHARE_LIMIT for p in run.series.periods[i + 1 :]
    )
    which = (
        f"the newest {period} old enough to judge ({label}; in later {period}s too many cases would usually "
        "still be running)"
        if young
        else f"the newest complete {period} ({label})"
    )
    return (
        f"No change date is set; in {which} the median cycle time "
        f"was {format_value(value, 'seconds')}, against a usual {format_value(center, 'seconds')}."
    )


def _what_else(run: MonitorRun) -> str:
    c = run.comparison
    if c is None:
        return ""
    alpha = 1 - c.confidence
    found = [
        k
        for k in c.kpis
        if k.kpi != _HEADLINE_KPI
        and k.p_value is not None
        and k.p_value < alpha
        and k.difference is not None
        and k.difference != 0
    ]
    if not found:
        return "No other KPI changed significantly."
    better_when_lower = {i.name: i.lower_is_better for i in run.series.kpis}

    def worse(k: KpiComparison) -> bool:
        lower = better_when_lower.get(k.kpi)
        return lower is not None and (k.difference > 0) == lower  # type: ignore[operator]

    # What got worse is named first: two lines leave the rest to the table, and a manager must not
    # miss a deterioration among improvements with smaller p-values.
    found.sort(key=lambda k: (not worse(k), k.p_value, -abs(k.relative or 0.0), k.kpi))
    parts = []
    for k in found[:2]:
        verb = "rose" if k.difference > 0 else "fell"  # type: ignore[operator]
        label = k.label[:1].lower() + k.label[1:] if not k.label[:2].isupper() else k.label
        if k.unit == "cases per period":
            label += f" per {run.series.period}"
        relative = f", {k.relative:+.1%} relative" if k.relative is not None else ""
        by = difference_words(abs(k.difference), k.unit).lstrip("+")  # type: ignore[arg-type]
        parts.append(
            f"{label} {verb} by {by} ({format_value(k.before, k.unit)} to {format_value(k.after, k.unit)}{relative}"
            + ("; worse)" if worse(k) else ")")
        )
    more = f" ({len(found) - 2} more in the table)" if len(found) > 2 else ""
    headline = next((k for k in c.kpis if k.kpi == _HEADLINE_KPI), None)
    # "Also" only follows a headline that changed significantly itself.
    also = headline is not None and _significant(headline, c)
    lead = "Also significant: " if also else "Significant elsewhere: "
    # Said once: in the first sentence when the median fell significantly too.
    caveat = "" if also and _cut_short(c, [headline]) else _cut_short(c, found[:2])  # type: ignore[list-item]
    return lead + " and ".join(parts) + more + caveat + "."


def _significant(k: KpiComparison, c: Comparison) -> bool:
    return k.p_value is not None and k.p_value < 1 - c.confidence


def _cut_short(c: Comparison, kpis: list[KpiComparison]) -> str:
    """A caveat when a duration fell while the export's end cuts the durations after the change short."""
    if c.cut_short is None or c.cut_short <= CUT_SHORT_WARNING:
        return ""
    if not any(k.unit == "seconds" and k.difference is not None and k.difference < 0 for k in kpis):
        return ""
    return (
        ", though the export's end cuts the durations after the change short (at the durations before it, "
        f"{c.cut_short:.0%} of those cases would still be running)"
    )


def _attention(run: MonitorRun) -> str:
    worse = [a for a in run.alerts if a.assessment == "worse"]
    if worse:
        shown = "; ".join(a.short for a in worse[:3])
        more = f"; and {len(worse) - 3} more" if len(worse) > 3 else ""
        return f"Needs attention now: {shown}{more}."
    if run.alerts:
        shown = "; ".join(a.short for a in run.alerts[:3])
        return f"No alert says worse now; unusual: {shown}."
    judged = [kc for kc in run.charts if kc.newest >= 0 and kc.alerting]
    if not judged:
        return _closed_in_a_window(run.series) or "Nothing can be judged yet: too few complete periods."
    # Each KPI's newest judged period: a duration's can be older than the volumes' (too recent to judge).
    return (
        f"Nothing needs attention: no KPI left its control limits in its newest judged {run.series.period}."
    )


#: An export whose cases all complete within this many periods, while they start over at least
#: :data:`_LONG_START` periods, holds only the cases closed in a window (BPIC 2013's incidents).
_CLOSED_WINDOW = 3
_LONG_START = 8


def _closed_in_a_window(s: PeriodSeries) -> str:
    """Why nothing can be judged when the export holds only the cases closed in a short window, and what to
    export instead; empty for any other export."""
    done = [p for p in s.periods if p.completed]
    begun = [p for p in s.periods if p.started]
    if not done or len(done) > _CLOSED_WINDOW or len(begun) < _LONG_START:
        return ""
    first, last = done[0].start, done[-1].end - dt.timedelta(days=1)
    return (
        f"Nothing can be judged: every case of this export that completes does so between {first.isoformat()} "
        f"and {last.isoformat()}, while they started over {len(begun)} {s.period}s, so it looks like an "
        f"export of the cases closed in those {plural(len(done), s.period)}; the {s.period}s before hold only "
        "the starts of those cases, and no earlier cases to compare with. Export every case active over a "
        "longer span (opened or closed in the last year, say) to monitor it."
    )


def _left_out(run: MonitorRun) -> str:
    s = run.series
    cut = [p for p in s.periods if p.cut]
    parts = []
    if cut:
        last = cut[-1]
        if len(cut) == 1:
            parts.append(f"the {period_label(last.start, s.period)} is shown but not judged ({last.cut})")
        else:
            tail = [p for p in cut if "no case starts" in p.cut]
            head = [p for p in cut if "no case completes" in p.cut]
            partial = [p for p in cut if p.partial]
            words = f"{len(cut)} {s.period}s cut by the export's edges are shown but not judged"
            details = []
            if partial:
                details.append(f"{len(partial)} only partly covered")
            if tail:
                details.append(f"{len(tail)} after the last case start")
            if head:
                details.append(f"{len(head)} before the first completion")
            started = [p for p in cut if "began before the export" in p.cut]
            if started:
                details.append(f"{len(started)} whose cases began before the export")
            parts.append(words + (f" ({', '.join(details)})" if details else ""))
    if s.left_out_events:
        parts.append(
            f"{plural(s.left_out_events, 'event')} with placeholder or stray dates were left out with their "
            f"{plural(s.left_out, 'case')}"
        )
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _phase(run: MonitorRun) -> str:
    change = run.options.change_date
    if change is None:
        return ""
    old = [kc for kc in run.charts if kc.compared_with == "old phase"]
    if old:
        return (
            f"Until the {run.series.period}s since {change.isoformat()} number {NEW_PHASE_PERIODS} judged ones, "
            "the alerts compare them with the periods before the change."
        )
    return ""
