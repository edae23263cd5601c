"""Process map: the directly-follows graph, simplified to what a person can read, with its figures.

The first drawing of a log keeps at most :data:`DEFAULT_ACTIVITIES` activities
and about :data:`DEFAULT_PATHS` paths, as Disco starts: the most frequent
activities, then the most frequent paths between them plus those that keep
every box connected to the start and the end.  The sliders belong to the log
(their keys hold its id), so another log starts from its own defaults.  The
drawing is :mod:`mining.ui.mapview`'s: zoom, pan, full screen, and a click on a
box or a path (or a pick from the list below it) shows its figures and offers
to keep only the cases that pass through it.
"""

from __future__ import annotations

import math

import streamlit as st

from mining.analysis.details import ActivityDetail
from mining.analysis.dfg import DFG
from mining.analysis.filters import Filter
from mining.analysis.simplify import simplify
from mining.durations import format_duration
from mining.schema import LogInfo
from mining.ui import measures, state
from mining.ui.filters import prefix_of
from mining.ui.layout import explore_page
from mining.ui.mapdraw import MapDrawing, draw_map, draw_pair, union_of
from mining.ui.mapview import show_map
from mining.ui.messages import md
from mining.ui.pages import LIFECYCLE_NOTE, object_centric_note

__all__ = ["DEFAULT_ACTIVITIES", "DEFAULT_PATHS", "default_paths", "drawn_pair", "endpoint_min", "render"]

#: The most activities and (about) the most paths of a map's first drawing.
DEFAULT_ACTIVITIES = measures.MAP_ACTIVITIES
DEFAULT_PATHS = 60
_NONE = "(nothing selected)"


def render() -> None:
    explore_page("Process map", _render)


def default_paths(full: DFG) -> int:
    """The paths slider's first value (%) for the map ``full`` (its chosen activities, every path):
    about :data:`DEFAULT_PATHS` paths drawn, counting those from the start and to the end and the
    paths the simplification adds to keep every activity connected."""
    ends = len(full.start) + len(full.end)
    total = len(full.edges) + ends
    if total <= DEFAULT_PATHS:
        return 100
    share = math.floor(100 * DEFAULT_PATHS / total)
    # The connecting paths come on top of the share: step down until the drawing fits (pure Python).
    while share > 0:
        drawn = len(simplify(full, activities=1.0, paths=share / 100).edges)
        if drawn + math.ceil(share / 100 * ends) <= DEFAULT_PATHS:
            break
        share -= 1
    return share


def endpoint_min(graph: DFG, paths: int) -> int:
    """The fewest cases a path from the start or to the end needs to be drawn at ``paths`` %: the slider
    keeps that share of them, most frequent first, as it does of the other paths."""
    counts = sorted([*graph.start.values(), *graph.end.values()], reverse=True)
    keep = math.ceil(paths / 100 * len(counts) - 1e-9)
    if keep >= len(counts):
        return 0
    return counts[keep - 1] if keep > 0 else counts[0] + 1


def drawn_pair(
    first: DFG, second: DFG, names: tuple[str, str], *, key: str, both: str
) -> tuple[MapDrawing, MapDrawing]:
    """Two whole graphs on one layout (Monitoring's before and after, Compare's segments), the layout
    simplified by a Paths slider (``key``) that opens as the Process map does: about
    :data:`DEFAULT_PATHS` paths, those that keep every activity connected on top.  Each drawing holds
    its whole graph, so a path in one only is one the other never took.  ``both`` names the two in the
    slider's help ("both periods")."""
    union = union_of(first, second)
    paths = st.slider(
        "Paths (%)",
        0,
        100,
        key=state.keep_widget(key, default_paths(union)),
        help=f"The most frequent share of the paths of {both} together; paths that keep every activity "
        "connected from the start to the end are always drawn.",
    )
    layout = simplify(union, activities=1.0, paths=paths / 100)
    return draw_pair(first, second, names, layout=layout, endpoint_min=endpoint_min(layout, paths))


