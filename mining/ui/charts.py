"""Altair charts and Graphviz DOT built from the library's result records.

The builders only lay out what a record holds: they convert units (seconds to
hours or days) and reshape a record into the long table a chart needs.  Every
chart uses the one colour scheme defined here (:data:`SCHEME`, and
:data:`PALETTE` for the few fixed colours and the DOT process map), so the
pages look alike.  Activity names are user data: DOT labels go through
:func:`dot_quote`, and nothing here produces HTML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from mining.conformance.records import MapOverlay
from mining.durations import format_duration
from mining.monitor.compare import MapComparison
from mining.monitor.lean import LeanView
from mining.monitor.periods import PeriodSeries
from mining.monitor.run import KpiChart

__all__ = [
    "DEVIATION",
    "PALETTE",
    "SCHEME",
    "activity_times_chart",
    "control_chart",
    "days",
    "dfg_dot",
    "dot_quote",
    "duration_histogram",
    "frozen_dfg_dots",
    "frozen_pair_dots",
    "heatmap_chart",
    "heatmap_frame",
    "hours",
    "kpi_scale",
    "kpi_trend_chart",
    "lean_steps_chart",
    "pareto_chart",
    "throughput_chart",
    "waste_chart",
    "weekly_completed_median",
]

#: The Vega colour scheme of every quantitative colour encoding.
SCHEME = "blues"
#: The same scheme as fixed colours, light to dark (for categories and the DOT map).
PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_MAIN = PALETTE[4]
_ACCENT = PALETTE[6]
_SECOND = PALETTE[1]
#: Paths and activities a model does not allow (the conformance overlay): orange, apart from the blues.
DEVIATION = "#d94801"


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 86400


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


def _drawing_key(*content: object) -> str:
    """A short digest of what a map shows, for its node ids.

    The browser's renderer (d3-graphviz) matches nodes and edges with the
    last drawing by id and precomputes a morph for each match, point by
    point along every path: about 1 s when a map is redrawn in the other
    view.  Ids unique to each drawing make it draw afresh, in milliseconds.
    """
    return hashlib.blake2b(repr(content).encode(), digest_size=4).hexdigest()


def dfg_dot(graph: DFG, *, performance: bool = False, overlay: MapOverlay | None = None) -> str:
    """DOT of a DFG, left to right: activities with counts; edges labelled and
    weighted by count, or labelled and coloured by median wait (``performance``).

    With ``overlay``, the paths and activities the model does not allow are
    drawn in :data:`DEVIATION`; without it the map is unchanged.
    """
    bad_edges = set() if overlay is None else {(o.source, o.target) for o in overlay.edges}
    bad_nodes = set() if overlay is None else {a for a, _, _ in overlay.activities}
    key = _drawing_key(performance, sorted(bad_edges), sorted(bad_nodes), graph)
    ids = {name: f"a{key}_{i}" for i, name in enumerate(graph.activities)}
    start, end = f"s{key}", f"e{key}"
    lines = [
        "digraph process {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, '
        f'fillcolor="{PALETTE[0]}", color="{PALETTE[5]}"];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f'  {start} [label="start", shape=circle, style=filled, fillcolor="{PALETTE[2]}", fontsize=8];',
        f'  {end} [label="end", shape=doublecircle, style=filled, fillcolor="{PALETTE[5]}", '
        "fontcolor=white, fontsize=8];",
    ]
    for name, n in graph.activities.items():
        label = dot_quote(name + "\n" + f"{n:,}")
        marked = f', color="{DEVIATION}", fontcolor="{DEVIATION}", penwidth=2' if name in bad_nodes else ""
        lines.append(f"  {ids[name]} [label={label}{marked}];")
    top = max((e.count for e in graph.edges), default=1)
    waits = [e.median_seconds for e in graph.edges]
    lo, hi = (min(waits), max(waits)) if waits else (0.0, 0.0)
    for e in graph.edges:
        if e.source not in ids or e.target not in ids:
            continue
        width = 1 + 5 * e.count / top
        if performance:
            label = format_duration(e.median_seconds)
            colour = _colour(e.median_seconds, lo, hi)
        else:
            label = f"{e.count:,}"
            colour = PALETTE[5]
        marked = ""
        if (e.source, e.target) in bad_edges:
            colour, marked = DEVIATION, f', fontcolor="{DEVIATION}"'
        lines.append(
            f"  {ids[e.source]} -> {ids[e.target]} "
            f'[label={dot_quote(label)}, penwidth={width:.2f}, color="{colour}"{marked}];'
        )
    # Dashed edges from the start node and into the end node, width by count.
    for counts, edge in ((graph.start, start + " -> {}"), (graph.end, "{} -> " + end)):
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


# -- monitoring: before and after on one layout -----------------------------------
def _frozen_dot(maps: MapComparison, graph: DFG) -> str:
    """One period's map over the union of both periods' nodes and edges, in the union's order."""
    return _frozen_pair_dot(maps.activities, maps.edges, (maps.before, maps.after), graph, _drawing_key(maps))


