"""The frame of an Explore or Check page: its title, the sidebar, its body under the error display.

After the body has run, the other Explore pages' measures under the same
filter are computed in the background (:mod:`mining.ui.warmup`), then the
Monitoring page's first run, so the page the user opens next finds them ready.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import streamlit as st

from mining.analysis.filters import Filter
from mining.schema import LogInfo
from mining.ui import measures, state, warmup
from mining.ui.filters import explore_log
from mining.ui.messages import reporting_errors

__all__ = ["explore_page"]


def explore_page(
    title: str,
    body: Callable[[LogInfo, Filter], None],
    *,
    ahead: Sequence[Callable[[LogInfo, Filter], tuple[functools.partial[object], ...]]] = (),
) -> None:
    """A page: its title, the sidebar (log and filter bar), then ``body`` under the error display.

    ``ahead``: steps of :mod:`mining.ui.measures` this page's own controls ask for next, warmed
    before the other pages' (a busy session may change the filter again before the warm-up ends).
    """
    st.title(title)
    with reporting_errors():
        with warmup.foreground():
            chosen = explore_log(title)
            if chosen is not None:
                body(*chosen)
                state.save_widgets()
        if chosen is not None:
            log, flt = chosen
            steps = (*ahead, *measures.EXPLORE_STEPS)
            warmup.warm_explore(log, flt, measures.warm_steps(log, flt, steps, monitor=True))
