"""The global filter bar of the Explore pages, in the sidebar.

It picks the log, reads the filter widgets, builds a
:class:`~mining.analysis.filters.Filter` and keeps it in ``st.session_state``
so every Explore page analyses the same cases.  Widget values are saved under
a key of their own and restored on the next page, because Streamlit drops a
widget's state when a page that does not render it runs.  The active filters
are shown as plain-text chips (``Filter.chips()``, markdown-escaped).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import streamlit as st

from mining.analysis.filters import WINDOW_MODES, Filter
from mining.durations import parse_duration
from mining.errors import MiningError
from mining.moments import local_text
from mining.schema import LogInfo
from mining.ui import measures, state
from mining.ui.messages import md

if TYPE_CHECKING:
    from streamlit.elements.lib.mutable_expander_container import ExpanderContainer

__all__ = ["FILTER_KEY", "current_filter", "explore_log", "filter_bar", "prefix_of"]

FILTER_KEY = "mining.filter"
_VARIANT_MODES = ("all", "top k", "coverage")
_FOLLOW_MODES = ("eventually", "directly")
#: Attributes with more distinct values than this are not offered as a list to pick from.
_MAX_CHOICES = measures.ATTRIBUTE_VALUES


def current_filter() -> Filter:
    """The filter the bar built last (everything kept before it ran)."""
    found = st.session_state.get(FILTER_KEY)
    return found if isinstance(found, Filter) else Filter()


def prefix_of(log: LogInfo) -> str:
    """The filter bar's widget keys for ``log`` start with this."""
    return f"flt-{log.log_id}-"


def explore_log(page: str = "") -> tuple[LogInfo, Filter] | None:
    """The sidebar of an Explore page (``page`` names it): the log and the filter bar.

    ``None`` (after saying how to add one) when the workspace holds no logs.
    """
    available = state.logs()
    if not available:
        st.info(
            "The workspace holds no logs yet. Open the **Logs** page to load the sample log, "
            "or add one on the **Upload** page.",
            icon=":material/info:",
        )
        return None
    state.enter_page(page)
    with st.sidebar:
        log = state.choose_log(available)
        flt = filter_bar(log)
    return log, flt


def _kept_list(key: str, choices: list[str]) -> str:
    state.keep_widget(key, [])
    st.session_state[key] = [a for a in st.session_state[key] if a in choices]
    return key