def _render(log: LogInfo, flt: Filter) -> None:
    full, _ = measures.process_map_measures(log, flt)
    n = len(full.activities)
    if n == 0:
        st.warning("No event is left by the filters.", icon=":material/filter_alt_off:")
        return
    top = st.columns([2, 2, 3])
    mode = top[0].radio(
        "Show",
        ["Frequency", "Performance"],
        horizontal=True,
        key=state.keep_widget("map-mode", "Frequency"),
        help="Frequency: how often each activity and path occurs. Performance: how long they take "
        "(medians; the counts are in the tooltips).",
    )
    performance = mode == "Performance"
    times = measures.activity_times_of(log, flt) if performance else None
    box = "waiting"
    if times is not None and times.processing_measured:
        box = top[1].radio(
            "Boxes show",
            ["processing", "waiting"],
            horizontal=True,
            key=state.keep_widget("map-box", "processing"),
            help="processing: median time from the activity's start to its completion; waiting: median "
            "time from the previous activity's completion to its start.",
        )
    cols = st.columns(2)
    key_a, key_p = f"map-activities-{log.log_id}", f"map-paths-{log.log_id}"
    state.keep_widget(key_a, min(n, DEFAULT_ACTIVITIES))
    st.session_state[key_a] = max(1, min(int(st.session_state[key_a]), n))
    first_paths = 100
    if not state.has_widget(key_p):
        shown = measures.process_map_of(log, flt, activities=st.session_state[key_a] / n, paths=1.0)
        first_paths = default_paths(shown)
    state.keep_widget(key_p, first_paths)
    if n > 1:
        activities = cols[0].slider(
            "Activities",
            1,
            n,
            key=key_a,
            help=f"How many of the {n} activities to show, most frequent first.",
        )
    else:
        activities = 1
    paths = cols[1].slider(
        "Paths (%)",
        0,
        100,
        key=key_p,
        help="The most frequent share of the paths between the shown activities; paths that keep every "
        "activity connected from the start to the end are always drawn.",
    )
    graph = measures.process_map_of(log, flt, activities=activities / n, paths=paths / 100)
    # The overlay of the last check on the Conformance page; the map is unchanged until it is toggled on.
    kept = state.remembered_overlay(log)
    overlay = None
    if kept is not None and st.toggle("Show deviations from the model", key="map-overlay"):
        overlay = kept.overlay
    box_times = None
    if times is not None:
        box_times = {
            a.activity: (a.processing.median if box == "processing" else a.waiting.median)
            for a in times.activities
        }
    pick_key = f"map-pick-{log.log_id}"
    choices = [_NONE, *graph.activities, *(f"{e.source} → {e.target}" for e in graph.edges)]
    drawing = draw_map(
        graph,
        performance=performance,
        box_times=box_times,
        box_label=f"median {box}" if times is not None else "median",
        bad_edges=frozenset((o.source, o.target) for o in overlay.edges) if overlay else frozenset(),
        bad_nodes=frozenset(a for a, _, _ in overlay.activities) if overlay else frozenset(),
        selected=st.session_state.get(pick_key),
        endpoint_min=endpoint_min(graph, paths),
    )
    clicked = show_map(drawing, key=f"map-view-{log.log_id}")
    if clicked in choices:
        st.session_state[pick_key] = clicked
    _caption(graph, full, performance, box, times is not None and times.processing_measured)
    flattened = object_centric_note(log.mapping, on_map=True)
    if flattened:
        st.caption(flattened)
    if measures.timing_source_of(log) == "lifecycle":
        st.caption(LIFECYCLE_NOTE)
    if drawing.hidden_endpoints:
        st.caption(
            f"{drawing.hidden_endpoints} rare paths from the start or to the end are left out, as rare as "
            "the paths the slider hides; set Paths to 100 % to see every one."
        )
    if overlay is not None and kept is not None:
        shown_paths = {(e.source, e.target) for e in graph.edges}
        bad_paths = sum((o.source, o.target) in shown_paths for o in overlay.edges)
        acts = sum(a in graph.activities for a, _, _ in overlay.activities)
        st.caption(
            f":orange[**Orange**]: {bad_paths} path{'' if bad_paths == 1 else 's'} and "
            f"{acts} activit{'y' if acts == 1 else 'ies'} on this map that the model "
            f"{md(kept.model)} does not allow"
            + ("." if overlay.complete else " (the model is too large to list its paths: activities only).")
        )
    elif kept is None:
        st.caption("Check the log against a model on the **Conformance** page to mark its deviations here.")

    st.subheader("Activity or path")
    if st.session_state.get(pick_key) not in choices:
        st.session_state[pick_key] = _NONE
    name = st.selectbox(
        "Click a box or a path on the map, or pick one here",
        choices,
        key=pick_key,
    )
    if name != _NONE:
        _details(log, flt, name)


