"""Compare: the segments of one attribute (team, branch, channel, product) side by side.

One :func:`mining.drivers.segments.compare_segments` run: a table of each
segment's KPIs with their intervals and their difference from the rest (also
case-mix adjusted), a chart of cycle times, and two segments' process maps
drawn as the Process map page draws its map, on one layout for both
(:func:`mining.ui.mapdraw.draw_pair`, as the Monitoring page's before/after maps).
"""

from __future__ import annotations

import dataclasses

import altair as alt
import pandas as pd
import streamlit as st

from mining.analysis.attributes import segmentations
from mining.analysis.filters import Filter
from mining.drivers.segments import KPI_LABELS, SegmentComparison
from mining.durations import duration_words, parse_duration
from mining.errors import AnalysisError
from mining.rates import format_money
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.mapview import PAIR_LEGEND, pair_height, show_map
from mining.ui.messages import md, reporting_errors
from mining.ui.pages.process_map import drawn_pair
from mining.ui.tables import data_table
from mining.words import plural

__all__ = ["DERIVED", "render"]

#: Segmentations that every log has, besides its attributes.
DERIVED = ("start weekday", "start month", "start hour")


def render() -> None:
    explore_page("Compare", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    choices = [*state.attributes_of(log), *DERIVED]
    # It opens on the attribute that best splits the cases into kinds, not on the file's first column
    # (a date, an id, a per-case label); else on the weekday cases start.
    best = segmentations(measures.attribute_summaries_of(log, Filter()))
    opening = best[0] if best and best[0] in choices else "start weekday"
    cols = st.columns([2, 1, 3])
    by = cols[0].selectbox(
        "Compare by",
        choices,
        index=choices.index(opening),
        key=f"cmp-by-{log.log_id}",
        help="The attribute whose values are the segments: a team, branch, channel or product, or when cases start.",
    )
    _, sla_default = state.sample_defaults(log.name)
    sla_text = cols[1].text_input(
        "SLA (cycle time)",
        value=sla_default,
        key=f"cmp-sla-{log.log_id}",
        placeholder="e.g. 5d, 36h, P5D",
        help="A limit on the elapsed cycle time for the breach rate; empty: no SLA.",
    )
    card = why.rate_card_control(key="cmp-rates")
    sla = (
        parse_duration(sla_text.strip(), what="SLA", error=AnalysisError).total_seconds
        if sla_text.strip()
        else None
    )
    result = why.segments_of(log, flt, by, sla_seconds=sla, card=card)
    st.caption(
        f"{result.cases:,} cases in {plural(len(result.segments), 'segment')} of **{md(result.by)}**, "
        f"over {result.weeks:,.1f} weeks."
    )
    currency = card.currency if card is not None else ""
    data_table(_overview(result, currency), hide_index=True, width="stretch")
    kpi = st.selectbox(
        "KPI in detail",
        list(result.kpis),
        format_func=lambda k: KPI_LABELS[k][0],
        key="cmp-kpi",
        help="Each segment's value with its 95% interval, and its difference from the rest of the cases.",
    )
    data_table(_detail(result, kpi, currency), hide_index=True, width="stretch")
    st.caption(
        "Mix-adjusted: the difference with the rest's cases reweighted to the segment's mix of variants, so a "
        "segment that simply gets harder cases is not blamed for them."
    )
    st.altair_chart(_kpi_chart(result, kpi), width="stretch")
    _maps(log, flt, result)
    with st.expander("How this was computed", icon=":material/info:"):
        st.markdown(md(result.note))


def _show(kpi: str, v: float | None, currency: str, *, signed: bool = False) -> str:
    if v is None:
        return "-"
    unit = KPI_LABELS[kpi][1]
    sign = ("+" if v >= 0 else "-") if signed else ""
    if unit == "seconds":
        return sign + duration_words(abs(v))
    if unit == "share":
        return f"{v * 100:+.1f} pp" if signed else f"{v:.1%}"
    if unit == "money":
        return sign + format_money(abs(v), currency)
    return f"{v:+,.1f}" if signed else f"{v:,.1f}"


def _overview(result: SegmentComparison, currency: str) -> pd.DataFrame:
    rows = []
    for seg in result.segments:
        row: dict[str, object] = {"segment": seg.value, "cases": seg.cases, "not complete": seg.open}
        for kpi in result.kpis:
            row[KPI_LABELS[kpi][0]] = _show(kpi, seg.kpis.get(kpi), currency)
        rows.append(row)
    return pd.DataFrame(rows)


def _between(kpi: str, lo: float | None, hi: float | None, currency: str, *, signed: bool = False) -> str:
    if lo is None or hi is None:
        return "-"
    return f"{_show(kpi, lo, currency, signed=signed)} to {_show(kpi, hi, currency, signed=signed)}"


def _detail(result: SegmentComparison, kpi: str, currency: str) -> pd.DataFrame:
    rows = []
    for seg in result.segments:
        lo, hi = seg.intervals.get(kpi, (None, None))
        vs = seg.vs_rest.get(kpi)
        dlo, dhi = vs.ci if vs is not None else (None, None)
        rows.append(
            {
                "segment": seg.value,
                KPI_LABELS[kpi][0]: _show(kpi, seg.kpis.get(kpi), currency),
                "95% interval": _between(kpi, lo, hi, currency),
                "the rest": _show(kpi, vs.rest if vs else None, currency),
                "difference": _show(kpi, vs.difference if vs else None, currency, signed=True),
                "its 95% interval": _between(kpi, dlo, dhi, currency, signed=True),
                "mix-adjusted": _show(kpi, vs.adjusted_difference if vs else None, currency, signed=True),
            }
        )
    return pd.DataFrame(rows)


def _kpi_chart(result: SegmentComparison, kpi: str) -> alt.LayerChart:
    label, unit = KPI_LABELS[kpi]
    factor, axis = {"seconds": (86_400.0, "days"), "share": (0.01, "%")}.get(unit, (1.0, unit))
    rows = []
    for seg in result.segments:
        value = seg.kpis.get(kpi)
        if value is None:
            continue
        lo, hi = seg.intervals.get(kpi, (None, None))
        rows.append(
            {
                "segment": seg.value,
                "value": value / factor,
                "lo": (lo if lo is not None else value) / factor,
                "hi": (hi if hi is not None else value) / factor,
                "cases": seg.cases,
            }
        )
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame, title=f"{label} per segment, {axis} (95% interval)")
    y = alt.Y("segment:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    bars = base.mark_bar(color=charts.PALETTE[2]).encode(
        x=alt.X("value:Q", title=axis),
        y=y,
        tooltip=[
            alt.Tooltip("segment:N"),
            alt.Tooltip("cases:Q", format=","),
            alt.Tooltip("value:Q", format=",.2f", title=f"{label} ({axis})"),
        ],
    )
    rules = base.mark_rule(color=charts.PALETTE[6], strokeWidth=2).encode(x="lo:Q", x2="hi:Q", y=y)
    return (bars + rules).properties(height=alt.Step(26))


