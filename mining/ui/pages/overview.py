"""Overview: the headline numbers of the filtered cases, their durations and throughput over the
window they span, and tables per activity, per resource and per attribute."""

from __future__ import annotations

import datetime as dt
import statistics

import streamlit as st

from mining.analysis.attributes import AttributeSummary
from mining.analysis.filters import Filter
from mining.analysis.span import TimeSpan
from mining.analysis.summary import ActivityRow, ResourceRow
from mining.durations import duration_words, format_duration
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md
from mining.ui.pages import quality_banner, quality_table, span_text, when_text
from mining.ui.tables import data_table
from mining.words import agree, plural

__all__ = ["TABLE_TABS", "render"]

#: The tables' tabs, in the page's order.
TABLE_TABS = ("Activities", "Resources", "Attributes")


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else duration_words(seconds)


def render() -> None:
    explore_page("Overview", _render)


def _window(span: TimeSpan, flt: Filter, first: dt.datetime | None, last: dt.datetime | None):
    """The time the figures cover: the filter's window where it cuts the data, else the kept cases' span,
    within the log's robust range (a placeholder date such as 9999-12-31 stretches neither)."""
    lo = flt.start if flt.start is not None and (first is None or flt.start > first) else first
    hi = flt.end if flt.end is not None and (last is None or flt.end < last) else last
    if span.first is not None and lo is not None and lo < span.first:
        lo = span.first
    if span.last is not None and hi is not None and hi > span.last:
        hi = span.last
    return lo, hi


def _period_words(t) -> str:
    """What the throughput chart's periods are, in plain words, with what the record's note adds
    (dates left out, a coarser period); its cycle-time definition is for other pages."""
    first = "Monday" if t.period == "week" else "the 1st" if t.period == "month" else "midnight"
    extra = [
        part
        for part in t.note.split("; ")
        if not part.startswith(("periods are local", "cycle time", f"per {t.period}:"))
    ]
    lead = next((part for part in t.note.split("; ") if part.startswith(f"per {t.period}:")), "")
    text = f"Each {t.period} starts on {first}, in {t.timezone} time."
    if lead:
        text = lead[0].upper() + lead[1:] + ". " + text
    return text + "".join(f" {part[0].upper()}{part[1:]}." for part in extra)


#: The median period must complete at least 1/_UNEVEN of the average one to stand for it.
_UNEVEN = 3


def _busiest(counts: list[int], share: float) -> int:
    """The fewest periods that hold ``share`` of the completions."""
    total, held = sum(counts), 0
    for k, n in enumerate(sorted(counts, reverse=True), start=1):
        held += n
        if held >= share * total:
            return k
    return len(counts)


def _completed_metric(completed: list[int], unit: str) -> tuple[str, str, str]:
    """Label, value and help of the completions-per-period figure.

    The median resists a few bulk weeks, but a log whose cases arrive in bursts (years of trickle,
    then a migration month) has a median of 0 that tells a manager nothing, and one whose bulk closes in
    a few weeks of a long export a median far below its average; the average is then shown and the
    help says why.
    """
    if not completed:
        return (f"Completed per {unit} (median)", "-", "No period of the time shown.")
    median = statistics.median(completed)
    mean = sum(completed) / len(completed)
    if median > 0 and median * _UNEVEN >= mean:
        return (
            f"Completed per {unit} (median)",
            f"{median:,.1f}",
            f"The median, over the {unit}s of the time shown, of the kept cases completed in the {unit}.",
        )
    if median > 0:
        # ServiceNow's incidents closed at up to 4,000 a week for four months, then a trickle for seven:
        # the median week (24) told nothing of the process.
        busiest = _busiest(completed, 0.9)
        return (
            f"Completed per {unit} (average)",
            f"{mean:,.1f}",
            f"The {unit}s are very uneven: 90% of the completions fall in {busiest:,} of the "
            f"{len(completed):,} {unit}s shown, and the median {unit} completes only {median:,.1f}; this is "
            f"the average over all {len(completed):,} {unit}s.",
        )
    idle = sum(1 for c in completed if c == 0)
    return (
        f"Completed per {unit} (average)",
        f"{mean:,.1f}",
        f"{idle:,} of the {len(completed):,} {unit}s of the time shown complete no kept case, so the "
        f"median is 0; this is the average over all {len(completed):,} {unit}s.",
    )


