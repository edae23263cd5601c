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
from mining.durations import duration_unit, format_duration
from mining.monitor.lean import LeanView
from mining.monitor.periods import PeriodSeries
from mining.monitor.run import KpiChart

__all__ = [
    "DEVIATION",
    "LABEL_CHARS",
    "PALETTE",
    "SCHEME",
    "activity_times_chart",
    "control_chart",
    "cusum_chart",
    "days",
    "dfg_dot",
    "dot_quote",
    "duration_histogram",
    "duration_unit_of",
    "heatmap_chart",
    "heatmap_frame",
    "hours",
    "kpi_scale",
    "kpi_trend_chart",
    "lean_steps_chart",
    "pareto_chart",
    "short_labels",
    "throughput_chart",
    "unchecked",
    "waste_chart",
    "weekly_completed_median",
]

# Altair checks every channel and mark against the Vega-Lite schema as it is built (its "debug mode"), for
# better tracebacks while a chart is written: half the cost of building the Monitoring page's nine charts
# on each rerun.  The builders here are fixed code, and the serialisation Streamlit does still validates
# each chart (except those passed through `unchecked`, whose validity tests check).
alt.utils.schemapi.disable_debug_mode()

#: The Vega colour scheme of every quantitative colour encoding.
SCHEME = "blues"
#: The same scheme as fixed colours, light to dark (for categories and the DOT map).
PALETTE = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_MAIN = PALETTE[4]
_ACCENT = PALETTE[6]
_SECOND = PALETTE[1]
#: Paths and activities a model does not allow (the conformance overlay): orange, apart from the blues.
DEVIATION = "#d94801"
#: Vega draws the Explore pages' charts on a canvas: one element per chart instead of one SVG node per
#: bar, cell, point and label, which the browser builds, styles and lays out again each time a page opens.
_CANVAS = {"embedOptions": {"renderer": "canvas"}}


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 86400


# -- overview -------------------------------------------------------------------
def duration_unit_of(seconds: float | None) -> tuple[float, str]:
    """The unit a chart of durations around ``seconds`` reads best in: (seconds per unit, name)."""
    s = seconds or 0.0
    if s < 2 * 3600:
        return 60.0, "minutes"
    if s < 2 * 86400:
        return 3600.0, "hours"
    return 86400.0, "days"


def duration_histogram(d: CaseDurations) -> alt.Chart:
    """Bars of cases per duration bin, in the unit that suits the median; skewed data on a log axis."""
    per, unit = duration_unit_of(d.median_seconds)
    # The cases under a minute have no place on a log axis: the page says how many (a bar from 0.001
    # days to a day read as durations of minutes in a log dated to the day).
    skip = 1 if d.under_a_minute else 0
    rows = [
        {
            "from": max(d.bin_edges[i] / per, 1e-3 if d.log_bins else 0.0),
            "to": d.bin_edges[i + 1] / per,
            "cases": n,
            "range": f"{format_duration(d.bin_edges[i])} to {format_duration(d.bin_edges[i + 1])}",
        }
        for i, n in enumerate(d.bin_counts)
        if i >= skip
    ]
    scale = alt.Scale(type="log") if d.log_bins else alt.Scale()
    title = f"Case duration ({unit}{', log scale' if d.log_bins else ''})"
    return (
        alt.Chart(pd.DataFrame(rows, columns=["from", "to", "cases", "range"]))
        .mark_bar(color=_MAIN)
        .encode(
            x=alt.X("from:Q", title=title, bin="binned", scale=scale),
            x2="to:Q",
            y=alt.Y("cases:Q", title="Cases"),
            tooltip=[alt.Tooltip("range:N", title="duration"), "cases:Q"],
        )
        .properties(usermeta=_CANVAS)
    )


