"""Work done while the user reads: the other Explore pages' measures, and slow imports.

One daemon thread, newest request first: after a filter change the pages not
shown yet fill the shared cache, so opening one is a cache hit.  Streamlit's
per-key compute lock makes a page that opens mid-way wait for the value being
computed instead of computing it twice.  The state is this module's, shared by
every session of the server.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence

from mining.analysis.filters import Filter
from mining.errors import MiningError
from mining.schema import LogInfo
from mining.ui.state import where

__all__ = ["foreground", "warm_explore", "warm_import", "warm_wait"]

_LOCK = threading.Lock()
#: Page runs in progress, in any session: the warm-up starts no new measure while one runs.
_FOREGROUND = threading.Condition(_LOCK)
_pages = 0
_next: tuple[Hashable, tuple[Callable[[], object], ...]] | None = None  # only the newest request waits
_DONE: OrderedDict[Hashable, None] = OrderedDict()
_KEPT = 64
_PAGE_PATIENCE_S = 30.0
_thread: threading.Thread | None = None
_IMPORTING: set[str] = set()


def warm_explore(log: LogInfo, flt: Filter, calls: Sequence[Callable[[], object]]) -> None:
    """Run ``calls`` (cached reads of ``log`` under ``flt``) in the background, once per workspace state."""
    global _next, _thread
    key = (*where(), log.log_id, flt)
    with _LOCK:
        if key in _DONE:
            return
        _next = (key, tuple(calls))
        if _thread is None or not _thread.is_alive():  # not alive: a bug ended it
            _thread = threading.Thread(target=_worker, name="mining warm-up", daemon=True)
            _thread.start()


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
                _FOREGROUND.wait_for(lambda: _pages == 0, timeout=_PAGE_PATIENCE_S)
            if _next is not None:
                break  # a newer filter came: its measures matter more
            if where() != key[:2]:
                break  # another workspace (or a write): the log and its ids may not be there any more
            with contextlib.suppress(MiningError):  # the page shows it when it is opened
                call()
        else:
            with _LOCK:
                _DONE[key] = None
                while len(_DONE) > _KEPT:
                    _DONE.popitem(last=False)


def warm_import(module: str) -> None:
    """Import ``module`` in a background thread, once, unless it is imported already."""
    if module in sys.modules or module in _IMPORTING:
        return
    _IMPORTING.add(module)
    threading.Thread(
        target=importlib.import_module, args=(module,), name=f"import {module}", daemon=True
    ).start()
