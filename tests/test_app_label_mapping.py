"""The label-mapping editor of the Conformance page, by AppTest, on a model that uses its own names.

The model (``tests/files/conformance/service_desk_own_names.txt``) names the
sample service desk's steps in other words, so nothing matches until the
user maps it: the page refuses to score and says why, the mapping is made by
hand, checked, kept in the workspace across page changes and sessions, and
round-trips through the ``--map-file`` YAML.  Expected figures come from the
library on the same workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from mining.conformance import LabelMapping, conform, load_model
from mining.conformance.saved import model_sha256, save_mapping, saved_mapping, store_model, stored_models
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS, app_workspace

MODEL = FILES / "conformance" / "service_desk_own_names.txt"
BY_HAND = {
    "Open a ticket": "Ticket created",
    "Acknowledge the customer": "Send acknowledgement",
    "Classify the ticket": "Triage",
    "Route to a team": "Assign to group",
    "Diagnose": "Investigate",
    "Fix the issue": "Resolve",
    "Close the ticket": "Close",
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # A second log, not a sample: it starts with no model.
    orders = FILES / "conformance" / "orders.csv"
    with app_workspace(tmp_path_factory.mktemp("mapping"), SAMPLE_LOGS / "service_desk.csv", orders) as path:
        yield path


def _pages() -> None:
    import importlib

    import streamlit as st

    from mining.ui import state

    if "test-log" in st.session_state:
        state.remember_log(st.session_state["test-log"])
    importlib.import_module(f"mining.ui.pages.{st.session_state.get('test-page', 'conformance')}").render()


def _app(log: str = "service_desk") -> AppTest:
    at = AppTest.from_function(_pages, default_timeout=120)
    at.session_state["test-log"] = log
    at.run()
    assert not at.exception
    return at


def _select(at: AppTest, label: str):
    return next(e for e in at.selectbox if e.label == label)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _kept(workspace: Path, *, kept: bool) -> None:
    """The model and its hand-made mapping kept in the workspace, or neither: each test sets what it
    starts from, so none depends on another having run first in the same process (pytest-xdist)."""
    data = MODEL.read_bytes()
    with Store(workspace) as store:
        if kept:
            store_model(store, MODEL.name, data)
            save_mapping(store, 1, model_sha256(data), MODEL.name, LabelMapping(tuple(BY_HAND.items())))
        elif stored_models(store):
            store.execute("DELETE FROM label_mappings WHERE model_sha256 = ?", [model_sha256(data)])
            store.execute("DELETE FROM models WHERE sha256 = ?", [model_sha256(data)])


def test_own_names_are_refused_then_mapped_by_hand_checked_and_kept(workspace: Path) -> None:
    data = MODEL.read_bytes()
    with Store(workspace, read_only=True) as store:
        expected = conform(
            store, 1, load_model(data, MODEL.name), mapping=LabelMapping(tuple(BY_HAND.items()))
        )
    _kept(workspace, kept=False)
    at = _app()
    at.file_uploader[0].set_value((MODEL.name, data, "text/plain")).run()
    assert not at.exception
    # Nothing matches: the CLI's message, no Check, no figures.
    assert len(at.error) == 1
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("0 of the model's 7 tasks (0%) match an activity of the log")
    assert "Unmatched tasks: 'Open a ticket', 'Acknowledge the customer'" in message
    # The hint names the page's controls, not the command line's flags.
    assert 'the "Load a mapping" upload' in message and 'the "Score anyway" checkbox scores anyway' in message
    assert at.button(key="conf-run").disabled
    assert not at.metric

    for task, activity in BY_HAND.items():
        _select(at, task).set_value(activity).run()
        assert not at.exception
    assert not at.error
    at.button(key="conf-run").click().run()
    assert not at.exception and not at.error
    assert _metrics(at)["Fitness"] == f"{expected.fitness:.3f}"
    assert _metrics(at)["Precision"] == f"{expected.precision:.3f}"
    # Checking saved the mapping and the model in the workspace.
    with Store(workspace, read_only=True) as store:
        assert saved_mapping(store, 1, model_sha256(data)) == LabelMapping(tuple(BY_HAND.items()))
        assert [m.name for m in stored_models(store) if m.sha256 == model_sha256(data)] == [MODEL.name]

    # Leave the page and come back: the widgets are gone, the mapping is not.
    at.session_state["test-page"] = "overview"
    at.run()
    assert not at.exception
    at.session_state["test-page"] = "conformance"
    at.run()
    assert not at.exception
    assert {t: _select(at, t).value for t in BY_HAND} == BY_HAND
    assert _metrics(at)["Fitness"] == f"{expected.fitness:.3f}"

    # A new session (another day): the log opens on its model, mapped as saved.
    fresh = _app()
    assert _select(fresh, "Model").value == "kept:" + model_sha256(data)
    assert {t: _select(fresh, t).value for t in BY_HAND} == BY_HAND


def test_a_log_with_no_model_yet_has_none_selected(workspace: Path) -> None:
    at = _app("orders")
    assert _select(at, "Model").value == ""
    assert "Choose a model above, or upload one" in " ".join(i.value for i in at.info)
    assert not at.metric


def test_score_anyway_marks_the_result_as_forced(workspace: Path) -> None:
    _kept(workspace, kept=True)
    at = _app("orders")
    _select(at, "Model").set_value("kept:" + model_sha256(MODEL.read_bytes())).run()
    assert len(at.error) == 1 and not at.metric
    at.checkbox(key=next(c.key for c in at.checkbox if c.label.startswith("Score anyway"))).check().run()
    at.button(key="conf-run").click().run()
    assert not at.exception
    assert any(w.value.startswith("Scored anyway") for w in at.warning)
    assert "Fitness" in _metrics(at)


def test_mapping_downloads_and_loads_as_map_file_yaml(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        if filename is not None and isinstance(path_or_data, bytes | str):
            served[filename] = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    _kept(workspace, kept=True)
    at = _app()
    assert not at.exception
    name = "service_desk-service_desk_own_names.txt-labels.yaml"
    text = served[name].decode()
    assert LabelMapping.from_yaml_text(text) == LabelMapping(tuple(BY_HAND.items()))
    # Another mapping file: two tasks to one activity, one silent, one pair for a task the model lacks.
    upload = (
        "map:\n  Open a ticket: Ticket created\n  Acknowledge the customer: Ticket created\n"
        "  Nonexistent task: Triage\ninvisible: [Route to a team]\n"
    )
    at.file_uploader[1].set_value(("labels.yaml", upload.encode(), "application/yaml")).run()
    assert not at.exception
    assert _select(at, "Open a ticket").value == "Ticket created"
    assert _select(at, "Acknowledge the customer").value == "Ticket created"
    assert _select(at, "Route to a team").value == "\ue000silent"
    assert _select(at, "Diagnose").value == "\ue000unmatched"


def test_each_near_match_is_accepted_on_its_own_or_all_at_once(workspace: Path) -> None:
    steps = b"Ticket create\nTriages\nResolved\nInvestigate\n"
    at = _app()
    at.file_uploader[0].set_value(("near.txt", steps, "text/plain")).run()
    assert not at.exception
    # Two columns, filled row by row in the model's order (the app tree lists them column by column).
    offered = sorted(b.label for b in at.button if "similar)" in b.label)
    assert offered == [
        "Resolved = Resolve (93% similar)",
        "Ticket create = Ticket created (96% similar)",
        "Triages = Triage (92% similar)",
    ]
    # Nothing applied unasked.
    assert [_select(at, t).value for t in ("Ticket create", "Triages", "Resolved")] == ["\ue000unmatched"] * 3
    assert _select(at, "Investigate").value == "Investigate"

    next(b for b in at.button if b.label.startswith("Triages = Triage")).click().run()
    assert not at.exception
    assert [_select(at, t).value for t in ("Ticket create", "Triages", "Resolved")] == [
        "\ue000unmatched",
        "Triage",
        "\ue000unmatched",
    ]
    assert sorted(b.label for b in at.button if "similar)" in b.label) == [offered[0], offered[1]]

    next(b for b in at.button if b.label == "Accept all 2 suggestions").click().run()
    assert not at.exception
    assert [_select(at, t).value for t in ("Ticket create", "Triages", "Resolved")] == [
        "Ticket created",
        "Triage",
        "Resolve",
    ]
    assert not [b for b in at.button if "similar)" in b.label or b.label.startswith("Accept all")]
