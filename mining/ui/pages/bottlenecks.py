"""Bottlenecks: where cases wait, what is redone, and when and by whom work is done."""

from __future__ import annotations

import streamlit as st

from mining.analysis.filters import Filter
from mining.schema import LogInfo
from mining.ui import charts, measures, why
from mining.ui.layout import explore_page
from mining.ui.messages import md

__all__ = ["render"]


def _h(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def render() -> None:
    explore_page("Bottlenecks", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    times, rw, waits, load, people = measures.bottlenecks_measures(log, flt)
    if not times.activities:
        st.warning("No event is left by the filters.", icon=":material/filter_alt_off:")
        return

    st.subheader("Waiting and processing per activity")
    if not times.processing_measured:
        st.info(times.note, icon=":material/info:")
    st.altair_chart(charts.activity_times_chart(times), width="stretch")
    st.dataframe(
        [
            {
                "activity": a.activity,
                "instances": a.count,
                "median wait (hours)": _h(a.waiting.median),
                "p90 wait (hours)": _h(a.waiting.p90),
                "median processing (hours)": _h(a.processing.median),
                "p90 processing (hours)": _h(a.processing.p90),
            }
            for a in times.activities
        ],
        hide_index=True,
        width="stretch",
        key="bottlenecks-times",
    )
    if times.processing_measured:
        st.caption(md(times.note))

    st.subheader("Rework")
    cols = st.columns(4)
    cols[0].metric("Cases with rework", f"{rw.cases_with_rework:,}", help=f"of {rw.cases:,} cases")
    cols[1].metric("Rework share", f"{rw.rework_share:.1%}")
    cols[2].metric("Self / short loops", f"{rw.self_loops:,} / {rw.short_loops:,}")
    cols[3].metric("Ping-pong hand-overs", f"{rw.ping_pong:,}", help=f"in {rw.ping_pong_cases:,} cases")
    left, right = st.columns(2)
    with left:
        st.caption("Repeated activities")
        st.dataframe(
            [
                {
                    "activity": a.activity,
                    "cases": a.cases,
                    "cases repeating it": a.cases_repeated,
                    "extra executions": a.extra_executions,
                }
                for a in rw.activities
                if a.extra_executions
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption("Loops")
        st.dataframe(
            [
                {"kind": lp.kind, "pattern": " → ".join(lp.pattern), "count": lp.count, "cases": lp.cases}
                for lp in rw.loops
            ],
            hide_index=True,
            width="stretch",
        )
    with right:
        st.caption("Ping-pong between resources (X → Y → X)")
        if not rw.has_resources:
            st.caption("The log has no resources.")
        else:
            st.dataframe(
                [
                    {"resources": " ⇄ ".join(p.resources), "count": p.count, "cases": p.cases}
                    for p in rw.ping_pong_pairs
                ],
                hide_index=True,
                width="stretch",
            )

    why.waste_section(log, flt, key="bn-rates")

    st.subheader("Heatmaps")
    st.caption("Median wait per transition and week (the most frequent transitions)")
    st.altair_chart(
        charts.heatmap_chart(waits, row_title="Transition", column_title="Week starting"),
        width="stretch",
        key="heatmap-transition",
    )
    st.caption("Activity instances completed per weekday and hour")
    st.altair_chart(
        charts.heatmap_chart(load, row_title="Activity", column_title="Weekday and hour"),
        width="stretch",
        key="heatmap-load",
    )
    st.caption("Activity instances per resource (the busiest resources)")
    if not people.rows:
        st.caption("The log has no resources.")
    else:
        st.altair_chart(
            charts.heatmap_chart(people, row_title="Resource", column_title="Activity"),
            width="stretch",
            key="heatmap-resource",
        )
    for h in (waits, load, people):
        if h.note:
            st.caption(md(h.note))
