"""Monitoring: KPIs per period, before and after a change, control charts, alerts and the Lean view.

One :func:`mining.monitor.run.monitor` run over the kept cases feeds every
section; the page opens with the manager's summary that the report and the
digest open with (:func:`mining.monitor.summary.manager_summary`), and the
HTML report offered for download is the library's report of that same run
(the bytes ``mining monitor --report`` writes).  For the sample logs the change
date and the SLA start at the documented ones
(:func:`mining.ui.state.sample_defaults`).  The change date is typed
(``2025-07-01``) and applied with Enter, like the SLA; "Public holidays of" takes a
country code as ``mining monitor --country`` does (working hours 9-17, its
holidays marked and volumes judged per working day).
The before/after process maps are drawn as the Process map page draws its
map, on one layout for both sides (:func:`mining.ui.mapdraw.draw_pair`).
"""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.durations import parse_duration
from mining.errors import MonitorError
from mining.monitor.compare import Comparison, KpiComparison
from mining.monitor.lean import pce_words, waste_words
from mining.monitor.run import MonitorOptions, MonitorRun, format_value, why_not_judged
from mining.monitor.summary import manager_summary
from mining.monitor.words import difference_words, interval_words, p_words, period_label
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.mapview import PAIR_LEGEND, pair_height, show_map
from mining.ui.messages import md, reporting_errors
from mining.ui.pages.process_map import drawn_pair
from mining.ui.tables import data_table

__all__ = [
    "ALERT_ICON",
    "AUTO_STRATUM",
    "HOLIDAY_PERIODS",
    "KPI_GROUPS",
    "format_p",
    "parse_change_date",
    "render",
]

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
_MAPS_KEY = "mon-maps"
#: The "Case mix by" choice that lets the library pick a case attribute (else the variant).
AUTO_STRATUM = "automatic"
#: The newest periods with public holidays named under the trend charts; the table has them all.
HOLIDAY_PERIODS = 6


def render() -> None:
    explore_page("Monitoring", _render)


def format_p(value: float | None, resamples: int | None = None) -> str:
    """A p-value as the page and ``mining monitor`` print it: two significant digits, ``< 0.002`` at 0."""
    return p_words(value, resamples)


def parse_change_date(text: str) -> dt.date | None:
    """A typed change date: ``2025-07-01`` (or ``2025/07/01``); empty is none.  Else a clear error."""
    value = text.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        msg = f"the change date {value!r} is not a date such as 2025-07-01 (year-month-day)"
        raise MonitorError(msg) from None


def _adjusted(k: KpiComparison) -> str:
    """The mix-adjusted difference, with the share of cases it covers when that is not all of them."""
    if k.adjustment == "does not apply":
        return "does not apply"
    if k.adjustment != "applied":
        return "-"
    words = difference_words(k.adjusted_difference, k.unit, short=True)
    coverage = k.adjusted_coverage
    return words if coverage is None or coverage >= 0.995 else f"{words} ({coverage:.0%} of cases)"


def _direction(value: float | None) -> str:
    if value is None:
        return "-"
    return "higher" if value > 0 else "lower" if value < 0 else "no change"


def _render(log: LogInfo, flt: Filter) -> None:
    options = _controls(log, flt)
    if options.change_date is not None and st.session_state[state.keep_widget(_MAPS_KEY, False)]:
        # Drawn after the run, computed while the run works in its own process.
        measures.maps_ahead(log, flt, options.change_date, timezone=options.timezone)
    run = measures.monitor_of(log, flt, options)
    _summary(log, flt, options, run)
    _alerts(run)
    _trends(run)
    if run.comparison is not None:
        _before_after(log, flt, run, run.comparison)
    _control_charts(run)
    _lean(run)


