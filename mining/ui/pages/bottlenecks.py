"""Bottlenecks: where cases wait, what is redone, and when and by whom work is done.

A "Working calendar and time zone" expander sets what the command line's
``--business-hours``, ``--country``, ``--subdivision`` and ``--timezone`` set:
durations in working time only, and the zone of the weekday-hour heatmap.
"""

from __future__ import annotations

import zoneinfo

import streamlit as st

from mining.analysis.calendar import WEEKDAY_NAMES, Calendar, holiday_countries, holiday_regions, parse_hours
from mining.analysis.filters import Filter
from mining.analysis.heatmaps import Heatmap, colour_scale
from mining.analysis.rework import Rework
from mining.durations import duration_unit, format_duration
from mining.errors import MiningError
from mining.schema import LogInfo
from mining.ui import charts, measures, state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md, show_error
from mining.ui.pages import object_centric_note
from mining.ui.tables import data_table

__all__ = ["HEATMAP_TABS", "render"]

_NO_COUNTRY = ""
#: The heatmaps' tabs, in the page's order.
HEATMAP_TABS = ("Waiting per transition", "Work by weekday and hour", "Work by resource")
_FAR = (
    "A cell is far above the rest when it exceeds the upper quartile (the value three quarters of "
    "the cells stay below) by more than three times the spread of the middle half of the cells."
)


def render() -> None:
    explore_page("Bottlenecks", _render, ahead=measures.CALENDAR_STEPS)


@st.cache_data(show_spinner=False)
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def calendar_controls(log: LogInfo) -> tuple[Calendar | None, str]:
    """The working calendar (``None``: elapsed time) and the time zone the page uses, from its controls."""
    zones = _zones()
    countries = dict(holiday_countries())
    with st.expander("Working calendar and time zone", icon=":material/calendar_month:"):
        left, right = st.columns(2)
        business = left.toggle(
            "Count working time only",
            key=state.keep_widget("bn-business", False),
            help="Waiting and processing times leave out nights, weekends and public holidays.",
        )
        zone_key = state.keep_widget(f"bn-tz-{log.log_id}", log.timezone if log.timezone in zones else "UTC")
        zone = right.selectbox(
            "Time zone",
            zones,
            key=zone_key,
            help=f"The weekday and hour of the heatmap, and the working hours, are read in this zone. "
            f"The log's own zone is {log.timezone}.",
        )
        if not business:
            return None, zone
        a, b, c = st.columns(3)
        hours = a.text_input(
            "Working hours",
            key=state.keep_widget("bn-hours", "9-17"),
            help="START-END, e.g. 9-17 or 8:30-17:15",
        )
        days = b.multiselect(
            "Working days", list(WEEKDAY_NAMES), key=state.keep_widget("bn-days", list(WEEKDAY_NAMES[:5]))
        )
        country = c.selectbox(
            "Public holidays of",
            [_NO_COUNTRY, *countries],
            format_func=lambda code: "(no country)" if code == _NO_COUNTRY else f"{countries[code]} ({code})",
            key=state.keep_widget("bn-country", _NO_COUNTRY),
        )
        regions = holiday_regions(country) if country else ()
        region = None
        if regions:
            region = (
                st.selectbox(
                    "Region",
                    ["", *regions],
                    format_func=lambda r: "(whole country)" if r == "" else r,
                    key=state.keep_widget(f"bn-region-{country}", ""),
                    help="A state or province with holidays of its own (e.g. BY for Bavaria).",
                )
                or None
            )
        try:
            start, end = parse_hours(hours)
            calendar = Calendar(
                timezone=zone,
                workdays=tuple(sorted(WEEKDAY_NAMES.index(d) + 1 for d in days)) or (1, 2, 3, 4, 5),
                start_hour=start,
                end_hour=end,
                country=country or None,
                subdivision=region,
            )
        except MiningError as exc:
            show_error(exc)
            return None, zone
        st.caption(f"Durations below are working time: {md(calendar.label())}.")
        return calendar, zone


def _outliers_caption(h: Heatmap) -> tuple[float | None, bool]:
    """Name the cells far above the rest (they take the darkest colour), or say the colours are on a
    logarithmic scale; the colour scale's top and whether it is logarithmic."""
    scale = colour_scale(h)
    if scale.log:
        st.caption(
            "**Colours on a logarithmic scale**: the busiest cells hold many times what most do, and on a "
            "straight scale every other cell would take the palest colour. Hover a cell for its figure."
        )
        return None, True
    if scale.top is None:
        return None, False

    def value(v: float) -> str:
        return format_duration(v) if h.unit == "seconds" else f"{v:,.0f}"

    named = "; ".join(f"{md(r)} in {md(c)}: {value(v)}" for r, c, v in scale.outliers)
    more = f" and {scale.count - len(scale.outliers):,} more" if scale.count > len(scale.outliers) else ""
    cells = (
        "1 cell far above the rest takes"
        if scale.count == 1
        else f"{scale.count:,} cells far above the rest take"
    )
    st.caption(
        f"**{cells}** the darkest colour, so the others stay readable "
        f"(the scale stops at {value(scale.top)}): {named}{more}.",
        help=_FAR,
    )
    return scale.top, False


def _column_unit(values: list[float | None], *, business: bool) -> tuple[float, str]:
    """The unit a column of durations reads in, from its largest value: seconds to days (business time
    stops at hours, a day of it being no 24 hours)."""
    per, unit = duration_unit(max((v for v in values if v is not None), default=0.0))
    if business and unit == "days":
        return 3600.0, "hours"
    return per, unit