def _frozen_pair_dot(
    activities: Sequence[str],
    edges_union: Sequence[tuple[str, str]],
    both: tuple[DFG, DFG],
    graph: DFG,
    key: str,
) -> str:
    """One of two maps over the union of both maps' nodes and edges, in the union's order.

    Both DOTs hold the same statements in the same order; what the map
    lacks is ``style=invis``, node sizes are fixed and edge counts are
    ``xlabel`` (placed after layout), so Graphviz lays both out identically.
    ``key`` (one for both) keeps the node ids apart from other drawings.
    """
    ids = {name: f"a{key}_{i}" for i, name in enumerate(activities)}
    start, end = f"s{key}", f"e{key}"
    widest = {name: max([len(name), *(len(f"{g.activities.get(name, 0):,}") for g in both)]) for name in ids}
    top = max((e.count for g in both for e in g.edges), default=1)
    # Top to bottom: two maps side by side are narrow and tall.
    lines = [
        "digraph process {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, fixedsize=true, '
        f'height=0.6, fillcolor="{PALETTE[0]}", color="{PALETTE[5]}"];',
        '  edge [fontname="Helvetica", fontsize=9];',
        f'  {start} [label="start", shape=circle, style=filled, fillcolor="{PALETTE[2]}", fontsize=8, '
        "width=0.5];",
        f'  {end} [label="end", shape=doublecircle, style=filled, fillcolor="{PALETTE[5]}", '
        "fontcolor=white, fontsize=8, width=0.5];",
    ]
    for name, node in ids.items():
        n = graph.activities.get(name)
        shown = "" if n is not None else ', style="rounded,filled,invis"'
        label = dot_quote(name + "\n" + (f"{n:,}" if n is not None else ""))
        width = max(1.2, 0.09 * widest[name] + 0.3)
        lines.append(f"  {node} [label={label}, width={width:.2f}{shown}];")
    edges = {(e.source, e.target): e for e in graph.edges}
    for source, target in edges_union:
        e = edges.get((source, target))
        if e is None:
            lines.append(f"  {ids[source]} -> {ids[target]} [style=invis];")
        else:
            lines.append(
                f"  {ids[source]} -> {ids[target]} [xlabel={dot_quote(f'{e.count:,}')}, "
                f'penwidth={1 + 5 * e.count / top:.2f}, color="{PALETTE[5]}"];'
            )
    for pick, edge in ((lambda g: g.start, start + " -> {}"), (lambda g: g.end, "{} -> " + end)):
        names = sorted({a for g in both for a in pick(g)})
        counts = pick(graph)
        for name in names:
            n = counts.get(name)
            if n is None:
                lines.append(f"  {edge.format(ids[name])} [style=invis];")
            else:
                lines.append(
                    f'  {edge.format(ids[name])} [xlabel="{n:,}", style=dashed, color="{PALETTE[2]}"];'
                )
    lines.append("}")
    return "\n".join(lines)