def _controls(log: LogInfo, flt: Filter) -> MonitorOptions:
    cols = st.columns(5)
    period = cols[0].selectbox("Period", _PERIODS, key=state.keep_widget("mon-period", _PERIODS[0]))
    lo = log.start.date() if log.start is not None else None
    hi = log.end.date() if log.end is not None else None
    default, sla_default = state.sample_defaults(log.name)
    if default is not None and ((lo is not None and default < lo) or (hi is not None and default > hi)):
        default = None
    window = (
        f" The data run from {lo.isoformat()} to {hi.isoformat()}."
        if lo is not None and hi is not None
        else ""
    )
    typed = cols[1].text_input(
        "Change date",
        key=state.keep_widget(f"mon-change-{log.log_id}", default.isoformat() if default is not None else ""),
        placeholder="YYYY-MM-DD",
        help="Compare the cases started before this local date with those started from it on; type it "
        "and press Enter. Empty: no comparison." + window,
    )
    sla = cols[2].text_input(
        "SLA (cycle time)",
        key=state.keep_widget(f"mon-sla-{log.log_id}", sla_default),
        placeholder="e.g. 5d, 36h, P5D",
        help="A limit on the elapsed cycle time; empty: no SLA.",
    )
    stratify = cols[3].selectbox(
        "Case mix by",
        [AUTO_STRATUM, "variant", *state.attributes_of(log)],
        key=state.keep_widget(f"mon-stratify-{log.log_id}", AUTO_STRATUM),
        help="The kinds of case to compare like with like (the check that the mix of kinds stayed the same, "
        "and the mix-adjusted differences); automatic takes a case attribute (one value per case) when the "
        "log has one, else the variant.",
    )
    card = why.rate_card_control(key="mon-rates")
    cost = (
        card
        if card is not None
        else cols[4].number_input(
            "Cost per hour",
            min_value=0.0,
            step=5.0,
            key=state.keep_widget("mon-cost", None),
            help="Prices processing time (cost per case) and waste; empty: the log's cost column, if any. "
            "An uploaded rate card replaces it.",
        )
    )
    row = st.columns([1, 4])
    country = (
        row[0]
        .text_input(
            "Public holidays of",
            key=f"mon-country-{log.log_id}",
            placeholder="e.g. NL, DE, US",
            help="A country's public holidays (its ISO code, as `--country`): weeks with holidays are marked and "
            "their volumes judged per working day, and a business cycle time (09:00-17:00 on working days) is "
            "added. Empty: none.",
        )
        .strip()
    )
    ends = _end_activities(row[1], log, flt)
    return MonitorOptions(
        period=period,
        change_date=parse_change_date(typed),
        # As `mining monitor --country`: a country alone means working hours 9-17.
        calendar=Calendar(timezone=None, country=country.upper()) if country else None,
        sla_seconds=parse_duration(sla.strip(), what="SLA", error=MonitorError).total_seconds
        if sla.strip()
        else None,
        stratify=None if stratify == AUTO_STRATUM else stratify,
        cost_per_hour=cost,
        end_activities=ends,
    )


def _end_activities(col: DeltaGenerator, log: LogInfo, flt: Filter) -> tuple[str, ...]:
    """The end activities picked, as ``mining monitor --end-activity``; none: the run learns them.

    Each is offered with the cases it ends and the cases it occurs in, the fact a
    person decides by: a lab test that ends a few of its many cases (where the
    record stops) is no end of the process, a release that ends most of its cases is.
    """
    found = {e.activity: e for e in measures.endings_of(log, flt)}
    key = state.keep_widget(f"mon-ends-{log.log_id}", [])
    # Picked under another filter, an activity no kept case has is dropped rather than refused.
    st.session_state[key] = [a for a in st.session_state[key] if a in found]
    picked = col.multiselect(
        "End activities",
        list(found),
        key=key,
        format_func=lambda a: f"{a} (ends {found[a].ends:,} of its {found[a].cases:,} cases)",
        placeholder="learned from the log",
        help="A case is complete when its last activity is one of these; the others are open, or stalled "
        "when silent for long. Empty: learned, as every activity that ends at least 1% of the settled cases, "
        "which can take a step where the record often stops (a lab test) for an end. Pick the activities "
        "that truly end your process; the counts say how often each ends the cases it occurs in.",
    )
    return tuple(picked)


