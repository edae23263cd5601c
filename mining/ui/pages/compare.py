"""Compare: the segments of one attribute (team, branch, channel, product) side by side.

One :func:`mining.drivers.segments.compare_segments` run: a table of each
segment's KPIs with their intervals and their difference from the rest (also
case-mix adjusted), a chart of cycle times, and two segments' process maps
on one frozen layout (:func:`mining.ui.charts.frozen_pair_dots`, the
mechanism of the Monitoring page's before/after maps).
"""

from __future__ import annotations

import dataclasses

import altair as alt
import pandas as pd
import streamlit as st

from mining.analysis.filters import Filter
from mining.drivers.segments import KPI_LABELS, Segment, SegmentComparison
from mining.durations import duration_words, parse_duration
from mining.errors import AnalysisError
from mining.rates import RateCard, format_money
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md, reporting_errors

__all__ = ["DERIVED", "render"]

#: Segmentations that every log has, besides its attributes.
DERIVED = ("start weekday", "start month", "start hour")


def render() -> None:
    explore_page("Compare", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    choices = [*state.attributes_of(log), *DERIVED]
    cols = st.columns([2, 1, 3])
    by = cols[0].selectbox(
        "Compare by",
        choices,
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
        f"{result.cases:,} cases in {len(result.segments)} segment(s) of **{md(result.by)}**, "
        f"over {result.weeks:,.1f} weeks."
    )
    st.dataframe(_table(result, card), hide_index=True, width="stretch")
    st.caption(
        "Each cell: the segment's value (95% interval), then its difference from the rest of the cases, and in "
        "brackets that difference with the rest reweighted to the segment's mix of variants."
    )
    st.altair_chart(_cycle_chart(result), width="stretch")
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


def _cell(seg: Segment, kpi: str, currency: str) -> str:
    lo, hi = seg.intervals.get(kpi, (None, None))
    text = _show(kpi, seg.kpis.get(kpi), currency)
    if lo is not None and hi is not None:
        text += f" ({_show(kpi, lo, currency)} to {_show(kpi, hi, currency)})"
    vs = seg.vs_rest.get(kpi)
    if vs is not None and vs.difference is not None:
        text += f"; {_show(kpi, vs.difference, currency, signed=True)} vs rest"
        if vs.adjusted_difference is not None:
            text += f" [{_show(kpi, vs.adjusted_difference, currency, signed=True)}]"
    return text


def _table(result: SegmentComparison, card: RateCard | None) -> pd.DataFrame:
    currency = card.currency if card is not None else ""
    rows = []
    for seg in result.segments:
        row = {"segment": seg.value, "cases": seg.cases, "not complete": seg.open}
        for kpi in result.kpis:
            row[KPI_LABELS[kpi][0]] = _cell(seg, kpi, currency)
        rows.append(row)
    return pd.DataFrame(rows)


def _cycle_chart(result: SegmentComparison) -> alt.LayerChart:
    rows = []
    for seg in result.segments:
        median = seg.kpis.get("cycle_median_s")
        lo, hi = seg.intervals.get("cycle_median_s", (None, None))
        if median is None:
            continue
        rows.append(
            {
                "segment": seg.value,
                "median": median / 86_400,
                "lo": (lo if lo is not None else median) / 86_400,
                "hi": (hi if hi is not None else median) / 86_400,
                "cases": seg.cases,
            }
        )
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame, title="Median cycle time per segment, days (95% interval)")
    y = alt.Y("segment:N", sort=None, title=None, axis=alt.Axis(labelLimit=260))
    bars = base.mark_bar(color=charts.PALETTE[3]).encode(
        x=alt.X("median:Q", title="days"),
        y=y,
        tooltip=[
            alt.Tooltip("segment:N"),
            alt.Tooltip("cases:Q", format=","),
            alt.Tooltip("median:Q", format=",.2f", title="median (days)"),
        ],
    )
    rules = base.mark_rule(color=charts.PALETTE[6]).encode(x="lo:Q", x2="hi:Q", y=y)
    return (bars + rules).properties(height=max(120, 26 * len(rows)))


def _maps(log: LogInfo, flt: Filter, result: SegmentComparison) -> None:
    st.subheader("Process maps side by side")
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
    left = cols[0].selectbox("Left", names, index=0, key=f"cmp-left-{log.log_id}-{result.by}")
    right = cols[1].selectbox("Right", names, index=1, key=f"cmp-right-{log.log_id}-{result.by}")
    with reporting_errors():
        graphs = []
        for value in (left, right):
            kept = dataclasses.replace(flt, attributes=(*flt.attributes, (result.source, (value,))))
            graphs.append(measures.dfg_of(log, kept))
        dots = charts.frozen_pair_dots(graphs[0], graphs[1])
        st.caption("Both maps on one layout: an activity or path a segment lacks is left blank in its map.")
        for col, value, graph, dot in zip(cols, (left, right), graphs, dots, strict=True):
            col.caption(f"{md(result.by)} = {md(value)}: {graph.cases:,} cases")
            col.graphviz_chart(dot, width="stretch")