def filter_bar(log: LogInfo) -> Filter:
    """Render the filter widgets for ``log`` and return (and keep) the filter."""
    head, reset = st.columns([3, 2], vertical_alignment="bottom")
    head.subheader("Filters")
    prefix = prefix_of(log)
    reset.button(
        "Reset",
        key=f"reset-{log.log_id}",
        on_click=state.reset_widgets,
        args=(prefix,),
        help="Clear every filter: all cases of the log are kept.",
        icon=":material/filter_alt_off:",
    )
    # The bar's lists over the whole log, side by side: on a page's first open nothing is cached yet, and
    # one after the other they were most of its wait.
    graph, resource_rows, summaries, variant_table = measures.filter_bar_measures(log, Filter())
    start = end = None
    window = "intersecting"
    # The window's days are the log's own (a day in Amsterdam starts at 23:00 UTC in winter) and cover
    # where its events really lie: a placeholder date such as 9999-12-31 does not stretch the calendar.
    span = measures.span_of(log)
    zone = ZoneInfo(log.timezone)
    if span.first is not None and span.last is not None:
        lo, hi = span.first.astimezone(zone).date(), span.last.astimezone(zone).date()
        days = f"Days in the log's time zone, {log.timezone}."
        first = st.date_input(
            "From",
            min_value=lo,
            max_value=hi,
            key=state.keep_widget(prefix + "from", lo),
            format="YYYY-MM-DD",
            help=days,
        )
        last = st.date_input(
            "To (inclusive)",
            min_value=lo,
            max_value=hi,
            key=state.keep_widget(prefix + "to", hi),
            format="YYYY-MM-DD",
            help=days,
        )
        window = st.selectbox(
            "Cases that",
            WINDOW_MODES,
            key=state.keep_widget(prefix + "window", window),
            help="started: the case starts in the window; completed: it ends in it; "
            "intersecting: it overlaps the window.",
        )
        if not span.complete:
            outside = f"{span.left_out:,} event{'' if span.left_out == 1 else 's'}"
            extremes = [
                local_text(t, log.timezone, "%Y-%m-%d")
                for t in (span.earliest, span.latest)
                if t is not None and not span.contains(t)
            ]
            seen = f" (as far out as {' and '.join(extremes)})" if extremes else ""
            looks = "looks" if span.left_out == 1 else "look"
            st.caption(
                f"The calendar covers {lo} to {hi}: {outside} dated outside it{seen} {looks} like "
                "placeholder dates or typing errors."
            )
        if isinstance(first, dt.date) and isinstance(last, dt.date):
            if first > last:
                st.warning("From is after To: the time window is ignored.", icon=":material/warning:")
            else:
                if first > lo:
                    start = dt.datetime.combine(first, dt.time(), zone)
                if last < hi:
                    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)

    counts = graph.activities
    all_activities = sorted(counts)
    paths = _panel(log, "paths", "Activities and paths", ("through", "starts", "ends", "fa", "remove"))
    with paths:
        ui = st if paths.open else _UNDRAWN
        through = ui.multiselect(
            "Cases passing through",
            all_activities,
            key=_kept_list(prefix + "through", all_activities),
            help="Keep the cases with at least one of these activities.",
        )
        starts = ui.multiselect(
            "Started with", all_activities, key=_kept_list(prefix + "starts", all_activities)
        )
        ends = ui.multiselect("Ended with", all_activities, key=_kept_list(prefix + "ends", all_activities))
        follow_a = ui.selectbox(
            "Activity A",
            ["(any)", *all_activities],
            key=state.keep_widget(prefix + "fa", "(any)"),
            help="Keep the cases in which A is followed by B.",
        )
        follow_mode = ui.radio(
            "followed",
            _FOLLOW_MODES,
            horizontal=True,
            key=state.keep_widget(prefix + "fmode", "eventually"),
            help="eventually: B comes later in the case; directly: B comes next, with nothing between.",
        )
        follow_b = ui.selectbox(
            "by activity B", ["(any)", *all_activities], key=state.keep_widget(prefix + "fb", "(any)")
        )
        removed = ui.multiselect(
            "Hide activities",
            all_activities,
            key=_kept_list(prefix + "remove", all_activities),
            help="Leave these activities out of every measure; the cases stay, joined around them.",
        )
    if removed and len(removed) == len(all_activities):
        st.warning("Every activity is hidden: the activity filter is ignored.", icon=":material/warning:")
        removed = []
    follows: tuple[tuple[str, str, bool], ...] = ()
    if follow_a in counts and follow_b in counts:
        follows = ((follow_a, follow_b, follow_mode == "directly"),)

    resources = tuple(r.resource for r in resource_rows)
    chosen_resources: list[str] = []
    attributes: list[tuple[str, tuple[str, ...]]] = []
    ranges: list[tuple[str, float | None, float | None]] = []
    # A range slider at its attribute's whole range filters nothing: it does not open the expander.
    full_ranges = {
        prefix + "attr-" + a.name: (a.minimum, a.maximum)
        for a in summaries
        if a.numeric and a.minimum is not None
    }
    cases = _panel(
        log, "cases", "Resources, attributes and duration", ("res", "attr-", "dmin", "dmax"), full_ranges
    )
    with cases:
        ui = st if cases.open else _UNDRAWN
        if resources:
            chosen_resources = ui.multiselect(
                "Resources",
                list(resources),
                key=_kept_list(prefix + "res", list(resources)),
                help="Keep the cases in which one of these resources did an activity.",
            )
        for a in summaries:
            key = prefix + "attr-" + a.name
            if a.numeric and a.minimum is not None and a.maximum is not None and a.minimum < a.maximum:
                low, high = ui.slider(
                    f"{a.name} ({a.level} attribute)",
                    a.minimum,
                    a.maximum,
                    key=state.keep_widget(key, (a.minimum, a.maximum)),
                    help="Keep the cases with a value in this range.",
                )
                if low > a.minimum or high < a.maximum:
                    ranges.append(
                        (a.name, low if low > a.minimum else None, high if high < a.maximum else None)
                    )
            elif 0 < a.distinct <= _MAX_CHOICES:
                values = [v for v, _ in a.top]
                picked = ui.multiselect(
                    f"{a.name} ({a.level} attribute)",
                    values,
                    key=_kept_list(key, values),
                    help="Keep the cases in which an event carries one of these values.",
                )
                if picked:
                    attributes.append((a.name, tuple(picked)))
        shortest = ui.text_input(
            "Case duration at least",
            key=state.keep_widget(prefix + "dmin", ""),
            placeholder="e.g. 2d, 4h, 90m",
        )
        longest = ui.text_input(
            "Case duration at most",
            key=state.keep_widget(prefix + "dmax", ""),
            placeholder="e.g. 30d",
            help="From the case's first event to its last.",
        )
    dmin, dmax = _duration(shortest, "at least"), _duration(longest, "at most")

    total_variants = variant_table.total_variants
    mode = st.radio(
        "Variants",
        _VARIANT_MODES,
        horizontal=True,
        key=state.keep_widget(prefix + "vmode", "all"),
        help="A variant is one sequence of activities. Top k and coverage rank the variants among the "
        "cases the other filters keep: the top 3 of the chosen window, not of the whole log.",
    )
    top_k = coverage = None
    if mode == "top k" and total_variants > 1:
        state.keep_widget(prefix + "topk", min(10, total_variants))
        st.session_state[prefix + "topk"] = min(int(st.session_state[prefix + "topk"]), total_variants)
        top_k = st.slider("Top variants", 1, total_variants, key=prefix + "topk")
    elif mode == "coverage":
        coverage = (
            st.slider(
                "Variant coverage (% of cases)",
                5,
                100,
                step=5,
                key=state.keep_widget(prefix + "coverage", 80),
            )
            / 100
        )
    state.save_widgets()

    flt = Filter(
        start=start,
        end=end,
        window=window,
        activities_remove=tuple(removed),
        attributes=tuple(attributes),
        attribute_ranges=tuple(ranges),
        variant_top_k=top_k,
        variant_coverage=coverage,
        min_duration_s=dmin,
        max_duration_s=dmax,
        resources=tuple(chosen_resources),
        with_activities=tuple(through),
        starts_with=tuple(starts),
        ends_with=tuple(ends),
        follows=follows,
    )
    st.session_state[FILTER_KEY] = flt
    chips = flt.chips()
    if chips:
        st.caption("Active filters")
        for chip in chips:
            st.caption(":material/filter_alt: " + md(chip))
    else:
        st.caption("No filters: every case is kept.")
    return flt