def _caption(graph, full, performance: bool, box: str, measured: bool) -> None:
    if performance:
        what = (
            f"boxes show the median {box} time"
            + (
                ""
                if measured
                else " (the log records no start times, so waiting is the time between completions)"
            )
            + ", paths the median time between the two activities"
        )
    else:
        what = "boxes show how many times the activity happened, paths how often one activity directly follows the other"
    st.caption(
        f"{len(graph.activities)} of {len(full.activities)} activities and {len(graph.edges)} of "
        f"{len(full.edges)} paths; {what}. Scroll or use the buttons to zoom, drag to move; "
        "hover for the figures."
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def _details(log: LogInfo, flt: Filter, name: str) -> None:
    found = measures.detail_of(log, flt, name)
    prefix = prefix_of(log)
    if isinstance(found, ActivityDetail):
        cols = st.columns(4)
        cols[0].metric("Events", f"{found.events:,}")
        cols[1].metric("Cases", f"{found.cases:,}")
        if found.processing_measured:
            cols[2].metric(
                "Processing, median / p90",
                f"{_seconds(found.processing_median)} / {_seconds(found.processing_p90)}",
                help="From the activity's start to its completion; p90: 9 in 10 take no longer.",
            )
        cols[3 if found.processing_measured else 2].metric(
            "Waiting before it, median / p90",
            f"{_seconds(found.waiting_median)} / {_seconds(found.waiting_p90)}",
            help="From the previous activity's completion to this one's start; p90: 9 in 10 wait no longer.",
        )
        if found.top_resources:
            st.caption("Done most by: " + ", ".join(f"{md(r)} ({n:,})" for r, n in found.top_resources))
        label = f"Keep only the cases passing through {name}"
        current = list(st.session_state.get(prefix + "through", []))
        st.button(
            label,
            key="map-keep",
            icon=":material/filter_alt:",
            on_click=state.set_widget,
            args=(prefix + "through", sorted({*current, name})),
        )
        return
    cols = st.columns(3)
    cols[0].metric("Times", f"{found.count:,}")
    cols[1].metric("Cases", f"{found.cases:,}")
    cols[2].metric(
        "Time between, median / p90",
        f"{_seconds(found.median_seconds)} / {_seconds(found.p90_seconds)}",
        help=f"From the completion of {found.source} to the completion of {found.target}; p90: 9 in 10 take no longer.",
    )
    if found.top_handovers:
        st.caption(
            "Handed over most by: "
            + ", ".join(f"{md(a)} → {md(b)} ({n:,})" for a, b, n in found.top_handovers)
        )
    st.button(
        f"Keep only the cases where {found.source} is directly followed by {found.target}",
        key="map-keep",
        icon=":material/filter_alt:",
        on_click=_keep_path,
        args=(prefix, found.source, found.target),
    )


def _keep_path(prefix: str, source: str, target: str) -> None:
    state.set_widget(prefix + "fa", source)
    state.set_widget(prefix + "fb", target)
    state.set_widget(prefix + "fmode", "directly")