def _summary(log: LogInfo, flt: Filter, options: MonitorOptions, run: MonitorRun) -> None:
    s = run.series
    c = s.completeness
    summary = manager_summary(run)
    with st.container(border=True, key="mon-summary"):
        for sentence in summary.sentences:
            st.markdown(md(sentence))
    st.caption(
        f"{s.cases:,} cases ({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled) in "
        f"{len(s.periods):,} {s.period}s ({md(s.timezone)}); end activities "
        + ("(chosen): " if c.end_activities_given else "(learned; choose them above): ")
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
                    charts.unchecked(
                        charts.kpi_trend_chart(run.series, names, title=title, change_date=change)
                    ),
                    width="stretch",
                    key=f"mon-trend-{names[0]}",
                )
    cut = sum(1 for p in run.series.periods if p.cut)
    if cut:
        st.caption(
            f"{cut} {run.series.period}s are cut by the export's edges (partial, or holding only cases that "
            "began before the export or the tails of earlier ones): shown, never judged; the table says why."
        )
    holidays = [p for p in run.series.periods if p.holidays]
    if holidays:
        shown = "; ".join(
            f"{period_label(p.start, run.series.period)} ({', '.join(p.holidays)})"
            for p in holidays[-HOLIDAY_PERIODS:]
        )
        more = (
            f" ({len(holidays) - HOLIDAY_PERIODS} earlier ones in the table)"
            if len(holidays) > HOLIDAY_PERIODS
            else ""
        )
        st.caption(
            md(
                f"{run.series.period.capitalize()}s with public holidays, judged against their working days: {shown}"
            )
            + more
            + "."
        )
    if run.series.range_note:
        st.warning(md(run.series.range_note), icon=":material/warning:")
    # The table draws when opened: a rerun (another period, a change date) does not send it.
    table = st.expander(
        "KPIs per period", key=state.keep_widget("mon-periods-open", False), on_change="rerun"
    )
    if not table.open:
        return
    with table:
        kpis = run.series.kpis
        data_table(
            [
                {
                    "period": p.start,
                    "not judged because": why_not_judged(p),
                    "working days": p.working_days,
                    "holidays": "; ".join(p.holidays),
                    **{k.label: format_value(p.value(k.name), k.unit) for k in kpis},
                }
                for p in reversed(run.series.periods)
            ],
            hide_index=True,
            width="stretch",
            key="mon-periods",
        )
        if run.series.working_days_method:
            st.caption(md(run.series.working_days_method))


def _before_after(log: LogInfo, flt: Filter, run: MonitorRun, cmp: Comparison) -> None:
    st.subheader(f"Before and after {cmp.change_date.isoformat()}")
    st.caption(
        f"{cmp.before_cases:,} cases started before the change and {cmp.after_cases:,} from it on "
        f"({cmp.before_periods} and {cmp.after_periods} whole {run.series.period}s)."
    )
    data_table(
        [
            {
                "KPI": k.label + (f" per {run.series.period}" if k.unit == "cases per period" else ""),
                "before": format_value(k.before, k.unit),
                "after": format_value(k.after, k.unit),
                "difference": difference_words(k.difference, k.unit, short=True),
                "relative": "-" if k.relative is None else f"{k.relative:+.1%}",
                "p-value": format_p(k.p_value, cmp.resamples),
                f"{cmp.confidence:.0%} interval": interval_words(k.ci_low, k.ci_high, k.unit),
                "mix-adjusted": _adjusted(k),
                "direction": _direction(k.difference),
                "cases before / after": f"{k.n_before:,} / {k.n_after:,}",
            }
            for k in cmp.kpis
        ],
        hide_index=True,
        width="stretch",
        key="mon-comparison",
        column_config={
            "KPI": st.column_config.TextColumn(
                help="Cycle times run from a case's first event to its last, over the completed cases; "
                "the Kaplan-Meier median also counts each open case as lasting at least as long as it has "
                "run so far. So these medians differ from the Overview's, which takes every case as it stands."
            ),
            f"{cmp.confidence:.0%} interval": st.column_config.TextColumn(
                help="The range the true difference most likely lies in, given how much cases vary: "
                "a range that does not include zero is a real change, not chance."
            ),
            "p-value": st.column_config.TextColumn(
                help="How likely a difference this large would be by chance alone if nothing had changed: "
                "below 0.05 is usually taken as a real change."
            ),
            "mix-adjusted": st.column_config.TextColumn(
                help="The difference had the same mix of case types (the Case mix by choice) run before "
                "and after: it takes out what a change of mix alone would explain."
            ),
            "direction": st.column_config.TextColumn(width="small"),
            "cases before / after": st.column_config.TextColumn(
                help="The cases each KPI is measured on: cycle time counts the completed cases only, so it "
                "can be fewer than the cases started that the line above counts."
            ),
        },
    )
    st.caption(
        "Differences of rates are in percentage points (pp); relative changes in percent of the value before. "
        f"Each p-value comes from the same {cmp.resamples:,} bootstrap replicates as its interval: below "
        f"{1 - cmp.confidence:.2g} exactly when the interval leaves 0 out."
    )
    for note in sorted({k.adjustment_note for k in cmp.kpis if k.adjustment == "does not apply"}):
        st.caption(md(note))
    for w in cmp.warnings:
        st.warning(md(w), icon=":material/warning:")
    if not cmp.mix.shifted:
        st.caption(md(cmp.mix.note))
    if cmp.mix.chosen:
        st.caption(md(cmp.mix.chosen))

    # The maps draw when opened: their two queries (one graph per side) are not part of every rerun that
    # moves the change date or the period.
    maps_open = st.expander(
        "Process maps before and after, on one layout",
        key=state.keep_widget(_MAPS_KEY, False),
        on_change="rerun",
        icon=":material/account_tree:",
    )
    if not maps_open.open:
        return
    with maps_open, reporting_errors():
        maps = measures.maps_of(log, flt, cmp.change_date, timezone=run.options.timezone)
        before, after = drawn_pair(
            maps.before,
            maps.after,
            ("before the change", "from the change on"),
            key=f"mon-map-paths-{log.log_id}",
            both="both periods",
        )
        st.caption(PAIR_LEGEND)
        # One above the other, each the page's width, with the Process map's zoom: side by side, a map of a
        # dozen activities shrank its labels to 5 px.
        st.caption(f"**Before**: {maps.before.cases:,} cases")
        show_map(
            before, key="mon-map-before", height_px=pair_height(before), clickable=False, label="Map before"
        )
        st.caption(f"**From the change on**: {maps.after.cases:,} cases")
        show_map(after, key="mon-map-after", height_px=pair_height(after), clickable=False, label="Map after")