def _render(log: LogInfo, flt: Filter) -> None:
    graph, table, durations, weekly, activities, resources, attributes = measures.overview_measures(log, flt)
    span = measures.span_of(log)
    first, last = _window(span, flt, durations.first_ts, durations.last_ts)
    # Completed per week over the weeks of the window only (a case overlapping it may end far outside).
    # A log spanning too many weeks to draw is counted per month (weekly.period says so).
    unit = weekly.period
    reach = dt.timedelta(days=6 if unit == "week" else 30 if unit == "month" else 0)
    in_window = [
        p
        for p in weekly.periods
        if (first is None or p.period >= first.date() - reach) and (last is None or p.period <= last.date())
    ]
    top = st.columns(4)
    top[0].metric("Cases", f"{durations.count + durations.left_out:,}")
    top[1].metric("Events", f"{graph.events:,}")
    top[2].metric("Activities", f"{len(graph.activities):,}")
    top[3].metric("Variants", f"{table.total_variants:,}", help="Distinct sequences of activities.")
    low = st.columns(4)
    low[0].metric(
        "Median case duration", _duration(durations.median_seconds), help="Half the cases take less."
    )
    low[1].metric(
        "p90 case duration", _duration(durations.p90_seconds), help="9 cases in 10 take no longer than this."
    )
    label, value, meaning = _completed_metric([p.completed for p in in_window], unit)
    low[2].metric(label, value, help=meaning)
    zone = log.timezone
    low[3].metric(
        "Time span",
        span_text(first, last),
        help=f"{when_text(first, zone)} to {when_text(last, zone)} ({zone}, the log's time zone)",
    )
    runs_from = (span.first, span.last) if span.first is not None else (log.start, log.end)
    outside = ""
    if not span.complete:
        far = [
            f"{t:%Y-%m-%d}" for t in (span.earliest, span.latest) if t is not None and not span.contains(t)
        ]
        outside = (
            f" {span.left_out:,} event{'' if span.left_out == 1 else 's'} dated outside that range "
            f"(as far out as {' and '.join(far)}, UTC) {'is' if span.left_out == 1 else 'are'} left out of "
            "the time span and the charts' range: placeholder dates or typing errors."
        )
    if durations.left_out:
        n = durations.left_out
        outside += (
            f" {n:,} case{' begins or ends' if n == 1 else 's begin or end'} outside it, so "
            f"{'it is' if n == 1 else 'they are'} left out of the case durations."
        )
    if flt.is_empty:
        st.caption(
            f"The log runs from {when_text(runs_from[0], zone)} to {when_text(runs_from[1], zone)} ({zone})."
            + outside
        )
    else:
        st.caption(
            f"The figures cover {when_text(first, zone)} to {when_text(last, zone)} ({zone}); the whole log "
            f"runs from {when_text(runs_from[0], zone)} to {when_text(runs_from[1], zone)}." + outside
        )
    if durations.count + durations.left_out == 0:
        st.warning("No case is left by the filters.", icon=":material/filter_alt_off:")
        return
    quality = state.log_details(log).quality
    quality_banner(quality, filtered=not flt.is_empty)

    left, right = st.columns(2)
    with left:
        st.subheader("Case durations")
        if durations.count:
            st.altair_chart(charts.duration_histogram(durations), width="stretch")
        else:
            st.caption("Every kept case begins or ends on a date outside the log's main range.")
        if durations.log_bins:
            below = durations.under_a_minute
            st.caption(
                "A few cases last far longer than most, so the bars are spaced on a log scale: each bar "
                "covers a wider range than the one before."
                + (
                    f" {plural(below, 'case')} under {format_duration(durations.bin_edges[1])} (one event, "
                    f"or steps at one instant) {agree(below, 'has', 'have')} no place on it and "
                    f"{agree(below, 'is', 'are')} not drawn."
                    if below
                    else ""
                )
            )
    with right:
        st.subheader(f"Cases per {unit}")
        st.altair_chart(charts.throughput_chart(weekly, first, last), width="stretch")
        st.caption(md(_period_words(weekly)))

    st.subheader("Activities, resources and attributes")
    # One table at a time: only the chosen tab's table is drawn, so a rerun paints one grid, not three.
    tabs = st.tabs(list(TABLE_TABS), key=state.keep_widget("ov-table", TABLE_TABS[0]), on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            _activity_table(activities)
    if tabs[1].open:
        with tabs[1]:
            _resource_table(resources)
    if tabs[2].open:
        with tabs[2]:
            _attribute_table(attributes)

    why.cost_section(log, flt, key="ov-rates")

    st.subheader("Data quality")
    quality_table(quality)


def _activity_table(activities: tuple[ActivityRow, ...]) -> None:
    # A log without start times has no processing time: the column is left out, not shown empty.
    processing = any(a.processing_median is not None for a in activities)
    data_table(
        [
            {
                "activity": a.activity,
                "events": a.events,
                "cases": a.cases,
                **({"median processing": format_duration(a.processing_median)} if processing else {}),
                "median waiting before": format_duration(a.waiting_median),
            }
            for a in activities
        ],
        hide_index=True,
        width="stretch",
    )
    if not processing:
        st.caption(
            "The log records no start times, so the time an activity takes cannot be told apart from "
            "the wait before it: waiting runs from the previous activity's completion to this one's."
        )


def _resource_table(resources: tuple[ResourceRow, ...]) -> None:
    if not resources:
        st.caption("The log has no resources.")
        return
    data_table(
        [
            {"resource": r.resource, "events": r.events, "cases": r.cases, "activities": r.activities}
            for r in resources
        ],
        hide_index=True,
        width="stretch",
    )


def _attribute_table(attributes: tuple[AttributeSummary, ...]) -> None:
    if not attributes:
        st.caption("The log has no attributes.")
        return
    data_table(
        [
            {
                "attribute": a.name,
                "kind": f"{a.level}, {'number' if a.numeric else 'text'}",
                "cases with a value": a.cases,
                "distinct values": a.distinct,
                "summary": (
                    f"min {a.minimum:,g}, median {a.median:,g}, max {a.maximum:,g}"
                    if a.numeric and a.minimum is not None and a.median is not None and a.maximum is not None
                    else ", ".join(f"{v} ({n:,})" for v, n in a.top[:5])
                ),
            }
            for a in attributes
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption("A case attribute has one value per case; an event attribute may change within a case.")
