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
from typing import Any

import streamlit as st

from mining.analysis.filters import WINDOW_MODES, Filter
from mining.schema import LogInfo
from mining.ui import measures, state
from mining.ui.messages import md

__all__ = ["FILTER_KEY", "current_filter", "explore_log", "filter_bar"]

FILTER_KEY = "mining.filter"
_SAVED = "mining.filter_widgets"
_PAGE = "mining.filter_page"  # the Explore page that drew the filter bar last
_VARIANT_MODES = ("all", "top k", "coverage")


def current_filter() -> Filter:
    """The filter the bar built last (everything kept before it ran)."""
    found = st.session_state.get(FILTER_KEY)
    return found if isinstance(found, Filter) else Filter()


def _seed(key: str, default: Any, *, restore: bool = False) -> str:
    """Give a widget its saved (or default) value through the session state.

    Once, unless ``restore``: on the first run of another page the old
    page's value may still sit under the key, but Streamlit ties a widget's
    state to the page that drew it (its element id includes the page), so
    the new page's widget would start from its default.  Assigning the saved
    value before the widget is created is what carries it over.
    """
    if restore or key not in st.session_state:
        st.session_state[key] = st.session_state.get(_SAVED, {}).get(key, default)
    return key


def _save(keys: list[str]) -> None:
    saved = dict(st.session_state.get(_SAVED, {}))
    saved.update({k: st.session_state[k] for k in keys if k in st.session_state})
    st.session_state[_SAVED] = saved


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
    arrived = st.session_state.get(_PAGE) != page
    st.session_state[_PAGE] = page
    with st.sidebar:
        log = state.choose_log(available)
        flt = filter_bar(log, restore=arrived)
    return log, flt


def filter_bar(log: LogInfo, *, restore: bool = False) -> Filter:
    """Render the filter widgets for ``log`` and return (and keep) the filter.

    ``restore`` (the first run of a page) sets every widget to its saved value.
    """
    st.subheader("Filters")
    prefix = f"flt-{log.log_id}-"
    keys: list[str] = []
    start = end = None
    window = "intersecting"
    if log.start is not None and log.end is not None:
        lo, hi = log.start.date(), log.end.date()
        keys += [
            _seed(prefix + "from", lo, restore=restore),
            _seed(prefix + "to", hi, restore=restore),
            _seed(prefix + "window", window, restore=restore),
        ]
        first = st.date_input("From", min_value=lo, max_value=hi, key=prefix + "from")
        last = st.date_input("To (inclusive)", min_value=lo, max_value=hi, key=prefix + "to")
        window = st.selectbox(
            "Cases that",
            WINDOW_MODES,
            key=prefix + "window",
            help="started: the case starts in the window; completed: it ends in it; "
            "intersecting: it overlaps the window.",
        )
        if isinstance(first, dt.date) and isinstance(last, dt.date):
            if first > last:
                st.warning("From is after To: the time window is ignored.", icon=":material/warning:")
            else:
                if first > lo:
                    start = dt.datetime.combine(first, dt.time(), dt.UTC)
                if last < hi:
                    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)

    all_activities = sorted(measures.dfg_of(log, Filter()).activities)
    keys.append(_seed(prefix + "remove", [], restore=restore))
    st.session_state[prefix + "remove"] = [
        a for a in st.session_state[prefix + "remove"] if a in all_activities
    ]
    removed = st.multiselect("Remove activities", all_activities, key=prefix + "remove")
    if removed and len(removed) == len(all_activities):
        st.warning("Every activity is removed: the activity filter is ignored.", icon=":material/warning:")
        removed = []

    total_variants = measures.variants_of(log, Filter(), top=1).total_variants
    keys.append(_seed(prefix + "vmode", "all", restore=restore))
    mode = st.radio("Variants", _VARIANT_MODES, horizontal=True, key=prefix + "vmode")
    top_k = coverage = None
    if mode == "top k" and total_variants > 1:
        keys.append(_seed(prefix + "topk", min(10, total_variants), restore=restore))
        top_k = st.slider("Top variants", 1, total_variants, key=prefix + "topk")
    elif mode == "coverage":
        keys.append(_seed(prefix + "coverage", 80, restore=restore))
        coverage = st.slider("Variant coverage (% of cases)", 5, 100, step=5, key=prefix + "coverage") / 100
    _save(keys)

    flt = Filter(
        start=start,
        end=end,
        window=window,
        activities_remove=tuple(removed),
        variant_top_k=top_k,
        variant_coverage=coverage,
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
