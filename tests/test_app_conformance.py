"""The Conformance page and the deviation overlay on the Process map, by AppTest.

One workspace with the sample service-desk log is built per module and
checked against its documented model (``sample_logs/service_desk.bpmn``);
every expected figure comes from the library run on the same workspace.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from mining.analysis.variants import events_of_case
from mining.catalog import list_logs
from mining.conformance import (
    Allowlist,
    ConformanceResult,
    conform,
    deviating_cases,
    export_cases,
    load_model,
)
from mining.conformance.rules import check_rules, parse_rule
from mining.store import Store
from mining.ui.mapdraw import DEVIATION
from tests.conftest import FILES, SAMPLE_LOGS, app_workspace

SAMPLE = SAMPLE_LOGS / "service_desk.csv"
MODEL = SAMPLE_LOGS / "service_desk.bpmn"
TIMEOUT = 120
DOCTYPE = FILES / "conformance" / "doctype.bpmn"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("conformance"), SAMPLE) as path:
        yield path


@pytest.fixture(scope="module")
def log_id(workspace: Path) -> int:
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    return log.log_id


@pytest.fixture(scope="module")
def expected(workspace: Path, log_id: int) -> ConformanceResult:
    with Store(workspace, read_only=True) as store:
        return conform(store, log_id, load_model(MODEL))


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes each download button serves, by its file name."""
    found: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        if filename is not None and isinstance(path_or_data, bytes):
            found[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return found


def _pages() -> None:
    # AppTest.from_function runs this body as the whole script; a session key picks the page.
    import importlib

    import streamlit as st

    importlib.import_module(f"mining.ui.pages.{st.session_state.get('test-page', 'conformance')}").render()


def _app() -> AppTest:
    at = AppTest.from_function(_pages, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def _checked() -> AppTest:
    at = _app()
    # A test that checked an upload made it the log's last model: start from the sample model.
    _widget(at.selectbox, "Model").set_value("sample:service_desk.bpmn").run()
    at.button(key="conf-run").click().run()
    assert not at.exception
    assert not at.error
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _plain(text: str) -> str:
    # Text from the data is markdown-escaped (``5\\.6 days``); compare what a reader sees.
    return text.replace("\\", "")


def _sentences(at: AppTest, known: list[str]) -> list[str]:
    return [s for s in (_plain(m.value) for m in at.markdown) if s in known]


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _drawing(at: AppTest) -> dict:
    """The process map's drawing as the page sends it to the browser."""
    [view] = at.get("bidi_component")
    return json.loads(view.proto.json)


def _marked(drawing: dict) -> tuple[set[tuple[str, str]], set[str]]:
    """The edges and activities drawn in the deviation colour, by activity name."""
    names = {n["id"]: n["name"] for n in drawing["nodes"]}
    nodes = {n["name"] for n in drawing["nodes"] if n["stroke"] == DEVIATION}
    edges = {(names[e["source"]], names[e["target"]]) for e in drawing["edges"] if e["colour"] == DEVIATION}
    return edges, nodes


def _shown(drawing: dict) -> set[tuple[str, str]]:
    names = {n["id"]: n["name"] for n in drawing["nodes"]}
    return {(names[e["source"]], names[e["target"]]) for e in drawing["edges"]}


def test_check_shows_the_library_figures_and_sentences(workspace: Path, expected: ConformanceResult) -> None:
    at = _app()
    # A sample log starts on its own sample model.
    assert _widget(at.selectbox, "Model").value == "sample:service_desk.bpmn"
    captions = [_plain(c.value) for c in at.caption]
    assert any(
        c.startswith("Matched 9 of 9 model tasks") and "Log activities not in the model: Reopen" in c
        for c in captions
    )
    assert not at.metric  # nothing runs before Check is pressed

    at.button(key="conf-run").click().run()
    assert not at.exception and not at.error
    shown = _metrics(at)
    assert expected.complete
    assert shown["Fitness"] == f"{expected.fitness:.3f}"
    assert shown["Precision"] == f"{expected.precision:.3f}"
    assert shown["Fitting cases"] == f"{expected.fitting_cases_share:.1%}"
    assert shown["Checked cases"] == f"{expected.cases:,}" == "2,400"
    sentences = [d.sentence for d in expected.deviations]
    assert _sentences(at, sentences) == sentences
    assert len(sentences) == 8
    table = _table(at, "impact (days)")
    assert list(table["cases"]) == [d.cases for d in expected.deviations]
    # The table writes each share as its sentence does ("2.2%" beside "2% of cases" misled).
    assert all(
        f" in {share} of cases (" in d.sentence
        for share, d in zip(table["share"], expected.deviations, strict=True)
    )
    assert list(table["activity"]) == [d.activity for d in expected.deviations]


def test_drill_down_lists_exactly_the_cases_of_a_deviation(
    workspace: Path, log_id: int, expected: ConformanceResult
) -> None:
    reopen = next(d for d in expected.deviations if (d.kind, d.activity) == ("not_in_model", "Reopen"))
    stored = sorted(
        {vid for v in expected.variants if v.rank in reopen.variants for vid in v.stored_variant_ids}
    )
    with Store(workspace, read_only=True) as store:
        cases = [
            r[0]
            for r in store.query(
                "SELECT case_id FROM cases WHERE log_id = ? AND list_contains(?, variant_id) "
                "ORDER BY case_id",
                [log_id, stored],
            ).rows
        ]
    at = _checked()
    _widget(at.selectbox, "Deviation").set_value(expected.deviations.index(reopen)).run()
    assert not at.exception
    listed = _table(at, "deviations")
    assert list(listed["case"]) == cases
    assert len(cases) == reopen.cases == 142
    assert all("not in the model 'Reopen'" in text for text in listed["deviations"])

    _widget(at.selectbox, "Case").set_value(cases[1]).run()
    with Store(workspace, read_only=True) as store:
        events = events_of_case(store, log_id, cases[1])
    # In the log's zone (the sample writes its offsets: CET), and no column that no event fills: the
    # sample has start times but no lifecycle.
    shown = _table(at, "time (CET)")
    assert list(shown["activity"]) == [e.activity for e in events]
    assert "Reopen" in list(shown["activity"])
    assert list(shown.columns) == ["activity", "start (CET)", "time (CET)", "resource"]
    with Store(workspace, read_only=True) as store:
        walls = [
            r[0]
            for r in store.query(
                "SELECT strftime(timezone('CET', ts), '%Y-%m-%d %H:%M:%S') FROM events "
                "WHERE log_id = ? AND case_id = ? ORDER BY ts, row_no",
                [log_id, cases[1]],
            ).rows
        ]
    assert list(shown["time (CET)"]) == walls


def test_allowlist_removes_a_deviation_and_raises_the_fitting_share(
    workspace: Path, log_id: int, expected: ConformanceResult
) -> None:
    with Store(workspace, read_only=True) as store:
        allowed = conform(store, log_id, load_model(MODEL), allow=Allowlist.parse(["skip:Triage"]))
    at = _checked()
    _widget(at.multiselect, "Accepted deviations (allowlist)").set_value(["skip:Triage"]).run()
    assert not at.exception and not at.error
    shown = _metrics(at)
    assert shown["Fitting cases"] == f"{allowed.fitting_cases_share:.1%}"
    assert shown["Fitting cases"] != f"{expected.fitting_cases_share:.1%}"
    assert allowed.fitting_cases_share > expected.fitting_cases_share
    sentences = [d.sentence for d in allowed.deviations]
    assert _sentences(at, sentences) == sentences
    assert len(sentences) == len(expected.deviations) - 1
    assert not any(s.startswith("'Triage' skipped") for s in sentences)
    assert "Accepted: Triage skipped in 80 cases" in [_plain(c.value) for c in at.caption]


def test_deviating_cases_download_as_csv_and_xlsx(
    workspace: Path, log_id: int, expected: ConformanceResult, served: dict[str, bytes], tmp_path: Path
) -> None:
    with Store(workspace, read_only=True) as store:
        rows = export_cases(deviating_cases(store, expected), tmp_path / "cases.csv")
    at = _checked()
    labels = [b.label for b in at.get("download_button") if "deviating" in b.label]
    assert labels == [
        f"Download {rows:,} deviating cases (CSV)",
        f"Download {rows:,} deviating cases (Excel)",
    ]
    data = served["service_desk-deviating-cases.csv"]
    assert data == (tmp_path / "cases.csv").read_bytes()
    lines = data.decode().splitlines()
    assert lines[0] == "case,variant,deviations,duration_seconds,duration"
    assert len(lines) - 1 == rows == round(expected.cases * (1 - expected.fitting_cases_share))
    with zipfile.ZipFile(io.BytesIO(served["service_desk-deviating-cases.xlsx"])) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert lines[1].split(",")[0] in strings


def test_budget_zero_says_partial_with_bounds(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        partial = conform(store, log_id, load_model(MODEL), budget=0)
    at = _app()
    _widget(at.number_input, "Time budget (seconds)").set_value(0.0)
    at.button(key="conf-run").click().run()
    assert not at.exception and not at.error
    lo, hi = partial.fitness_bounds
    assert not partial.complete and partial.aligned_variants_share == 0
    shown = _metrics(at)
    assert shown["Fitness"] == f"{lo:.3f} to {hi:.3f}"
    assert shown["Precision"] == "-"
    [warning] = at.warning
    assert _plain(warning.value).startswith("Partial result: 0% of the variants (0.0% of the cases)")
    assert f"between {lo:.3f} and {hi:.3f}" in warning.value.replace("\\", "")


@pytest.mark.parametrize("where", ["progress bar", "cancel flag"])
def test_a_click_during_the_check_keeps_a_partial_result(workspace: Path, log_id: int, where: str) -> None:
    # A click stops a running script: without fast reruns the next element call (the progress
    # bar) raises RerunException; with them (the default) every element call and session-state
    # access of the old run (the Cancel flag) raises StopException.  Either way the check must
    # stop with what it aligned and hand the exception back instead of losing the work.
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

    from mining.ui.progress import Progress

    class Bar:
        def progress(self, *args: object, **kwargs: object) -> None:
            if where == "progress bar":
                raise RerunException(None)  # type: ignore[arg-type]

    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        if where == "cancel flag" and calls > 1:
            raise StopException()
        return False

    progress = Progress(cancel)
    progress.bar = Bar()  # type: ignore[assignment]
    with Store(workspace, read_only=True) as store:
        result = conform(store, log_id, load_model(MODEL), progress=progress, cancel=progress.cancelled)
    assert isinstance(progress.control, RerunException if where == "progress bar" else StopException)
    assert not result.complete
    assert 0 < result.aligned_variants_share < 1  # the first chunk was aligned, then it stopped
    lo, hi = result.fitness_bounds
    assert result.fitness is None and 0 <= lo < hi <= 1
    assert any("the check was cancelled" in n for n in result.notes)


def test_after_cancel_changes_wait_for_check(workspace: Path, expected: ConformanceResult) -> None:
    from mining.ui.pages.conformance import CANCEL_KEY

    at = _checked()
    at.session_state[CANCEL_KEY] = True  # as the Cancel button's callback leaves it
    _widget(at.number_input, "Time budget (seconds)").set_value(60.0).run()
    assert not at.exception
    assert not at.metric  # no automatic check after Cancel
    assert "press Check" in _plain(" ".join(i.value for i in at.info)).replace("**", "")

    at.button(key="conf-run").click().run()
    assert not at.exception
    assert _metrics(at)["Fitness"] == f"{expected.fitness:.3f}"
    assert at.session_state[CANCEL_KEY] is False


def test_uploaded_steps_model_with_a_near_match_to_confirm(workspace: Path, log_id: int) -> None:
    from mining.conformance import LabelMapping

    steps = b"Ticket created\nTriage ticket\nAssign to group\nInvestigate\nResolve\nClose\n"
    mapping = LabelMapping((("Triage ticket", "Triage"),))
    with Store(workspace, read_only=True) as store:
        loose = conform(store, log_id, load_model(steps, "steps.txt"))
        mapped = conform(store, log_id, load_model(steps, "steps.txt"), mapping=mapping)
    at = _app()
    at.file_uploader[0].set_value(("steps.txt", steps, "text/plain")).run()
    assert not at.exception and not at.error
    # The upload is kept in the workspace and chosen.
    assert _widget(at.selectbox, "Model").value.startswith("kept:")
    assert (
        _widget(at.selectbox, "Triage ticket").value == "\ue000unmatched"
    )  # suggested, never applied unasked
    assert loose.labels.model_only == ("Triage ticket",)

    at.button(key="conf-run").click().run()
    assert _metrics(at)["Fitness"] == f"{loose.fitness:.3f}"
    offered = [b.label for b in at.button if "similar)" in b.label or b.label.startswith("Accept all")]
    assert offered == ["Triage ticket = Triage (63% similar)"]  # one suggestion: no "accept all"
    accept = next(b for b in at.button if b.label == "Triage ticket = Triage (63% similar)")
    accept.click().run()  # the check reruns with the confirmed match
    assert not at.exception and not at.error
    assert _widget(at.selectbox, "Triage ticket").value == "Triage"
    assert _metrics(at)["Fitness"] == f"{mapped.fitness:.3f}"
    assert mapped.fitness > loose.fitness

    at.radio(key="conf-method").set_value("token-replay").run()
    with Store(workspace, read_only=True) as store:
        replayed = conform(
            store, log_id, load_model(steps, "steps.txt"), mapping=mapping, method="token-replay"
        )
    assert not at.exception and not at.error
    assert _metrics(at)["Fitness"] == f"{replayed.fitness:.3f}"
    assert _metrics(at)["Fitting cases"] == f"{replayed.fitting_cases_share:.1%}"


def test_doctype_upload_shows_one_clean_error_naming_the_file(workspace: Path) -> None:
    at = _app()
    at.file_uploader[0].set_value(("evil.bpmn", DOCTYPE.read_bytes(), "application/xml")).run()
    assert not at.exception
    assert len(at.error) == 1
    message = _plain(at.error[0].value)
    assert "evil.bpmn" in message and "DOCTYPE" in message
    assert "Traceback" not in message
    assert not at.metric
    assert _widget(at.text_area, "Rules, one per line")  # the rules still work without a model


def test_rules_give_the_library_sentences(workspace: Path, log_id: int) -> None:
    texts = ["Triage before Investigate", "Ticket created -> Close within 5d"]
    with Store(workspace, read_only=True) as store:
        results = check_rules(store, log_id, [parse_rule(t) for t in texts])
    at = _app()
    # The examples are in the log's own words ("Approve before Pay" meant nothing on fines), and parse.
    example = _widget(at.text_area, "Rules, one per line").placeholder.splitlines()
    assert example[0] == "Ticket created before Close" and len(example) == 4
    assert [parse_rule(e).type for e in example] == ["precedence", "response", "four-eyes", "max-time"]
    _widget(at.text_area, "Rules, one per line").set_value("\n".join([*texts, "# a comment"])).run()
    assert not at.exception and not at.error
    sentences = [r.sentence for r in results]
    assert _sentences(at, sentences) == sentences
    table = _table(at, "judged cases")
    assert list(table["violations"]) == [r.violations for r in results]
    assert results[0].violations > 0  # the sample skips triage now and then

    _widget(at.text_area, "Rules, one per line").set_value("Triage befor Investigate").run()
    assert len(at.error) == 1
    assert "rule 'Triage befor Investigate'" in _plain(at.error[0].value)


def test_process_map_overlay_marks_exactly_the_disallowed_paths(
    workspace: Path, log_id: int, expected: ConformanceResult
) -> None:
    at = _checked()
    at.session_state["test-page"] = "process_map"
    at.run()
    at.slider(key=f"map-paths-{log_id}").set_value(100).run()
    assert not at.exception
    plain = _drawing(at)
    assert _marked(plain) == (set(), set())  # the map is unchanged until the overlay is on
    at.toggle(key="map-overlay").set_value(True).run()
    assert not at.exception
    edges, nodes = _marked(_drawing(at))
    shown = _shown(plain)
    assert expected.overlay is not None and expected.overlay.complete
    assert edges == {(o.source, o.target) for o in expected.overlay.edges} & shown
    assert len(edges) == 17
    assert nodes == {a for a, _, _ in expected.overlay.activities} == {"Reopen"}
    assert "17 paths and 1 activity" in _plain(" ".join(c.value for c in at.caption))

    at.toggle(key="map-overlay").set_value(False).run()
    assert _drawing(at) == plain


def test_process_map_without_a_check_has_no_toggle(workspace: Path, log_id: int) -> None:
    at = _app()
    at.session_state["test-page"] = "process_map"
    at.run()
    assert not at.exception
    assert not at.toggle
    drawing = _drawing(at)
    assert drawing["nodes"] and _marked(drawing) == (set(), set())


def test_a_new_session_opens_on_the_kept_model_that_fits_the_log(tmp_path: Path) -> None:
    # Checked with its automatic mapping, a model was not remembered: the next session said "No model yet".
    from mining.conformance.saved import store_model

    log = tmp_path / "tickets.csv"
    log.write_text(
        "case,activity,timestamp\n"
        + "".join(
            f"t{i},{a},2026-01-0{1 + i} 0{k}:00\n"
            for i in range(3)
            for k, a in enumerate(("Open", "Fix", "Close"))
        )
    )
    with app_workspace(tmp_path, log) as path:
        with Store(path) as store:
            store_model(store, "orders.txt", b"Order\nShip\nInvoice\n")
            fits, _ = store_model(store, "tickets.txt", b"Open\nfix\nClose\nArchive\n")  # 3 of 4 tasks
        at = _app()
        assert _widget(at.selectbox, "Model").value == "kept:" + fits.sha256
        assert not at.info or "Choose a model above" not in at.info[0].value
    # No kept model fits at least half its tasks: the page waits for a choice.
    (tmp_path / "other").mkdir()
    with app_workspace(tmp_path / "other", log) as path:
        with Store(path) as store:
            store_model(store, "orders.txt", b"Order\nShip\nInvoice\n")
        at = _app()
        assert _widget(at.selectbox, "Model").value == ""
