"""A long check on a page: its progress bar, its Cancel, and what a click in the middle of it leaves.

A click (Cancel, or any widget) stops a running script: with Streamlit's fast
reruns (the default) a new run starts at once and every later element call
*or session-state access* of the old run raises ``StopException``; without
them the next element call raises ``RerunException``.  Raised inside the
check either would throw away every alignment done so far, so
:class:`Progress` keeps it instead: the check stops at its next chunk and
returns a partial result, and the exception is raised after, as
:class:`CheckInterrupted`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from mining.conformance import ConformanceResult

__all__ = ["CheckInterrupted", "Progress"]


class CheckInterrupted(Exception):
    """Streamlit stopped the script while a check ran (Cancel, or any other click).

    ``result`` is the partial result the check returned when asked to stop;
    the page keeps it and re-raises ``control`` so that Streamlit reruns.
    """

    def __init__(self, result: ConformanceResult, control: BaseException) -> None:
        super().__init__("the conformance check was interrupted")
        self.result = result
        self.control = control


class Progress:
    """``progress`` and ``cancel`` callbacks for :func:`mining.conformance.check.conform`.

    ``cancelled()`` is true once ``cancel()`` (the page's Cancel flag) says so
    or once Streamlit has stopped the script; ``control`` then holds
    Streamlit's exception, for the caller to raise when the check has returned.
    """

    def __init__(self, cancel: Callable[[], bool], *, text: str = "Aligning the variants…") -> None:
        self.bar = st.progress(0.0, text=text)
        self.cancel = cancel
        self.control: BaseException | None = None

    def __call__(self, done: int, total: int) -> None:
        self.show(min(1.0, done / total) if total else 1.0, f"Aligned {done:,} of {total:,} variants")

    def show(self, share: float, text: str) -> None:
        from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

        if self.control is not None:
            return
        try:
            self.bar.progress(share, text=text)
        except (RerunException, StopException) as exc:
            self.control = exc

    def cancelled(self) -> bool:
        from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

        if self.control is None:
            try:
                return bool(self.cancel())
            except (RerunException, StopException) as exc:
                self.control = exc
        return True