def _render(log: LogInfo, flt: Filter) -> None:
    calendar, zone = calendar_controls(log)
    # The log's own zone is the default: the same cache entries as the warm-up's.
    times, rw, waits, load, people = measures.bottlenecks_measures(
        log, flt, calendar=calendar, timezone=None if zone == log.timezone else zone
    )
    if not times.activities:
        st.warning("No event is left by the filters.", icon=":material/filter_alt_off:")
        return

    st.subheader("Waiting and processing per activity")
    if not times.processing_measured:
        st.info(times.note, icon=":material/info:")
    st.altair_chart(charts.activity_times_chart(times), width="stretch")
    # Each column in its own unit: waits of days beside processing of minutes would read "0" in one.
    figures = {
        "median wait": [a.waiting.median for a in times.activities],
        "p90 wait": [a.waiting.p90 for a in times.activities],
        # Without start times there is no processing time: no empty columns.
        **(
            {
                "median processing": [a.processing.median for a in times.activities],
                "p90 processing": [a.processing.p90 for a in times.activities],
            }
            if times.processing_measured
            else {}
        ),
    }
    columns = {}
    for name, values in figures.items():
        per, unit = _column_unit(values, business=times.business_time)
        # Three significant digits: a wait of minutes in a column of days reads 0.00486, not 0.
        columns[f"{name} ({unit})"] = [None if v is None else float(f"{v / per:.3g}") for v in values]
    data_table(
        [
            {
                "activity": a.activity,
                "instances": a.count,
                **{header: shown[i] for header, shown in columns.items()},
            }
            for i, a in enumerate(times.activities)
        ],
        hide_index=True,
        width="stretch",
        key="bottlenecks-times",
    )
    if times.processing_measured:
        st.caption(md(times.note))

    st.subheader("Rework")
    flattened = object_centric_note(log.mapping, on_map=False)
    if flattened:
        st.info(flattened, icon=":material/hub:")
    cols = st.columns(4)
    cols[0].metric("Cases with rework", f"{rw.cases_with_rework:,}", help=f"of {rw.cases:,} cases")
    cols[1].metric("Rework share", f"{rw.rework_share:.1%}")
    cols[2].metric("Self / short loops", f"{rw.self_loops:,} / {rw.short_loops:,}")
    cols[3].metric("Ping-pong hand-overs", f"{rw.ping_pong:,}", help=f"in {rw.ping_pong_cases:,} cases")
    # The details of rework draw when asked for: three tables the page does not send on each rerun.
    details = st.expander(
        "Repeated activities, loops and ping-pong",
        key=state.keep_widget("bn-rework-details", False),
        on_change="rerun",
        icon=":material/table:",
    )
    if details.open:
        with details:
            _rework_tables(rw)

    why.waste_section(log, flt, key="bn-rates")

    st.subheader("Heatmaps")
    # One heatmap at a time: only the chosen tab's chart is drawn (the weekday-hour grid alone holds
    # 168 columns of cells), so a rerun of the page paints one chart, not three.
    tabs = st.tabs(
        list(HEATMAP_TABS),
        key=state.keep_widget("bn-heatmap", HEATMAP_TABS[0]),
        on_change="rerun",
    )
    unit = waits.period or "week"
    shown = (
        (
            waits,
            f"Median wait per transition and {unit} (the most frequent transitions)",
            "Transition",
            f"{unit.capitalize()} starting",
            "heatmap-transition",
            None,
        ),
        (
            load,
            f"Activity instances completed per weekday and hour, in {md(zone)} time",
            "Activity",
            "Weekday and hour",
            "heatmap-load",
            None,
        ),
        (
            people,
            "Activity instances per resource (the busiest resources)",
            "Resource",
            "Activity",
            "heatmap-resource",
            "The log has no resources.",
        ),
    )
    for tab, (h, caption, row_title, column_title, key, empty) in zip(tabs, shown, strict=True):
        if tab.open:
            with tab:
                _heatmap(h, caption, row_title=row_title, column_title=column_title, key=key, empty=empty)


def _heatmap(
    h: Heatmap, caption: str, *, row_title: str, column_title: str, key: str, empty: str | None
) -> None:
    """One tab's heatmap with its caption, outliers and note; ``empty`` is said instead of an empty chart."""
    st.caption(caption)
    if empty is not None and not h.rows:
        st.caption(empty)
    else:
        top, log = _outliers_caption(h)
        st.altair_chart(
            charts.heatmap_chart(h, row_title=row_title, column_title=column_title, top=top, log=log),
            width="stretch",
            key=key,
        )
    _note(h)


def _note(h: Heatmap) -> None:
    if h.note:
        st.caption(md(h.note[0].upper() + h.note[1:]) + ".")


def _rework_tables(rw: Rework) -> None:
    left, right = st.columns(2)
    with left:
        st.caption("Repeated activities")
        data_table(
            [
                {
                    "activity": a.activity,
                    "cases": a.cases,
                    "cases repeating it": a.cases_repeated,
                    "extra executions": a.extra_executions,
                }
                for a in rw.activities
                if a.extra_executions
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption("Loops")
        data_table(
            [
                {"kind": lp.kind, "pattern": " → ".join(lp.pattern), "count": lp.count, "cases": lp.cases}
                for lp in rw.loops
            ],
            hide_index=True,
            width="stretch",
        )
    with right:
        st.caption("Ping-pong between resources (X → Y → X)")
        if not rw.has_resources:
            st.caption("The log has no resources.")
        else:
            data_table(
                [
                    {"resources": " ⇄ ".join(p.resources), "count": p.count, "cases": p.cases}
                    for p in rw.ping_pong_pairs
                ],
                hide_index=True,
                width="stretch",
            )