class _Undrawn:
    """Stands in for ``st`` in a closed panel of the bar: each widget's kept value, nothing drawn.

    Every call names its ``key``, whose value the caller's ``keep_widget`` has just put in the session
    state: the filter is the same whether its panel is open or not.
    """

    @staticmethod
    def _value(*args: object, key: str, **kwargs: object) -> object:
        del args, kwargs
        return st.session_state[key]

    multiselect = selectbox = radio = slider = text_input = _value


_UNDRAWN = _Undrawn()


def _panel(
    log: LogInfo, name: str, label: str, names: tuple[str, ...], unset: dict[str, object] | None = None
) -> ExpanderContainer:
    """A folding panel of the bar whose widgets are drawn only while it is open (``.open``).

    A closed panel's widgets would be built, styled and laid out by the browser on every rerun of every
    Explore page (about half the bar); opening it is one rerun. It opens by itself when one of its
    filters (``names``, see :func:`_any_set`) comes into use from elsewhere (the Process map's buttons),
    and it stays as the user leaves it: clearing its last value, or Reset, does not fold it away.
    """
    key = f"expander-{log.log_id}-{name}"
    used = f"expander-used-{log.log_id}-{name}"  # outside the bar's prefix: Reset keeps it
    in_use = _any_set(prefix_of(log), names, unset)
    state.keep_widget(key, False)
    if in_use and not st.session_state.get(used, False):
        st.session_state[key] = True
    st.session_state[used] = in_use
    return st.expander(label, key=key, on_change="rerun")


def _any_set(prefix: str, names: tuple[str, ...], unset: dict[str, object] | None = None) -> bool:
    """True when a widget of the bar whose key starts with ``prefix`` + one of ``names`` keeps fewer cases
    than all: not empty, not "(any)", and not its value in ``unset`` (a range slider's whole range)."""
    unset = unset or {}
    for key, value in state.kept_values(prefix).items():
        if not any(key[len(prefix) :].startswith(n) for n in names):
            continue
        if value in ([], "", "(any)") or (key in unset and tuple(value) == tuple(unset[key])):
            continue
        return True
    return False


def _duration(text: str, which: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_duration(text, what=f"case duration {which}").total_seconds
    except MiningError as exc:
        st.warning(md(str(exc)), icon=":material/warning:")
        return None
