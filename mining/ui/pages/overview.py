"""Overview: the headline numbers of the filtered log, its durations and throughput."""

from __future__ import annotations

import streamlit as st

from mining.analysis.filters import Filter
from mining.durations import duration_words
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md
from mining.ui.pages import quality_table, span_text, when_text

__all__ = ["render"]


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else duration_words(seconds)


def render() -> None:
    explore_page("Overview", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    graph, table, durations, weekly = measures.overview_measures(log, flt)

    top = st.columns(4)
    top[0].metric("Cases", f"{durations.count:,}")
    top[1].metric("Events", f"{graph.events:,}")
    top[2].metric("Activities", f"{len(graph.activities):,}")
    top[3].metric("Variants", f"{table.total_variants:,}")
    low = st.columns(4)
    low[0].metric("Median case duration", _duration(durations.median_seconds))
    low[1].metric("p90 case duration", _duration(durations.p90_seconds))
    per_week = charts.weekly_completed_median(weekly)
    low[2].metric(
        "Completed per week (median)",
        "-" if per_week is None else f"{per_week:,.1f}",
        help="The median, over the weeks of the log, of the cases completed in the week.",
    )
    # The kept cases' span, so a time-window or attribute filter shows the window it leaves.
    first, last = durations.first_ts, durations.last_ts
    low[3].metric("Time span", span_text(first, last), help=f"{when_text(first)} to {when_text(last)} (UTC)")
    if flt.is_empty:
        st.caption(f"The log runs from {when_text(log.start)} to {when_text(log.end)} UTC.")
    else:
        st.caption(
            f"The kept cases run from {when_text(first)} to {when_text(last)} UTC; "
            f"the whole log from {when_text(log.start)} to {when_text(log.end)}."
        )
    if durations.count == 0:
        st.warning("No case is left by the filters.", icon=":material/filter_alt_off:")
        return

    left, right = st.columns(2)
    with left:
        st.subheader("Case durations")
        st.altair_chart(charts.duration_histogram(durations), width="stretch")
    with right:
        st.subheader("Cases per week")
        st.altair_chart(charts.throughput_chart(weekly), width="stretch")
        st.caption(md(weekly.note))

    why.cost_section(log, flt, key="ov-rates")

    st.subheader("Data quality")
    quality_table(state.log_details(log).quality)
