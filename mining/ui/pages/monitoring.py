"""Monitoring: KPIs per period, before and after a change, control charts, alerts and the Lean view.

One :func:`mining.monitor.run.monitor` run over the kept cases feeds every
section; the HTML report offered for download is the library's report of
that same run (the bytes ``mining monitor --report`` writes).  For the
sample logs the change date and the SLA start at the documented ones
(:func:`mining.ui.state.sample_defaults`).
The before/after process maps share one frozen layout
(:func:`mining.ui.charts.frozen_dfg_dots`).
"""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st

from mining.analysis.filters import Filter
from mining.durations import parse_duration
from mining.errors import MonitorError
from mining.monitor.compare import Comparison
from mining.monitor.run import MonitorOptions, MonitorRun, format_value
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md, reporting_errors

__all__ = ["ALERT_ICON", "KPI_GROUPS", "format_p", "render"]

#: The icon of an alert (``st.warning``); other warnings carry ``:material/warning:``.
ALERT_ICON = ":material/notifications_active:"
#: The KPI trend charts: a title and the KPIs drawn in it (all of one unit); absent KPIs are skipped.
KPI_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Cycle time", ("cycle_median_s", "cycle_p90_s", "cycle_median_km_s")),
    ("Business cycle time", ("cycle_median_business_s", "cycle_p90_business_s")),
    ("Cases per period", ("started", "completed")),
    ("Work in progress", ("wip_end",)),
    ("Rework rate", ("rework_rate",)),
    ("SLA breach rate", ("sla_breach_rate",)),
    ("Cost per case", ("cost_per_case",)),
    ("Process cycle efficiency", ("pce_median",)),
)
_PERIODS = ("week", "month", "day")


def render() -> None:
    explore_page("Monitoring", _render)


def format_p(value: float | None) -> str:
    """A p-value as the page and ``mining monitor`` print it: two significant digits."""
    return "-" if value is None else f"{value:.2g}"


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    if unit in {"share", "ratio"}:
        return f"{sign}{abs(value) * 100:.1f} pp"  # a difference of two shares is in percentage points
    return sign + format_value(abs(value), unit)


def _direction(value: float | None) -> str:
    if value is None:
        return "-"
    return "higher" if value > 0 else "lower" if value < 0 else "no change"


def _render(log: LogInfo, flt: Filter) -> None:
    options = _controls(log)
    run = measures.monitor_of(log, flt, options)
    _summary(log, flt, options, run)
    _alerts(run)
    _trends(run)
    if run.comparison is not None:
        _before_after(log, flt, run, run.comparison)
    _control_charts(run)
    _lean(run)


def _controls(log: LogInfo) -> MonitorOptions:
    cols = st.columns(5)
    period = cols[0].selectbox("Period", _PERIODS, key="mon-period")
    lo = log.start.date() if log.start is not None else None
    hi = log.end.date() if log.end is not None else None
    default, sla_default = state.sample_defaults(log.name)
    if default is not None and ((lo is not None and default < lo) or (hi is not None and default > hi)):
        default = None
    change = cols[1].date_input(
        "Change date",
        value=default,
        min_value=lo,
        max_value=hi,
        key=f"mon-change-{log.log_id}",
        help="Compare the cases started before this local date with those started from it on.",
    )
    sla = cols[2].text_input(
        "SLA (cycle time)",
        value=sla_default,
        key=f"mon-sla-{log.log_id}",
        placeholder="e.g. 5d, 36h, P5D",
        help="A limit on the elapsed cycle time; empty: no SLA.",
    )
    stratify = cols[3].selectbox(
        "Case mix by",
        ["variant", *state.attributes_of(log)],
        key=f"mon-stratify-{log.log_id}",
        help="The strata of the case-mix check and of the mix-adjusted differences.",
    )
    card = why.rate_card_control(key="mon-rates")
    cost = (
        card
        if card is not None
        else cols[4].number_input(
            "Cost per hour",
            min_value=0.0,
            value=None,
            step=5.0,
            key="mon-cost",
            help="Prices processing time (cost per case) and waste; empty: the log's cost column, if any. "
            "An uploaded rate card replaces it.",
        )
    )
    return MonitorOptions(
        period=period,
        change_date=change if isinstance(change, dt.date) else None,
        sla_seconds=parse_duration(sla.strip(), what="SLA", error=MonitorError).total_seconds
        if sla.strip()
        else None,
        stratify=stratify,
        cost_per_hour=cost,
    )


def _summary(log: LogInfo, flt: Filter, options: MonitorOptions, run: MonitorRun) -> None:
    s = run.series
    c = s.completeness
    st.caption(
        f"{s.cases:,} cases ({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled) in "
        f"{len(s.periods):,} {s.period}s ({md(s.timezone)}); end activities: "
        + md(", ".join(c.end_activities) or "none")
    )
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", log.name).strip("._") or "log"
    st.download_button(
        "Download the report (HTML)",
        measures.monitor_report_of(log, flt, options),
        file_name=f"{name}-monitoring.html",
        mime="text/html",
        on_click="ignore",
        key="mon-report",
        icon=":material/download:",
        help="The self-contained report of this run, as `mining monitor --report` writes it.",
    )


def _alerts(run: MonitorRun) -> None:
    st.subheader("Alerts")
    if not run.alerts:
        st.success(
            "No alert: no rule fired on the newest judged period of any chart.",
            icon=":material/check_circle:",
        )
    for a in run.alerts:
        st.warning(md(a.sentence), icon=ALERT_ICON)


