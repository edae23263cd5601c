"""Variants: the distinct activity sequences, their Pareto chart, and a drill-down
from a variant to its cases and from a case to its events."""

from __future__ import annotations

import streamlit as st

from mining.analysis.filters import Filter
from mining.schema import LogInfo
from mining.ui import charts, measures
from mining.ui.layout import explore_page

__all__ = ["render"]

_PARETO = 50  # variants in the chart
_CASES = 200  # cases listed per variant


def render() -> None:
    explore_page("Variants", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    (table,) = measures.variants_measures(log, flt)
    if not table.variants:
        st.warning("No case is left by the filters.", icon=":material/filter_alt_off:")
        return
    shown = len(table.variants)
    st.caption(
        f"{table.total_variants:,} variants over {table.total_cases:,} cases"
        + (f"; the table shows the {shown:,} most frequent." if shown < table.total_variants else ".")
    )
    st.subheader(f"Pareto of the top {min(_PARETO, shown)} variants")
    st.altair_chart(charts.pareto_chart(table.variants[:_PARETO]), width="stretch")

    rows = [
        {
            "variant": v.variant_id,
            "cases": v.cases,
            "share": f"{v.share:.1%}",
            "cumulative share": f"{v.cumulative_share:.1%}",
            "length": len(v.activities),
            "sequence": " → ".join(v.activities),
        }
        for v in table.variants
    ]
    st.dataframe(rows, hide_index=True, width="stretch", key="variants-table")

    st.subheader("Cases of a variant")
    by_id = {v.variant_id: v for v in table.variants}
    variant_id = st.selectbox(
        "Variant",
        list(by_id),
        format_func=lambda i: f"#{i}: {by_id[i].cases:,} cases, {len(by_id[i].activities)} events",
        key="variants-variant",
    )
    cases = measures.cases_of_variant(log, flt, variant_id, limit=_CASES)
    st.dataframe(
        [
            {
                "case": c.case_id,
                "events": c.n_events,
                "start (UTC)": c.start,
                "end (UTC)": c.end,
                "duration (hours)": round(c.duration_seconds / 3600, 2),
            }
            for c in cases.cases
        ],
        hide_index=True,
        width="stretch",
    )
    if cases.truncated:
        st.caption(f"The first {len(cases.cases):,} cases, earliest first.")
    if not cases.cases:
        return
    case_id = st.selectbox("Case", [c.case_id for c in cases.cases], key=f"variants-case-{variant_id}")
    st.subheader("Events of the case")
    st.dataframe(
        [
            {
                "activity": e.activity,
                "start (UTC)": e.start_timestamp,
                "timestamp (UTC)": e.timestamp,
                "resource": e.resource or "",
                "lifecycle": e.lifecycle or "",
                "cost": e.cost,
            }
            for e in measures.events_of_case(log, case_id)
        ],
        hide_index=True,
        width="stretch",
    )