def _maps(log: LogInfo, flt: Filter, result: SegmentComparison) -> None:
    st.subheader("Process maps of two segments")
    drawable = [s for s in result.segments if s.source_value is not None]
    if result.source is None or len(drawable) < 2:
        st.info(
            "Maps are drawn for segments that are values of a case attribute (such as a team or a channel); "
            f"{md(result.by)} is not one.",
            icon=":material/info:",
        )
        return
    names = [s.value for s in drawable]
    cols = st.columns(2)
    left = cols[0].selectbox("First map", names, index=0, key=f"cmp-left-{log.log_id}-{result.by}")
    right = cols[1].selectbox("Second map", names, index=1, key=f"cmp-right-{log.log_id}-{result.by}")
    with reporting_errors():
        # Each segment's whole graph, drawn on a simplified layout of both (as the Monitoring page's maps):
        # a path drawn in one map only is then one the other segment never took, not one its own
        # simplification hid.
        graphs = []
        for value in (left, right):
            kept = dataclasses.replace(flt, attributes=(*flt.attributes, (result.source, (value,))))
            graphs.append(measures.process_map_of(log, kept, activities=1.0, paths=1.0))
        words = (f"in {result.by} = {left}", f"in {result.by} = {right}")
        drawings = drawn_pair(
            graphs[0], graphs[1], words, key=f"cmp-map-paths-{log.log_id}", both="both segments"
        )
        st.caption(PAIR_LEGEND)
        # One above the other, each the page's width, with the Process map's zoom: side by side their
        # labels shrank to 5 px.
        for i, (value, graph, drawing) in enumerate(zip((left, right), graphs, drawings, strict=True)):
            st.caption(f"{md(result.by)} = {md(value)}: {graph.cases:,} cases")
            show_map(
                drawing,
                key=f"cmp-map-{i}",
                height_px=pair_height(drawing),
                clickable=False,
                label=f"Map of {result.by} = {value}",
            )
