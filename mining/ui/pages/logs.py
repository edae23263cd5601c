"""Logs: what the workspace holds, and how each log was read.

The default page.  On a first launch (no workspace file yet) it loads the
bundled sample log, so a new user sees a real log at once.  The selected log
can be renamed or, after a confirmation, deleted; either change is written
whole or not at all (:func:`mining.store.writing`).
"""

from __future__ import annotations

import re

import streamlit as st

from mining.schema import ROLES, LogInfo
from mining.ui import state
from mining.ui.messages import md, reporting_errors
from mining.ui.pages import kpis, mapping_table, quality_table, rejects_table

__all__ = ["render"]

_DONE = "mining.logs_done"

_HOW_TO_INGEST = (
    "The workspace holds no logs yet. Add one on the **Upload** page, or from a terminal with "
    "`mining ingest FILE` (CSV, TSV, Excel, Parquet or XES), then reload this page."
)


def render() -> None:
    st.title("Logs")
    with reporting_errors():
        _render()


def _render() -> None:
    done = st.session_state.pop(_DONE, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    loaded = state.ensure_sample()
    if loaded is not None:
        st.success(
            f"Loaded the sample log **{md(loaded.log)}** so there is something to explore. "
            "Upload your own export on the Upload page.",
            icon=":material/check_circle:",
        )
    available = state.logs()
    if not available:
        st.info(_HOW_TO_INGEST, icon=":material/info:")
        return
    log = state.choose_log(available)
    kpis(
        cases=log.cases,
        events=log.events,
        activities=log.activities,
        variants=log.variants,
        start=log.start,
        end=log.end,
        zone=log.timezone,
    )
    details = state.log_details(log)

    st.subheader("Column mapping")
    roles = {role: log.mapping.get(role) for role in ROLES}
    mapping_table(roles, log.mapping.get("formats", {}), log.timezone)

    st.subheader("Data quality")
    quality_table(details.quality)

    st.subheader("Rejected rows")
    rejects_table(
        details.rejects,
        details.rejects_csv,
        file_name=f"{_file_stem(log.name)}-rejects.csv",
        key=f"rejects-{log.log_id}",
    )

    _manage(log)


def _manage(log: LogInfo) -> None:
    """Rename or delete the selected log; a delete asks to be confirmed first."""
    with st.expander("Rename or delete this log", icon=":material/edit:"):
        new = st.text_input("New name", value=log.name, key=f"rename-{log.log_id}")
        if st.button("Rename", key=f"rename-go-{log.log_id}", disabled=new == log.name):
            state.rename_log(log.name, new)
            st.session_state[_DONE] = f"Renamed log **{md(log.name)}** to **{md(new.strip())}**."
            st.rerun()
        st.divider()
        st.markdown(
            f"Deleting **{md(log.name)}** removes its {log.events:,} events, its cases, variants, rejected rows "
            "and data-quality findings, and its monitoring history. The file it was loaded from is not touched."
        )
        confirmed = st.checkbox(
            f"Yes, delete {log.name}", key=f"delete-confirm-{log.log_id}", help="Tick to enable the button."
        )
        if st.button(
            "Delete log",
            type="primary",
            key=f"delete-go-{log.log_id}",
            disabled=not confirmed,
            icon=":material/delete:",
        ):
            gone = state.delete_log(log.name)
            st.session_state[_DONE] = (
                f"Deleted log **{md(gone.name)}** ({gone.cases:,} cases, {gone.events:,} events)."
            )
            st.rerun()


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "log"
