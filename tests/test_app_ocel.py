"""An object-centric log on the Explore pages: the map and the rework figures say what flattening did.

The workspace holds the generated OCEL sample twice, flattened on orders
(whose "pick item" repeats once per item) and on items (no repeat), beside
the plain service-desk sample, which gets no such note.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.ingest import IngestOptions
from mining.samples import OCEL_SAMPLE
from tests.conftest import SAMPLE_LOGS, app_workspace

TIMEOUT = 60
OCEL = SAMPLE_LOGS / OCEL_SAMPLE
MAP_NOTE = (
    "Flattened on 'orders' from an object-centric log: the 1,629 events that touch no 'orders' object are not "
    "on this map; 'pick item' repeats within a case once per 'items' object, which is the case's objects "
    "handled one by one, not rework."
)
REWORK_NOTE = (
    "In this log, flattened on 'orders' from an object-centric export, 'pick item' repeats within a case once "
    "per 'items' object: the case's objects handled one by one (divergence), which the figures below do not "
    "count as rework. A repeat is rework when the activity is done again on the same 'items' object."
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    sources = (
        (OCEL, IngestOptions(name="orders")),
        (OCEL, IngestOptions(name="items", object_type="items")),
        SAMPLE_LOGS / "service_desk.csv",
    )
    with app_workspace(tmp_path_factory.mktemp("ocel-app"), *sources) as path:
        yield path


def _page(name: str, log: str) -> None:
    import importlib

    import streamlit as st

    from mining.ui import state

    if "ocel-test-log" not in st.session_state:  # the first run opens on the log asked for
        st.session_state["ocel-test-log"] = True
        state.remember_log(log)
    importlib.import_module(f"mining.ui.pages.{name}").render()


def _run(name: str, log: str) -> AppTest:
    at = AppTest.from_function(_page, args=(name, log), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def _said(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in (*at.caption, *at.info)]


def test_the_map_says_what_flattening_left_out_and_repeats(workspace: Path) -> None:
    assert MAP_NOTE in _said(_run("process_map", "orders"))
    items = _said(_run("process_map", "items"))
    assert (
        "Flattened on 'items' from an object-centric log: the 2,398 events that touch no 'items' object are not "
        "on this map." in items
    )
    assert not [s for s in _said(_run("process_map", "service_desk")) if "object-centric" in s]


def test_the_rework_figures_name_the_repeats_that_are_divergence(workspace: Path) -> None:
    at = _run("bottlenecks", "orders")
    assert REWORK_NOTE in _said(at)
    # The sample picks each item once: no rework (before: 399 of its 600 orders, 66.5%, for their picks).
    assert {m.label: m.value for m in at.metric}["Cases with rework"] == "0"
    assert not [s for s in _said(_run("bottlenecks", "items")) if "object-centric" in s]
