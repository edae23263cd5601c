"""Variants: the distinct activity sequences, their Pareto chart, and a drill-down
from a variant (click its row) to its cases and from a case to its events and attributes."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from mining.analysis.filters import Filter
from mining.durations import format_duration
from mining.moments import local_text
from mining.schema import LogInfo
from mining.ui import charts, measures, state
from mining.ui.layout import explore_page
from mining.ui.pages import LIFECYCLE_NOTE
from mining.ui.tables import data_table

__all__ = ["render"]

_PARETO = 50  # variants in the chart
_CASES = 200  # cases listed per variant


def render() -> None:
    explore_page("Variants", _render)


def _events(n: int) -> str:
    return f"{n:,} event{'' if n == 1 else 's'}"


def _local(value: dt.datetime | None, zone: str) -> str:
    return local_text(value, zone, "%Y-%m-%d %H:%M:%S", none="")


def _render(log: LogInfo, flt: Filter) -> None:
    (table,) = measures.variants_measures(log, flt)
    if not table.variants:
        st.warning("No case is left by the filters.", icon=":material/filter_alt_off:")
        return
    shown = len(table.variants)
    st.caption(
        f"{table.total_variants:,} variants over {table.total_cases:,} cases"
        + (f"; the table shows the {shown:,} most frequent." if shown < table.total_variants else ".")
        + " A variant is one sequence of activities; click a row to see its cases."
    )
    if measures.timing_source_of(log) == "lifecycle":
        st.caption(LIFECYCLE_NOTE)
    st.subheader(f"Pareto of the top {min(_PARETO, shown)} variants")
    st.altair_chart(charts.pareto_chart(table.variants[:_PARETO]), width="stretch")

    rows = [
        {
            "variant": v.variant_id,
            "cases": v.cases,
            "share": f"{v.share:.1%}",
            "cumulative share": f"{v.cumulative_share:.1%}",
            "length": _events(len(v.activities)),
            "sequence": " → ".join(v.activities),
        }
        for v in table.variants
    ]
    by_id = {v.variant_id: v for v in table.variants}
    pick = state.keep_widget(f"variants-variant-{log.log_id}", table.variants[0].variant_id)
    if st.session_state[pick] not in by_id:
        st.session_state[pick] = table.variants[0].variant_id
    clicked = data_table(
        rows,
        hide_index=True,
        width="stretch",
        key="variants-table",
        on_select="rerun",
        selection_mode="single-row",
    )
    chosen_rows = getattr(getattr(clicked, "selection", None), "rows", None) or []
    if chosen_rows:
        st.session_state[pick] = rows[chosen_rows[0]]["variant"]

    st.subheader("Cases of a variant")
    variant_id = st.selectbox(
        "Variant",
        list(by_id),
        format_func=lambda i: f"#{i}: {by_id[i].cases:,} cases, {_events(len(by_id[i].activities))}",
        key=pick,
    )
    zone = log.timezone
    cases = measures.cases_of_variant(log, flt, variant_id, limit=_CASES)
    data_table(
        [
            {
                "case": c.case_id,
                "events": c.n_events,
                f"start ({log.timezone})": _local(c.start, zone),
                f"end ({log.timezone})": _local(c.end, zone),
                "duration": format_duration(c.duration_seconds),
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
    attributes = measures.case_attributes_of(log, case_id)
    # One value: the case's; several: event values that change along the case, not the case's own.
    single = [{"attribute": name, "value": values[0]} for name, values in attributes if len(values) == 1]
    changing = [
        {"attribute": name, "values on its events": ", ".join(values)}
        for name, values in attributes
        if len(values) > 1
    ]
    if single:
        st.subheader("Case attributes")
        data_table(single, hide_index=True, width="stretch")
    if changing:
        st.subheader("Event attributes that change within the case")
        data_table(changing, hide_index=True, width="stretch")
    st.subheader("Events of the case")
    events = measures.events_of_case(log, case_id)
    columns = {
        "activity": lambda e, prev: e.activity,
        f"start ({log.timezone})": lambda e, prev: _local(e.start_timestamp, zone),
        f"time ({log.timezone})": lambda e, prev: _local(e.timestamp, zone),
        "since previous": lambda e, prev: (
            "" if prev is None else format_duration((e.timestamp - prev.timestamp).total_seconds())
        ),
        "resource": lambda e, prev: e.resource or "",
        "lifecycle": lambda e, prev: e.lifecycle or "",
        "cost": lambda e, prev: "" if e.cost is None else f"{e.cost:,.2f}",
    }
    # A column no event fills is left out rather than shown empty.
    empty = {"start": all(e.start_timestamp is None for e in events)}
    empty["resource"] = all(not e.resource for e in events)
    empty["lifecycle"] = all(not e.lifecycle for e in events)
    empty["cost"] = all(e.cost is None for e in events)
    shown_columns = {k: f for k, f in columns.items() if not empty.get(k.split(" ")[0], False)}
    data_table(
        [
            {k: f(e, events[i - 1] if i else None) for k, f in shown_columns.items()}
            for i, e in enumerate(events)
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(f"{_events(len(events))}, times in the log's time zone ({log.timezone}).")
