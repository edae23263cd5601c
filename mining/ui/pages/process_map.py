"""Process map: the directly-follows graph, simplified with two sliders.

The DOT comes from :func:`mining.ui.charts.dfg_dot` and is laid out in the
browser by ``st.graphviz_chart`` (no system Graphviz needed).
"""

from __future__ import annotations

import streamlit as st

from mining.analysis.filters import Filter
from mining.schema import LogInfo
from mining.ui import charts, measures, state
from mining.ui.layout import explore_page
from mining.ui.messages import md

__all__ = ["render"]

_READABLE = 20  # activities shown by default on a large log


def render() -> None:
    explore_page("Process map", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    (full,) = measures.process_map_measures(log, flt)
    n = len(full.activities)
    if n == 0:
        st.warning("No event is left by the filters.", icon=":material/filter_alt_off:")
        return
    mode = st.radio("Show", ["Frequency", "Performance"], horizontal=True, key="map-mode")
    cols = st.columns(2)
    default = 100 if n <= _READABLE else max(1, round(100 * _READABLE / n))
    activities = cols[0].slider(
        "Activities (%)",
        1,
        100,
        default,
        key="map-activities",
        help=f"The most frequent share of the {n} activities.",
    )
    paths = cols[1].slider(
        "Paths (%)",
        0,
        100,
        100 if n <= _READABLE else 30,
        key="map-paths",
        help="The most frequent share of the paths; the map is kept connected.",
    )
    graph = measures.process_map_of(log, flt, activities=activities / 100, paths=paths / 100)
    performance = mode == "Performance"
    # The overlay of the last check on the Conformance page; the map is unchanged until it is toggled on.
    kept = state.remembered_overlay(log)
    overlay = None
    if kept is None:
        st.caption("Check the log against a model on the **Conformance** page to mark its deviations here.")
    elif st.toggle("Show deviations from the model", key="map-overlay"):
        overlay = kept.overlay
    st.graphviz_chart(charts.dfg_dot(graph, performance=performance, overlay=overlay), width="stretch")
    if overlay is not None:
        shown = {(e.source, e.target) for e in graph.edges}
        paths = sum((o.source, o.target) in shown for o in overlay.edges)
        acts = sum(a in graph.activities for a, _, _ in overlay.activities)
        st.caption(
            f":orange[**Orange**]: {paths} path{'' if paths == 1 else 's'} and "
            f"{acts} activit{'y' if acts == 1 else 'ies'} on this map that the model "
            f"{md(kept.model)} does not allow"
            + ("." if overlay.complete else " (the model is too large to list its paths: activities only).")
        )
    label = (
        "median wait between the activities"
        if performance
        else "times one activity directly follows the other"
    )
    st.caption(
        f"{len(graph.activities)} of {n} activities and {len(graph.edges)} of {len(full.edges)} paths; "
        f"boxes show the activity and its events, edges the {label}."
    )
