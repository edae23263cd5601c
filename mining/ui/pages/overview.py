"""Overview: the headline numbers of the filtered log, its durations and throughput."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from mining.analysis.filters import Filter
from mining.schema import LogInfo
from mining.ui import charts, state
from mining.ui.filters import explore_page
from mining.ui.pages import _span, _when, quality_table

if TYPE_CHECKING:
    from mining.analysis.dfg import DFG
    from mining.analysis.durations import CaseDurations
    from mining.analysis.throughput import Throughput
    from mining.analysis.variants import VariantTable

__all__ = ["measures", "render"]


def _days(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 86400:,.1f} days"


def render() -> None:
    explore_page("Overview", _render)


def measures(log: LogInfo, flt: Filter) -> tuple[DFG, VariantTable, CaseDurations, Throughput]:
    """Everything the page shows under ``flt``, from the cache: the page draws it, the warm-up fills it."""
    return (
        state.dfg_of(log, flt),
        state.variants_of(log, flt, top=1),
        state.case_durations_of(log, flt),
        state.throughput_of(log, flt, period="week"),
    )


def _render(log: LogInfo, flt: Filter) -> None:
    graph, table, durations, weekly = measures(log, flt)

    top = st.columns(4)
    top[0].metric("Cases", f"{durations.count:,}")
    top[1].metric("Events", f"{graph.events:,}")
    top[2].metric("Activities", f"{len(graph.activities):,}")
    top[3].metric("Variants", f"{table.total_variants:,}")
    low = st.columns(4)
    low[0].metric("Median case duration", _days(durations.median_seconds))
    low[1].metric("p90 case duration", _days(durations.p90_seconds))
    per_week = charts.weekly_completed_median(weekly)
    low[2].metric(
        "Completed per week (median)",
        "-" if per_week is None else f"{per_week:,.1f}",
        help="The median, over the weeks of the log, of the cases completed in the week.",
    )
    # The kept cases' span, so a time-window or attribute filter shows the window it leaves.
    first, last = durations.first_ts, durations.last_ts
    low[3].metric("Time span", _span(first, last), help=f"{_when(first)} to {_when(last)} (UTC)")
    if flt.is_empty:
        st.caption(f"The log runs from {_when(log.start)} to {_when(log.end)} UTC.")
    else:
        st.caption(
            f"The kept cases run from {_when(first)} to {_when(last)} UTC; "
            f"the whole log from {_when(log.start)} to {_when(log.end)}."
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
        st.caption(state.md(weekly.note))

    st.subheader("Data quality")
    quality_table(state.log_details(log).quality)