def frozen_dfg_dots(maps: MapComparison) -> tuple[str, str]:
    """DOT of the maps before and after a change, laid out identically (see :func:`_frozen_dot`)."""
    return _frozen_dot(maps, maps.before), _frozen_dot(maps, maps.after)


def frozen_pair_dots(left: DFG, right: DFG) -> tuple[str, str]:
    """DOT of two maps (two segments) laid out identically, over the union of their nodes and edges."""
    activities = tuple(sorted(set(left.activities) | set(right.activities)))
    edges = tuple(
        sorted({(e.source, e.target) for e in left.edges} | {(e.source, e.target) for e in right.edges})
    )
    key = _drawing_key(activities, edges, left.cases, right.cases)
    return (
        _frozen_pair_dot(activities, edges, (left, right), left, key),
        _frozen_pair_dot(activities, edges, (left, right), right, key),
    )


# -- monitoring: KPI trends and control charts --------------------------------------
def kpi_scale(unit: str) -> tuple[float, str]:
    """How a KPI unit is charted: the factor from the record's value and the axis unit."""
    if unit == "seconds":
        return 1 / 86400, "days"
    if unit in {"share", "ratio"}:
        return 100.0, "%"
    if unit == "money":
        return 1.0, "currency units"
    return 1.0, unit or "value"


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _period_axis(series: PeriodSeries) -> alt.X:
    return alt.X("period:T", title=f"{series.period.capitalize()} starting ({series.timezone})")


def _change_rule(change_date: dt.date | None) -> alt.Chart | None:
    if change_date is None:
        return None
    frame = pd.DataFrame({"change": [change_date.isoformat()], "what": ["change date"]})
    return (
        alt.Chart(frame)
        .mark_rule(color=DEVIATION, strokeDash=[5, 4], size=2)
        .encode(x="change:T", tooltip=[alt.Tooltip("change:T", title="change date")])
    )


def kpi_trend_chart(
    series: PeriodSeries, names: Sequence[str], *, title: str, change_date: dt.date | None = None
) -> alt.Chart | alt.LayerChart:
    """One line per KPI in ``names`` (all of one unit) over the periods, with a rule at ``change_date``."""
    infos = [series.kpi(n) for n in names]
    factor, unit = kpi_scale(infos[0].unit)
    rows = [
        {
            "period": p.start.isoformat(),
            "kpi": k.label,
            "value": _scaled(p.value(k.name), factor),
            "partial": "yes" if p.partial else "no",
        }
        for p in series.periods
        for k in infos
    ]
    labels = [k.label for k in infos]
    colours = [_MAIN, _ACCENT, _SECOND, PALETTE[3]][: len(labels)]
    lines = (
        alt.Chart(pd.DataFrame(rows, columns=["period", "kpi", "value", "partial"]))
        .mark_line(point=True)
        .encode(
            x=_period_axis(series),
            y=alt.Y("value:Q", title=f"{title} ({unit})"),
            color=alt.Color(
                "kpi:N",
                title=None,
                scale=alt.Scale(domain=labels, range=colours),
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400),
            ),
            tooltip=[
                alt.Tooltip("period:T", title="period starting"),
                "kpi:N",
                alt.Tooltip("value:Q", title=unit, format=",.2f"),
                alt.Tooltip("partial:N", title="partial period"),
            ],
        )
    )
    rule = _change_rule(change_date)
    return lines if rule is None else alt.layer(lines, rule)


