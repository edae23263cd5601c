"""The mining workbench (Streamlit): page configuration and navigation only.

Run it with ``mining app`` or ``streamlit run app.py``; the workspace is
``$MINING_WORKSPACE`` (default ``mining.duckdb``).  Each page is a function in
``mining/ui/pages/``.
"""

import functools
from pathlib import Path

import streamlit as st

from mining.ui.pages import (
    bottlenecks,
    compare,
    conformance,
    logs,
    monitoring,
    overview,
    process_map,
    root_causes,
    start,
    upload,
    variants,
    whatif,
)

st.set_page_config(page_title="mining", page_icon=":material/account_tree:", layout="wide")
# The app's name above the pages in the sidebar.
st.logo(str(Path(__file__).resolve().parent / "mining" / "ui" / "logo.svg"), size="large")

links: dict[str, st.Page] = {}  # the pages by title, for the links of the Start and Upload pages
workspace = [
    st.Page(logs.render, title="Logs", url_path="logs", icon=":material/table_chart:"),
    st.Page(
        functools.partial(upload.render, links),
        title="Upload",
        url_path="upload",
        icon=":material/upload_file:",
    ),
]
explore = [
    st.Page(overview.render, title="Overview", url_path="overview", icon=":material/dashboard:"),
    st.Page(process_map.render, title="Process map", url_path="process-map", icon=":material/account_tree:"),
    st.Page(variants.render, title="Variants", url_path="variants", icon=":material/format_list_numbered:"),
    st.Page(
        bottlenecks.render, title="Bottlenecks", url_path="bottlenecks", icon=":material/hourglass_bottom:"
    ),
]
check = [
    st.Page(conformance.render, title="Conformance", url_path="conformance", icon=":material/rule:"),
    st.Page(monitoring.render, title="Monitoring", url_path="monitoring", icon=":material/monitor_heart:"),
]
why = [
    st.Page(root_causes.render, title="Root causes", url_path="root-causes", icon=":material/troubleshoot:"),
    st.Page(compare.render, title="Compare", url_path="compare", icon=":material/compare_arrows:"),
]
improve = [st.Page(whatif.render, title="What-if", url_path="what-if", icon=":material/science:")]
links.update({p.title: p for p in [*workspace, *explore, *why, *improve, *check]})
home = st.Page(
    functools.partial(start.render, links),
    title="Start",
    url_path="start",
    icon=":material/home:",
    default=True,
)

st.navigation(
    {"Workspace": [home, *workspace], "Explore": explore, "Why": why, "Improve": improve, "Check": check}
).run()