def _trends(run: MonitorRun) -> None:
    st.subheader("KPI trends")
    present = {k.name for k in run.series.kpis}
    groups = [(title, [n for n in names if n in present]) for title, names in KPI_GROUPS]
    groups = [(title, names) for title, names in groups if names]
    change = run.options.change_date
    for i in range(0, len(groups), 2):
        cols = st.columns(2)
        for col, (title, names) in zip(cols, groups[i : i + 2], strict=False):
            with col:
                st.caption(title)
                st.altair_chart(
                    charts.kpi_trend_chart(run.series, names, title=title, change_date=change),
                    width="stretch",
                    key=f"mon-trend-{names[0]}",
                )
    if any(p.partial for p in run.series.periods):
        st.caption("Partial periods (the data cover them only partly) are marked in the tooltips.")
    with st.expander("KPIs per period"):
        kpis = run.series.kpis
        st.dataframe(
            [
                {
                    "period": p.start,
                    "partial": "yes" if p.partial else "",
                    **{k.label: format_value(p.value(k.name), k.unit) for k in kpis},
                }
                for p in run.series.periods
            ],
            hide_index=True,
            width="stretch",
            key="mon-periods",
        )


def _before_after(log: LogInfo, flt: Filter, run: MonitorRun, cmp: Comparison) -> None:
    st.subheader(f"Before and after {cmp.change_date.isoformat()}")
    st.caption(
        f"{cmp.before_cases:,} cases started before the change and {cmp.after_cases:,} from it on "
        f"({cmp.before_periods} and {cmp.after_periods} whole {run.series.period}s)."
    )
    st.dataframe(
        [
            {
                "KPI": k.label,
                "before": format_value(k.before, k.unit),
                "after": format_value(k.after, k.unit),
                "difference": _signed(k.difference, k.unit),
                "direction": _direction(k.difference),
                "relative": "-" if k.relative is None else f"{k.relative:+.1%}",
                f"{cmp.confidence:.0%} interval": "-"
                if k.ci_low is None or k.ci_high is None
                else f"{_signed(k.ci_low, k.unit)} to {_signed(k.ci_high, k.unit)}",
                "p-value": format_p(k.p_value),
                "mix-adjusted difference": _signed(k.adjusted_difference, k.unit),
                "cases before / after": f"{k.n_before:,} / {k.n_after:,}",
            }
            for k in cmp.kpis
        ],
        hide_index=True,
        width="stretch",
        key="mon-comparison",
    )
    for w in cmp.warnings:
        st.warning(md(w), icon=":material/warning:")
    if not cmp.mix.shifted:
        st.caption(md(cmp.mix.note))

    st.caption("Process maps of the cases started before and after the change, on one layout")
    with reporting_errors():
        maps = measures.maps_of(log, flt, cmp.change_date, timezone=run.options.timezone)
        before, after = charts.frozen_dfg_dots(maps)
        left, right = st.columns(2)
        left.caption(f"Before: {maps.before.cases:,} cases")
        left.graphviz_chart(before, width="stretch")
        right.caption(f"From the change on: {maps.after.cases:,} cases")
        right.graphviz_chart(after, width="stretch")


def _control_charts(run: MonitorRun) -> None:
    st.subheader("Control charts")
    if not run.charts:
        st.info("Too few judged periods for any control chart.", icon=":material/info:")
        return
    labels = {kc.kpi: kc.label for kc in run.charts}
    kpi = st.selectbox("KPI", list(labels), format_func=labels.__getitem__, key="mon-chart-kpi")
    kc = next(c for c in run.charts if c.kpi == kpi)
    st.altair_chart(
        charts.control_chart(kc, run.series, change_date=run.options.change_date),
        width="stretch",
        key="mon-control-chart",
    )
    st.caption(
        "Blue: the values; light blue: the center line; dashed: the control limits of each point; "
        ":orange[orange points]: a rule fired there; :orange[orange rule]: the change date."
    )
    st.caption(md(f"{kc.chart.note} Limits: {kc.note}."))
    names = kc.chart.labels
    st.dataframe(
        [
            {
                "period": names[s.index] if names else str(s.index),
                "rule": f"{s.rule}: {s.name}",
                "what": s.description,
            }
            for s in kc.chart.signals
        ],
        hide_index=True,
        width="stretch",
        key="mon-signals",
    )
    if not kc.chart.signals:
        st.caption("No rule fired on this chart.")
    if kc.moving_range is not None and kc.moving_range.signals:
        st.caption("Moving range: " + md(" ".join(s.description for s in kc.moving_range.signals)))
    for note in run.notes:
        st.caption(md(note))


def _lean(run: MonitorRun) -> None:
    view = run.lean
    if view is None:
        return
    st.subheader("Lean view")
    pce = "-" if view.pce is None else f"{view.pce:.1%}"
    lead = "-" if view.lead_time_median is None else format_value(view.lead_time_median, "seconds")
    st.caption(
        f"Main variant ({view.main_variant_cases:,} cases, {view.main_variant_share:.1%}): "
        + md(" → ".join(view.main_variant))
        + f"; median lead time {lead}; process cycle efficiency {pce}."
    )
    left, right = st.columns(2)
    with left:
        st.caption("Waiting and processing along the main variant")
        st.altair_chart(charts.lean_steps_chart(view), width="stretch", key="mon-lean-steps")
        if not view.processing_measured:
            st.caption("The log has no start timestamps: processing time is unknown.")
    with right:
        st.caption("Waste")
        st.altair_chart(charts.waste_chart(view), width="stretch", key="mon-waste")
    st.dataframe(
        [
            {
                "waste": w.kind,
                "hours": None if w.hours is None else round(w.hours, 1),
                "cost": None if w.cost is None else round(w.cost, 2),
                "cases": w.cases,
                "how": w.explanation,
            }
            for w in view.wastes
        ],
        hide_index=True,
        width="stretch",
        key="mon-waste-table",
    )
    if not view.costed:
        st.caption("Give a cost per hour to price the waste.")
    st.caption(md(view.note))