@st.fragment
def _control_charts(run: MonitorRun) -> None:
    # A fragment: picking another KPI reruns this section only, not the page's other charts.
    st.subheader(
        "Control charts",
        help="A KPI per period with the limits of its usual ups and downs: a point outside the limits, or a "
        "long run on one side of the center line, says that something changed rather than chance.",
    )
    if not run.charts:
        st.info("Too few judged periods for any control chart.", icon=":material/info:")
        return
    labels = {kc.kpi: kc.label for kc in run.charts}
    key = state.keep_widget("mon-chart-kpi", next(iter(labels)))
    if st.session_state[key] not in labels:
        st.session_state[key] = next(iter(labels))
    kpi = st.selectbox("KPI", list(labels), format_func=labels.__getitem__, key=key)
    kc = next(c for c in run.charts if c.kpi == kpi)
    st.altair_chart(
        charts.unchecked(charts.control_chart(kc, run.series, change_date=run.options.change_date)),
        width="stretch",
        key="mon-control-chart",
    )
    st.caption(
        "Blue: the values (empty where a period is not judged); light blue: the center line; dashed: the "
        "control limits of each point; :orange[orange points]: a rule fired there (periods before the "
        "limits' baseline are shown for context, not judged); :orange[orange rule]: the change date."
    )
    # As the report says it: the chart's note, then where its limits come from, as a sentence.
    st.caption(md(f"{kc.chart.note} {kc.note[:1].upper() + kc.note[1:]}."))
    if kc.cusum is not None:
        st.altair_chart(
            charts.unchecked(charts.cusum_chart(kc, run.series)), width="stretch", key="mon-cusum-chart"
        )
        st.caption(md(kc.cusum.note))
    names = kc.chart.labels
    if not kc.chart.signals:
        # An empty table drew one cell reading "empty" above this line.
        st.caption("No rule fired on this chart.")
    else:
        data_table(
            [
                {
                    "period": names[s.index] if names else str(s.index),
                    "rule": f"{s.rule}: {s.name}",
                    "what": s.description,
                }
                for s in reversed(kc.chart.signals)
            ],
            hide_index=True,
            width="stretch",
            key="mon-signals",
        )
    if kc.moving_range is not None and kc.moving_range.signals:
        st.caption("Moving range: " + md(" ".join(s.description for s in kc.moving_range.signals)))
    for note in run.notes:
        st.caption(md(note))
    state.save_widgets()  # a KPI picked in this section's own rerun is kept for the next visit


def _lean(run: MonitorRun) -> None:
    view = run.lean
    if view is None:
        return
    st.subheader("Lean view")
    pce = pce_words(view)
    lead = "-" if view.lead_time_median is None else format_value(view.lead_time_median, "seconds")
    st.caption(
        f"Main variant ({view.main_variant_cases:,} cases, {view.main_variant_share:.1%}): "
        + md(" → ".join(view.main_variant))
        + f"; median lead time {lead}; process cycle efficiency {pce}."
    )
    left, right = st.columns(2)
    with left:
        st.caption("Waiting and processing along the main variant")
        st.altair_chart(
            charts.unchecked(charts.lean_steps_chart(view)), width="stretch", key="mon-lean-steps"
        )
        if not view.processing_measured:
            st.caption("The log has no start timestamps: processing time is unknown.")
    with right:
        st.caption("Waste")
        st.altair_chart(charts.unchecked(charts.waste_chart(view)), width="stretch", key="mon-waste")
    data_table(
        [
            {
                "waste": w.kind,
                "time": waste_words(w, view.business_time)[0],
                "per case": waste_words(w, view.business_time)[1],
                # Unpriced, the column would read "None" on every row; the caption below says why.
                **({"cost": None if w.cost is None else round(w.cost, 2)} if view.costed else {}),
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
