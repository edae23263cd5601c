"""Start: the default page.  What the app shows, the active log's headline numbers, and where to go next.

On a first launch (a workspace without logs) it loads the bundled sample log,
as the Logs page does, so a new user sees a real log at once.  ``app.py``
hands it the other pages (:func:`render` takes them), so its links open them
within the session and keep the filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from mining.analysis.filters import Filter
from mining.durations import duration_words
from mining.ui import measures, state, warmup
from mining.ui.messages import md, reporting_errors
from mining.ui.pages import kpis, quality_banner

__all__ = ["NEXT_STEPS", "render"]

#: The pages a person goes to next, in reading order, each with what it answers.
NEXT_STEPS: tuple[tuple[str, str], ...] = (
    ("Process map", "Which steps follow which, how often, and how long cases wait between them."),
    ("Variants", "The distinct paths cases take through the process, most common first."),
    ("Bottlenecks", "Where cases wait, what is done twice, and when and by whom work is done."),
    ("Overview", "How long cases take and how many are completed each week."),
    ("Conformance", "Whether cases follow your reference process (a BPMN model), and where they do not."),
    ("Monitoring", "How the process changed after a date: cycle times, rework and costs before and after."),
)

_INTRO = (
    "This workbench reads exports of your systems, one row per event (a case, an activity, a time), "
    "and shows how the process really runs: the order of the steps, the paths cases take, "
    "where they wait and how that changes over time."
)


def render(pages: Mapping[str, Any]) -> None:
    """The start page; ``pages`` maps page titles (those of :data:`NEXT_STEPS`, and ``"Upload"``)
    to the ``st.Page`` objects the links open."""
    st.title("See how your process really runs")
    with reporting_errors():
        _render(pages)


def _render(pages: Mapping[str, Any]) -> None:
    st.write(_INTRO)
    loaded = state.ensure_sample()
    if loaded is not None:
        st.success(
            f"Loaded the sample log **{md(loaded.log)}** so there is something to explore.",
            icon=":material/check_circle:",
        )
    available = state.logs()
    if not available:
        st.info(
            "The workspace holds no logs yet. Add an export on the **Upload** page, or from a terminal "
            "with `mining ingest FILE` (CSV, TSV, Excel, Parquet or XES).",
            icon=":material/info:",
        )
        if "Upload" in pages:
            st.page_link(pages["Upload"], label="Add an export", icon=":material/upload_file:")
        return
    st.subheader("The log you are looking at")
    log = state.choose_log(available)
    # The robust range, as the Overview shows it: a placeholder date (9999-12-31) stretches neither end.
    span = measures.span_of(log)
    robust = span.first is not None and not span.complete
    kpis(
        cases=log.cases,
        events=log.events,
        activities=log.activities,
        variants=log.variants,
        start=span.first if robust else log.start,
        end=span.last if robust else log.end,
        zone=log.timezone,
    )
    if robust:
        st.caption(span.note[0].upper() + span.note[1:] + ".")
    quality_banner(state.log_details(log).quality, here=False)
    durations = measures.case_durations_of(log, Filter())
    if durations.median_seconds is not None:
        st.write(
            f"Half the cases take less than **{duration_words(durations.median_seconds)}** from first to "
            f"last event; one in ten takes more than **{duration_words(durations.p90_seconds or 0)}**."
        )
    st.caption(
        "Every page works on this log: choose another here or in the sidebar. The filters in the sidebar "
        "of the Explore pages keep only the cases you are interested in, on every page at once."
    )

    st.subheader("What to do next")
    left, right = st.columns(2)
    for i, (title, what) in enumerate(NEXT_STEPS):
        page = pages.get(title)
        if page is None:
            continue
        with left if i % 2 == 0 else right:
            st.page_link(page, label=f"**{title}**", icon=page.icon or None)
            st.caption(what)
    st.divider()
    st.caption("Your own data: export the events of a system as CSV, Excel, Parquet or XES.")
    if "Upload" in pages:
        st.page_link(pages["Upload"], label="Add an export", icon=":material/upload_file:")
    if "Logs" in pages:
        st.page_link(pages["Logs"], label="See how each log was read", icon=":material/table_chart:")
    # While the page is read, the Explore pages' first figures are computed, the filter bar's first, then
    # the Monitoring page's first run.
    warmup.warm_explore(log, Filter(), measures.warm_steps(log, Filter(), measures.START_STEPS, monitor=True))
