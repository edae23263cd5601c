"""The mining workbench (Streamlit): page configuration and navigation only.

Run it with ``mining app`` or ``streamlit run app.py``; the workspace is
``$MINING_WORKSPACE`` (default ``mining.duckdb``).  Each page is a function in
``mining/ui/pages/``.
"""

import streamlit as st

from mining.ui.pages import (
    bottlenecks,
    conformance,
    logs,
    monitoring,
    overview,
    process_map,
    upload,
    variants,
    whatif,
)

st.set_page_config(page_title="mining", page_icon=":material/account_tree:", layout="wide")

st.navigation(
    {
        "Workspace": [
            st.Page(logs.render, title="Logs", url_path="logs", icon=":material/table_chart:", default=True),
            st.Page(upload.render, title="Upload", url_path="upload", icon=":material/upload_file:"),
        ],
        "Explore": [
            st.Page(overview.render, title="Overview", url_path="overview", icon=":material/dashboard:"),
            st.Page(
                process_map.render,
                title="Process map",
                url_path="process-map",
                icon=":material/account_tree:",
            ),
            st.Page(
                variants.render, title="Variants", url_path="variants", icon=":material/format_list_numbered:"
            ),
            st.Page(
                bottlenecks.render,
                title="Bottlenecks",
                url_path="bottlenecks",
                icon=":material/hourglass_bottom:",
            ),
        ],
        "Check": [
            st.Page(conformance.render, title="Conformance", url_path="conformance", icon=":material/rule:"),
            st.Page(
                monitoring.render, title="Monitoring", url_path="monitoring", icon=":material/monitor_heart:"
            ),
        ],
        "Improve": [
            st.Page(whatif.render, title="What-if", url_path="what-if", icon=":material/science:"),
        ],
    }
).run()