def throughput_chart(
    t: Throughput, first: dt.datetime | None = None, last: dt.datetime | None = None
) -> alt.Chart:
    """Cases started and completed per period, as two lines; the axis zoomed to ``first``-``last`` when given."""
    rows = [
        {"period": p.period.isoformat(), "kind": kind, "cases": n}
        for p in t.periods
        for kind, n in (("started", p.started), ("completed", p.completed))
    ]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["period", "kind", "cases"]))
        .mark_line(point=True, clip=True)
        .encode(
            x=alt.X(
                "period:T",
                title=f"{t.period.capitalize()} starting ({t.timezone})",
                scale=alt.Scale(domain=[first.isoformat(), last.isoformat()])
                if first is not None and last is not None
                else alt.Scale(),
            ),
            y=alt.Y("cases:Q", title=f"Cases per {t.period}"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["started", "completed"], range=[_SECOND, _ACCENT]),
            ),
            tooltip=["period:T", "kind:N", "cases:Q"],
        )
        .properties(usermeta=_CANVAS)
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
        y=alt.Y("cases:Q", title="Cases", axis=alt.Axis(tickMinStep=1, format=",d")),
        tooltip=["variant:O", "cases:Q"],
    )
    line = base.mark_line(color=_ACCENT, point=True).encode(
        y=alt.Y("cumulative:Q", title="Cumulative share of cases (%)", scale=alt.Scale(domain=[0, 100])),
        tooltip=["variant:O", alt.Tooltip("cumulative:Q", title="cumulative %", format=".1f")],
    )
    return alt.layer(bars, line).resolve_scale(y="independent").properties(usermeta=_CANVAS)


# -- bottlenecks ----------------------------------------------------------------
def activity_times_unit(times: ActivityTimes) -> tuple[float, str]:
    """The unit the per-activity times read in: days once the longest median reaches two days (Road
    Traffic Fines' credit collection waits 11,688 hours: 487 days), else hours.  Business time stays in
    hours: a day of it is no 24 hours."""
    longest = max((t.median or 0.0 for a in times.activities for t in (a.waiting, a.processing)), default=0.0)
    if times.business_time or longest < 2 * 86400:
        return 3600.0, "business hours" if times.business_time else "hours"
    return 86400.0, "days"


def activity_times_chart(times: ActivityTimes) -> alt.Chart:
    """Median waiting and processing per activity, stacked, in the unit of :func:`activity_times_unit`."""
    per, unit = activity_times_unit(times)
    labels = short_labels([a.activity for a in times.activities])
    rows = []
    for a, label in zip(times.activities, labels, strict=True):
        rows.append(
            {
                "activity": a.activity,
                "label": label,
                "part": "waiting",
                "time": (a.waiting.median or 0.0) / per,
            }
        )
        if times.processing_measured:
            rows.append(
                {
                    "activity": a.activity,
                    "label": label,
                    "part": "processing",
                    "time": (a.processing.median or 0.0) / per,
                }
            )
    return (
        alt.Chart(pd.DataFrame(rows, columns=["activity", "label", "part", "time"]))
        .mark_bar()
        .encode(
            # Every row named, long names shortened in the middle (whole in the tooltip): Vega's default
            # cut every label at 180 px, at its end.
            y=alt.Y(
                "label:N",
                title=None,
                sort=list(labels),
                axis=alt.Axis(labelLimit=0, labelFontSize=11, labelOverlap=False),
            ),
            x=alt.X("time:Q", title=f"Median time per instance ({unit})", stack="zero"),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=["waiting", "processing"], range=[_MAIN, _SECOND]),
            ),
            tooltip=["activity:N", "part:N", alt.Tooltip("time:Q", title=unit, format=",.2f")],
        )
        .properties(usermeta=_CANVAS)
    )


#: Row labels of a heatmap longer than this are shortened in the middle (the full name is in the tooltip).
LABEL_CHARS = 44


