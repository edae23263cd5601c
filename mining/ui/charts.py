"""Altair charts and Graphviz DOT built from the library's result records.

The builders only lay out what a record holds: they convert units (seconds to
hours or days) and reshape a record into the long table a chart needs.  Every
chart uses the one colour scheme defined here (:data:`SCHEME`, and
:data:`PALETTE` for the few fixed colours and the DOT process map), so the
pages look alike.  Activity names are user data: DOT labels go through
:func:`dot_quote`, and nothing here produces HTML.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import altair as alt
import pandas as pd

from mining.analysis.dfg import DFG
from mining.analysis.durations import CaseDurations
from mining.analysis.heatmaps import Heatmap
from mining.analysis.performance import ActivityTimes
from mining.analysis.throughput import Throughput
from mining.analysis.variants import Variant

__all__ = [
    "PALETTE",
    "SCHEME",
    "activity_times_chart",
    "days",
    "dfg_dot",
    "dot_quote",
    "duration_histogram",
    "heatmap_chart",
    "heatmap_frame",
    "hours",
    "pareto_chart",
    "throughput_chart",
    "weekly_completed_median",
]

#: The Vega colour scheme of every quantitative colour encoding.
SCHEME = "blues"
#: The same scheme as fixed colours, light to dark (for categories and the DOT map).
PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_MAIN = PALETTE[4]
_ACCENT = PALETTE[6]
_SECOND = PALETTE[1]


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 86400


def _duration_text(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


# -- overview -------------------------------------------------------------------
def duration_histogram(d: CaseDurations) -> alt.Chart:
    """Bars of cases per duration bin, in days."""
    rows = [
        {"from": d.bin_edges[i] / 86400, "to": d.bin_edges[i + 1] / 86400, "cases": n}
        for i, n in enumerate(d.bin_counts)
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["from", "to", "cases"]))
        .mark_bar(color=_MAIN)
        .encode(
            x=alt.X("from:Q", title="Case duration (days)", bin="binned"),
            x2="to:Q",
            y=alt.Y("cases:Q", title="Cases"),
            tooltip=[
                alt.Tooltip("from:Q", title="from (days)", format=".1f"),
                alt.Tooltip("to:Q", title="to (days)", format=".1f"),
                "cases:Q",
            ],
        )
    )


def throughput_chart(t: Throughput) -> alt.Chart:
    """Cases started and completed per period, as two lines."""
    rows = [
        {"period": p.period.isoformat(), "kind": kind, "cases": n}
        for p in t.periods
        for kind, n in (("started", p.started), ("completed", p.completed))
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["period", "kind", "cases"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=f"{t.period.capitalize()} starting ({t.timezone})"),
            y=alt.Y("cases:Q", title=f"Cases per {t.period}"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["started", "completed"], range=[_SECOND, _ACCENT]),
            ),
            tooltip=["period:T", "kind:N", "cases:Q"],
        )
    )


def weekly_completed_median(t: Throughput) -> float | None:
    """The median number of cases completed per period (display figure)."""
    return statistics.median(p.completed for p in t.periods) if t.periods else None


# -- process map ----------------------------------------------------------------
def dot_quote(text: str) -> str:
    """A DOT double-quoted string showing ``text`` literally (escString-safe)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


def _colour(value: float, lo: float, hi: float) -> str:
    if hi <= lo:
        return PALETTE[3]
    # Skip the lightest shades: they vanish on a white background.
    shades = PALETTE[2:]
    i = min(len(shades) - 1, int((value - lo) / (hi - lo) * len(shades)))
    return shades[i]


