"""Logs: what the workspace holds, and how each log was read.

The default page.  On a first launch (a workspace without logs) it loads the
bundled sample log, so a new user sees a real log at once.
"""

from __future__ import annotations

import re

import streamlit as st

from mining.schema import ROLES
from mining.ui import state
from mining.ui.messages import md, reporting_errors
from mining.ui.pages import kpis, mapping_table, quality_table, rejects_table

__all__ = ["render"]

_HOW_TO_INGEST = (
    "The workspace holds no logs yet. Add one on the **Upload** page, or from a terminal with "
    "`mining ingest FILE` (CSV, TSV, Excel, Parquet or XES), then reload this page."
)


def render() -> None:
    st.title("Logs")
    with reporting_errors():
        _render()


def _render() -> None:
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


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "log"
