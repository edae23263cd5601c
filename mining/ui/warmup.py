"""Work done while the user reads: the other Explore pages' measures, and slow imports.

One daemon thread, newest request first: after a filter change the pages not
shown yet fill the shared cache, so opening one is a cache hit.  Streamlit's
per-key compute lock makes a page that opens mid-way wait for the value being
computed instead of computing it twice.  The state is this module's, shared by
every session of the server.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence

from mining.analysis.filters import Filter
from mining.errors import MiningError
from mining.schema import LogInfo
from mining.ui.state import where

__all__ = ["background", "foreground", "warm_explore", "warm_wait"]

_LOCK = threading.Lock()
#: Page runs in progress, in any session: the warm-up starts no new measure while one runs.
_FOREGROUND = threading.Condition(_LOCK)
_pages = 0
_next: tuple[Hashable, tuple[Callable[[], object], ...]] | None = None  # only the newest request waits
_DONE: OrderedDict[Hashable, None] = OrderedDict()
_KEPT = 64
_PAGE_PATIENCE_S = 30.0
_thread: threading.Thread | None = None
#: Threads started by :func:`background`, until they end.
_BACKGROUND: set[threading.Thread] = set()
_closing = False  # the interpreter is exiting: start nothing more
#: How long the interpreter's exit waits for background queries under way (a test's server stop allows 30 s).
_EXIT_WAIT_S = 10.0


def warm_explore(log: LogInfo, flt: Filter, calls: Sequence[Callable[[], object]]) -> None:
    """Run ``calls`` (cached reads of ``log`` under ``flt``) in the background, once per workspace state.

    "Once" is per set of measures: a page whose own controls ask for steps of their own (its
    ``ahead``) after another page warmed the same filter still gets them.
    """
    global _next, _thread
    key = (*where(), log.log_id, flt, tuple(sorted({_name(c) for c in calls})))
    with _LOCK:
        if key in _DONE or _closing:
            return
        _next = (key, tuple(calls))
        if _thread is None or not _thread.is_alive():  # not alive: a bug ended it
            _thread = threading.Thread(target=_worker, name="mining warm-up", daemon=True)
            _thread.start()


def _name(call: Callable[[], object]) -> str:
    func = getattr(call, "func", call)  # a functools.partial names its function
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}"


@contextlib.contextmanager
def foreground() -> Iterator[None]:
    """Mark a page run: background measures wait for it to end before starting another.

    On two cores a warm-up query running beside the page's own takes half the machine, and
    the page the user is looking at matters more than the one they may open next. A
    measure already running is finished (a query cannot be paused); only the next waits.
    """
    global _pages
    with _LOCK:
        _pages += 1
    try:
        yield
    finally:
        with _LOCK:
            _pages -= 1
            _FOREGROUND.notify_all()


def warm_wait(timeout: float | None = None) -> bool:
    """Wait until the warm-up has nothing left to do; False on timeout (for tests)."""
    with _LOCK:
        thread = _thread
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _worker() -> None:
    global _next, _thread
    while True:
        with _LOCK:
            if _next is None:
                _thread = None  # under the lock: a new request starts a new thread
                return
            (key, calls), _next = _next, None
        for call in calls:
            with _LOCK:
                # A page that never ends its run (a dead session) must not stop the warm-up for good.
                _FOREGROUND.wait_for(lambda: _pages == 0 or _closing, timeout=_PAGE_PATIENCE_S)
            if _next is not None or _closing:
                break  # a newer filter came (its measures matter more), or the process is exiting
            if where() != key[:2]:
                break  # another workspace (or a write): the log and its ids may not be there any more
            with contextlib.suppress(MiningError):  # the page shows it when it is opened
                call()
        else:
            with _LOCK:
                _DONE[key] = None
                while len(_DONE) > _KEPT:
                    _DONE.popitem(last=False)


def background(target: Callable[[], object], name: str) -> None:
    """Run ``target`` in a daemon thread that the interpreter's exit waits for (see :func:`_drain`)."""

    def run() -> None:
        try:
            target()
        finally:
            with _LOCK:
                _BACKGROUND.discard(thread)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _LOCK:
        if _closing:
            return
        _BACKGROUND.add(thread)
    thread.start()


def _drain() -> None:
    """At interpreter exit, let the background queries under way end, and start no other.

    A daemon thread still inside a DuckDB query when Python finalises can abort the whole
    process ("terminate called after throwing an instance of ''"): a server stopped, or a
    test run that passed, would then end with SIGABRT.  The wait is bounded by
    :data:`_EXIT_WAIT_S`.
    """
    global _closing, _next
    with _LOCK:
        _closing = True
        _next = None
        threads = [t for t in (_thread, *_BACKGROUND) if t is not None]
        _FOREGROUND.notify_all()
    deadline = time.monotonic() + _EXIT_WAIT_S
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


atexit.register(_drain)