def dfg_dot(graph: DFG, *, performance: bool = False) -> str:
    """DOT of a DFG, left to right: activities with counts; edges labelled and
    weighted by count, or labelled and coloured by median wait (``performance``)."""
    ids = {name: f"a{i}" for i, name in enumerate(graph.activities)}
    lines = [
        "digraph process {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
        f'fillcolor="{PALETTE[0]}", color="{PALETTE[5]}"];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f'  __start [label="start", shape=circle, style=filled, fillcolor="{PALETTE[2]}", fontsize=8];',
        f'  __end [label="end", shape=doublecircle, style=filled, fillcolor="{PALETTE[5]}", '
        "fontcolor=white, fontsize=8];",
    ]
    for name, n in graph.activities.items():
        label = dot_quote(name + "\n" + f"{n:,}")
        lines.append(f"  {ids[name]} [label={label}];")
    top = max((e.count for e in graph.edges), default=1)
    waits = [e.median_seconds for e in graph.edges]
    lo, hi = (min(waits), max(waits)) if waits else (0.0, 0.0)
    for e in graph.edges:
        if e.source not in ids or e.target not in ids:
            continue
        width = 1 + 5 * e.count / top
        if performance:
            label = _duration_text(e.median_seconds)
            colour = _colour(e.median_seconds, lo, hi)
        else:
            label = f"{e.count:,}"
            colour = PALETTE[5]
        lines.append(
            f"  {ids[e.source]} -> {ids[e.target]} "
            f'[label={dot_quote(label)}, penwidth={width:.2f}, color="{colour}"];'
        )
    # Dashed edges from the start node and into the end node, width by count.
    for counts, edge in ((graph.start, "__start -> {}"), (graph.end, "{} -> __end")):
        top = max(counts.values(), default=1)
        for name, n in counts.items():
            if name in ids:
                lines.append(
                    f'  {edge.format(ids[name])} [label="{n:,}", style=dashed, '
                    f'penwidth={1 + 3 * n / top:.2f}, color="{PALETTE[2]}"];'
                )
    lines.append("}")
    return "\n".join(lines)


# -- variants -------------------------------------------------------------------
def pareto_chart(items: Sequence[Variant]) -> alt.LayerChart:
    """Bars of cases per variant and a line of the cumulative share of cases."""
    rows = [
        {"variant": v.variant_id, "cases": v.cases, "cumulative": v.cumulative_share * 100} for v in items
    ]
    base = alt.Chart(pd.DataFrame(rows, columns=["variant", "cases", "cumulative"])).encode(
        x=alt.X("variant:O", title="Variant (most frequent first)", sort=None)
    )
    bars = base.mark_bar(color=_MAIN).encode(
        y=alt.Y("cases:Q", title="Cases"), tooltip=["variant:O", "cases:Q"]
    )
    line = base.mark_line(color=_ACCENT, point=True).encode(
        y=alt.Y("cumulative:Q", title="Cumulative share of cases (%)", scale=alt.Scale(domain=[0, 100])),
        tooltip=["variant:O", alt.Tooltip("cumulative:Q", title="cumulative %", format=".1f")],
    )
    return alt.layer(bars, line).resolve_scale(y="independent")


# -- bottlenecks ----------------------------------------------------------------
def activity_times_chart(times: ActivityTimes) -> alt.Chart:
    """Median waiting and processing per activity, stacked, in hours."""
    rows = []
    for a in times.activities:
        rows.append({"activity": a.activity, "part": "waiting", "hours": hours(a.waiting.median) or 0.0})
        if times.processing_measured:
            rows.append(
                {"activity": a.activity, "part": "processing", "hours": hours(a.processing.median) or 0.0}
            )
    order = [a.activity for a in times.activities]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["activity", "part", "hours"]))
        .mark_bar()
        .encode(
            y=alt.Y("activity:N", title=None, sort=order),
            x=alt.X("hours:Q", title="Median time per instance (hours)", stack="zero"),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=["waiting", "processing"], range=[_MAIN, _SECOND]),
            ),
            tooltip=["activity:N", "part:N", alt.Tooltip("hours:Q", format=".2f")],
        )
    )


def heatmap_frame(h: Heatmap) -> tuple[pd.DataFrame, str]:
    """The heatmap as a long table (row, column, value) and the value's title with its unit."""
    name = h.metric.replace("_", " ")
    scale, title = 1.0, f"{name} ({h.unit})"
    if h.unit == "seconds":
        scale, title = 1 / 3600, f"{name} (hours)"
    rows = [
        {"row": r, "column": c, "value": None if v is None else v * scale}
        for r, values in zip(h.rows, h.values, strict=True)
        for c, v in zip(h.columns, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["row", "column", "value"]), title


def heatmap_chart(h: Heatmap, *, row_title: str, column_title: str) -> alt.Chart:
    """A ``mark_rect`` grid of a heatmap record in :data:`SCHEME`."""
    frame, title = heatmap_frame(h)
    cells = max(1, len(h.columns))
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X(
                "column:O",
                title=column_title,
                sort=list(h.columns),
                axis=alt.Axis(labelAngle=-90, labelOverlap=True) if cells > 24 else alt.Axis(),
            ),
            y=alt.Y("row:N", title=row_title, sort=list(h.rows)),
            color=alt.Color("value:Q", title=title, scale=alt.Scale(scheme=SCHEME)),
            tooltip=["row:N", "column:O", alt.Tooltip("value:Q", title=title, format=",.2f")],
        )
        .properties(height=max(120, 22 * len(h.rows)))
    )