def short_labels(names: Sequence[str], limit: int = LABEL_CHARS) -> tuple[str, ...]:
    """Each name as a row label: whole when it fits ``limit`` characters, else its start and end
    around ``…``; labels stay distinct (a number is added where two shortened names meet)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        label = name
        if len(name) > limit:
            head = (limit - 1) * 3 // 5
            label = name[:head].rstrip() + "…" + name[len(name) - (limit - 1 - head) :].lstrip()
        base, n = label, 2
        while label in seen:
            label, n = f"{base} ({n})", n + 1
        seen.add(label)
        out.append(label)
    return tuple(out)


def heatmap_frame(h: Heatmap) -> tuple[pd.DataFrame, str]:
    """The heatmap as a long table (row, label, column, value) and the value's title with its unit.

    ``row`` is the full name, ``label`` the row's axis label (:func:`short_labels`).
    """
    name = h.metric.replace("_", " ")
    scale, title = 1.0, f"{name} ({h.unit})"
    if h.unit == "seconds":
        scale, title = 1 / 3600, f"{name} (hours)"
    labels = dict(zip(h.rows, short_labels(h.rows), strict=True))
    rows = [
        {"row": r, "label": labels[r], "column": c, "value": None if v is None else v * scale}
        for r, values in zip(h.rows, h.values, strict=True)
        for c, v in zip(h.columns, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["row", "label", "column", "value"]), title


def heatmap_chart(
    h: Heatmap, *, row_title: str, column_title: str, top: float | None = None, log: bool = False
) -> alt.Chart:
    """A ``mark_rect`` grid of a heatmap record in :data:`SCHEME`.

    Every row is labelled (11 px, long names shortened in the middle, the full
    name in the tooltip).  ``top`` (in the record's unit, from
    :func:`~mining.analysis.heatmaps.colour_scale`) caps the colour scale:
    larger values take the darkest colour, so outliers do not wash out the rest.
    """
    frame, title = heatmap_frame(h)
    cells = max(1, len(h.columns))
    color_scale = alt.Scale(scheme=SCHEME)
    if log:
        # symlog: a zero stays drawable, unlike on a log scale.
        color_scale = alt.Scale(scheme=SCHEME, type="symlog")
    elif top is not None:
        factor = 1 / 3600 if h.unit == "seconds" else 1.0
        color_scale = alt.Scale(scheme=SCHEME, domain=[0, top * factor], clamp=True)
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X(
                "column:O",
                title=column_title,
                sort=list(h.columns),
                axis=alt.Axis(labelAngle=-90, labelOverlap=True, labelLimit=200)
                if cells > 24
                else alt.Axis(labelLimit=200),
            ),
            y=alt.Y(
                "label:N",
                title=row_title,
                sort=list(short_labels(h.rows)),
                # The title above the labels, not beside them: Vega places a side title by the labels'
                # width measured before the page's font has loaded, and long labels ran under it.
                axis=alt.Axis(
                    labelLimit=0,
                    labelFontSize=11,
                    labelOverlap=False,
                    titleAngle=0,
                    titleAlign="right",
                    titleBaseline="bottom",
                    titleX=0,
                    titleY=-6,
                ),
            ),
            color=alt.Color("value:Q", title=title, scale=color_scale),
            tooltip=[
                alt.Tooltip("row:N", title=row_title),
                alt.Tooltip("column:O", title=column_title),
                alt.Tooltip("value:Q", title=title, format=",.2f"),
            ],
        )
        .properties(height=alt.Step(22), usermeta=_CANVAS)  # 22 px a row, whatever the page's height
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


class _UncheckedChart(alt.Chart):
    def to_dict(self, validate: bool = True, **kwargs: object) -> dict[str, object]:
        return super().to_dict(validate=False, **kwargs)  # type: ignore[arg-type]


class _UncheckedLayer(alt.LayerChart):
    def to_dict(self, validate: bool = True, **kwargs: object) -> dict[str, object]:
        return super().to_dict(validate=False, **kwargs)  # type: ignore[arg-type]


def unchecked(chart: alt.Chart | alt.LayerChart) -> alt.Chart | alt.LayerChart:
    """``chart`` (built here a moment ago), serialised without validating it against the Vega-Lite schema.

    The validation is most of what serialising a chart costs (0.3 s for the Monitoring page's nine on
    every rerun); the same spec results.  Only for this module's builders, whose output tests validate.
    """
    kind = {alt.Chart: _UncheckedChart, alt.LayerChart: _UncheckedLayer}.get(type(chart))
    if kind is None:
        msg = f"no unchecked form of {type(chart).__name__}"
        raise TypeError(msg)
    # The same object and attributes, only to_dict differs (Altair's own __setattr__ would store a property).
    object.__setattr__(chart, "__class__", kind)
    return chart


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
            "center": chart.center_at(i) * factor,
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
        # A step line: after a change date the new phase has a center of its own.
        base.mark_line(color=_SECOND, size=2, interpolate="step-after").encode(
            y=alt.Y("center:Q", title=y_title), tooltip=[alt.Tooltip("center:Q", format=",.2f")]
        ),
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


def cusum_chart(kc: KpiChart, series: PeriodSeries) -> alt.LayerChart:
    """The CUSUM of a control chart: the upper sum above the axis, the lower below, and the limit h."""
    cs = kc.cusum
    if cs is None:
        msg = f"{kc.label} has no CUSUM"
        raise ValueError(msg)
    signals = {s.index: s.direction for s in cs.signals}
    rows = []
    for i, p in enumerate(series.periods):
        for side, values, sign in (("up", cs.upper, 1.0), ("down", cs.lower, -1.0)):
            v = values[i]
            rows.append(
                {
                    "period": p.start.isoformat(),
                    "side": side,
                    "sum": None if v is None else sign * v,
                    "signal": "yes" if signals.get(i) == side else "",
                }
            )
    frame = pd.DataFrame(rows, columns=["period", "side", "sum", "signal"])
    y_title = f"{kc.label}: CUSUM (sigma)"
    lines = (
        alt.Chart(frame)
        .mark_line(point=True, color=_MAIN)
        .encode(
            x=_period_axis(series),
            y=alt.Y("sum:Q", title=y_title),
            detail="side:N",
            tooltip=[
                alt.Tooltip("period:T", title="period starting"),
                "side:N",
                alt.Tooltip("sum:Q", format=".2f"),
            ],
        )
    )
    marks = (
        alt.Chart(frame)
        .transform_filter(alt.datum.signal != "")
        .mark_point(color=DEVIATION, filled=True, size=110, opacity=1)
        .encode(x=_period_axis(series), y=alt.Y("sum:Q", title=y_title))
    )
    limits = (
        alt.Chart(pd.DataFrame({"h": [cs.h, -cs.h]}))
        .mark_rule(color=_ACCENT, strokeDash=[4, 3])
        .encode(y=alt.Y("h:Q", title=y_title), tooltip=[alt.Tooltip("h:Q", title="decision interval")])
    )
    return alt.layer(limits, lines, marks)


# -- monitoring: the Lean view -------------------------------------------------------
def _lean_unit(seconds: float, business: bool) -> tuple[float, str]:
    """Seconds per unit and its name: business time in business hours (a "day" of them is not a
    working day); else the unit that keeps ``seconds`` readable, days when it runs to days."""
    return (3600.0, "business hours") if business else duration_unit(seconds)


def lean_steps_chart(view: LeanView) -> alt.Chart:
    """Median waiting before and processing of each step of the main variant, stacked, in the longest's unit."""
    longest = max(((s.waiting_median or 0.0) + (s.processing_median or 0.0) for s in view.steps), default=0.0)
    per, unit = _lean_unit(longest, view.business_time)
    rows = []
    for s in view.steps:
        step = f"{s.position}. {s.activity}"
        rows.append({"step": step, "part": "waiting", "time": (s.waiting_median or 0.0) / per})
        if view.processing_measured:
            rows.append({"step": step, "part": "processing", "time": (s.processing_median or 0.0) / per})
    order = [f"{s.position}. {s.activity}" for s in view.steps]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["step", "part", "time"]))
        .mark_bar()
        .encode(
            # The axis draws no title: beside labels this long the browser drew it over them; the
            # section's heading says what the rows are.
            y=alt.Y(
                "step:N",
                title="Step of the main variant",
                sort=order,
                axis=alt.Axis(labelLimit=300, title=None),
            ),
            x=alt.X("time:Q", title=f"Median time per case ({unit})", stack="zero"),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=["waiting", "processing"], range=[_MAIN, _SECOND]),
            ),
            tooltip=["step:N", "part:N", alt.Tooltip("time:Q", title=unit, format=",.2f")],
        )
    )


def waste_chart(view: LeanView) -> alt.Chart:
    """The time of each kind of waste over the kept cases, in the unit of the largest."""
    largest = max((w.hours for w in view.wastes if w.hours is not None), default=0.0)
    per, unit = _lean_unit(largest * 3600, view.business_time)
    rows = [{"kind": w.kind, "time": w.hours * 3600 / per} for w in view.wastes if w.hours is not None]
    return (
        alt.Chart(pd.DataFrame(rows, columns=["kind", "time"]))
        .mark_bar(color=_MAIN)
        .encode(
            y=alt.Y("kind:N", title="Waste", sort=[r["kind"] for r in rows]),
            x=alt.X("time:Q", title=f"Time over all kept cases ({unit})"),
            tooltip=["kind:N", alt.Tooltip("time:Q", title=unit, format=",.1f")],
        )
    )
