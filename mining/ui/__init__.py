"""The Streamlit workbench: the only package that imports streamlit.

``app.py`` routes to the page functions in :mod:`mining.ui.pages`.  The pages
reach the library through the cached reads of :mod:`mining.ui.state` (the
workspace) and :mod:`mining.ui.measures` (what they draw), frame themselves
with :mod:`mining.ui.layout` and speak through :mod:`mining.ui.messages`.
Nothing outside this package (and ``app.py``) imports it.
"""

__all__ = [
    "charts",
    "filters",
    "layout",
    "measures",
    "messages",
    "pages",
    "progress",
    "state",
    "uploads",
    "warmup",
]