def control_chart(
    kc: KpiChart, series: PeriodSeries, *, change_date: dt.date | None = None
) -> alt.LayerChart:
    """An I or p chart: the values, the center line, per-point limits and the points where a rule fired."""
    chart = kc.chart
    factor, unit = kpi_scale(kc.unit)
    fired: dict[int, list[str]] = {}
    for s in chart.signals:
        fired.setdefault(s.index, []).append(str(s.rule))
    rows = [
        {
            "period": p.start.isoformat(),
            "value": _scaled(chart.values[i], factor),
            "ucl": _scaled(chart.ucl[i], factor),
            "lcl": _scaled(chart.lcl[i], factor),
            "center": chart.center * factor,
            "rules": ", ".join(fired.get(i, [])),
        }
        for i, p in enumerate(series.periods)
    ]
    frame = pd.DataFrame(rows, columns=["period", "value", "ucl", "lcl", "center", "rules"])
    limits = frame.melt(id_vars=["period"], value_vars=["ucl", "lcl"], var_name="limit", value_name="bound")
    y_title = f"{kc.label} ({unit})"
    base = alt.Chart(frame).encode(x=_period_axis(series))
    layers: list[alt.Chart] = [
        alt.Chart(limits)
        .mark_line(color=_ACCENT, strokeDash=[4, 3], interpolate="step-after")
        .encode(
            x=_period_axis(series),
            y=alt.Y("bound:Q", title=y_title),
            detail="limit:N",
            tooltip=[
                alt.Tooltip("period:T", title="period starting"),
                "limit:N",
                alt.Tooltip("bound:Q", format=",.2f"),
            ],
        ),
        alt.Chart(pd.DataFrame({"center": [chart.center * factor]}))
        .mark_rule(color=_SECOND, size=2)
        .encode(y=alt.Y("center:Q", title=y_title), tooltip=[alt.Tooltip("center:Q", format=",.2f")]),
        base.mark_line(point=True, color=_MAIN).encode(
            y=alt.Y("value:Q", title=y_title),
            tooltip=[
                alt.Tooltip("period:T", title="period starting"),
                alt.Tooltip("value:Q", title=unit, format=",.2f"),
                alt.Tooltip("rules:N", title="rules fired"),
            ],
        ),
        base.transform_filter(alt.datum.rules != "")
        .mark_point(color=DEVIATION, filled=True, size=110, opacity=1)
        .encode(
            y=alt.Y("value:Q", title=y_title),
            tooltip=[
                alt.Tooltip("period:T", title="period starting"),
                alt.Tooltip("rules:N", title="rules fired"),
            ],
        ),
    ]
    rule = _change_rule(change_date)
    if rule is not None:
        layers.append(rule)
    return alt.layer(*layers)


# -- monitoring: the Lean view -------------------------------------------------------
def lean_steps_chart(view: LeanView) -> alt.Chart:
    """Median waiting before and processing of each step of the main variant, stacked, in hours."""
    rows = []
    for s in view.steps:
        step = f"{s.position}. {s.activity}"
        rows.append({"step": step, "part": "waiting", "hours": hours(s.waiting_median) or 0.0})
        if view.processing_measured:
            rows.append({"step": step, "part": "processing", "hours": hours(s.processing_median) or 0.0})
    order = [f"{s.position}. {s.activity}" for s in view.steps]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["step", "part", "hours"]))
        .mark_bar()
        .encode(
            y=alt.Y("step:N", title="Step of the main variant", sort=order, axis=alt.Axis(labelLimit=300)),
            x=alt.X("hours:Q", title="Median time per case (hours)", stack="zero"),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=["waiting", "processing"], range=[_MAIN, _SECOND]),
            ),
            tooltip=["step:N", "part:N", alt.Tooltip("hours:Q", format=",.2f")],
        )
    )


def waste_chart(view: LeanView) -> alt.Chart:
    """Hours of each kind of waste over the kept cases."""
    rows = [{"kind": w.kind, "hours": w.hours} for w in view.wastes if w.hours is not None]
    unit = "business hours" if view.business_time else "hours"
    return (
        alt.Chart(pd.DataFrame(rows, columns=["kind", "hours"]))
        .mark_bar(color=_MAIN)
        .encode(
            y=alt.Y("kind:N", title="Waste", sort=[r["kind"] for r in rows]),
            x=alt.X("hours:Q", title=f"Time over all kept cases ({unit})"),
            tooltip=["kind:N", alt.Tooltip("hours:Q", title=unit, format=",.1f")],
        )
    )
