"""The Streamlit workbench: the only package that imports streamlit.

``app.py`` routes to the page functions in :mod:`mining.ui.pages`; the pages
reach the library only through the cached wrappers in :mod:`mining.ui.state`.
Nothing outside this package (and ``app.py``) imports it.
"""
