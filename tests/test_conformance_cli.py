"""``mining conform``: the --json contract, the human output, the case export and exit codes."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from click.testing import CliRunner

from mining.cli import cli
from tests.conftest import FILES

HERE = FILES / "conformance"

# The log of tests/test_conformance_check.py against steps_abcd.yaml (A B C D, D optional),
# with one case id that a spreadsheet would run as a formula.
LOG = HERE / "orders.csv"


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws.duckdb"
    res = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(LOG), "--json"])
    assert res.exit_code == 0, res.output
    return ws


def run(ws, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws), "conform", "orders", *args])


def test_json_contract(workspace):
    res = run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {
        "fitness",
        "precision",
        "fitting_cases_share",
        "deviations",
        "method",
        "engine",
        "aligned_variants_share",
        "fitness_bounds",
        "labels",
        "notes",
    } <= set(data)
    # Worst cases 4+3, 3+3, 3+3, 5+3; deviating moves 0, 0, 1, 1.
    assert data["fitness"] == pytest.approx(1 - 2 / 27)
    assert data["fitness_bounds"] == [data["fitness"], data["fitness"]]
    assert (data["method"], data["engine"], data["complete"], data["cases"]) == (
        "alignments",
        "r4pm",
        True,
        4,
    )
    assert (data["fitting_cases_share"], data["aligned_variants_share"], data["precision"]) == (0.5, 1.0, 1.0)
    assert data["deviations"] == [
        {
            "kind": "skipped",
            "activity": "C",
            "cases": 1,
            "share": 0.25,
            "occurrences": 1,
            "median_duration_with_s": 30 * 3600.0,
            "median_duration_without_s": 12 * 3600.0,
            "sentence": "'C' skipped in 25% of cases (1 of 4); these cases took a median 18.0 hours longer than the rest (an association; other differences between these cases may explain it).",
        },
        {
            "kind": "not_in_model",
            "activity": "X",
            "cases": 1,
            "share": 0.25,
            "occurrences": 1,
            "median_duration_with_s": 50 * 3600.0,
            "median_duration_without_s": 12 * 3600.0,
            "sentence": "'X' (not in the model) done in 25% of cases (1 of 4); these cases took a median 38.0 hours longer "
            "than the rest (an association; other differences between these cases may explain it).",
        },
    ]
    assert data["labels"] == {
        "matched": [{"model": a, "log": a, "how": "exact"} for a in "ABCD"],
        "unmatched_model": [],
        "unmatched_log": ["X"],
        "unmatched_log_total": 1,
        "suggested": [],
        "silent": [],
    }
    assert data["overlay"]["edges"] == [
        {"source": "B", "target": "D", "count": 1, "cases": 1},
        {"source": "B", "target": "X", "count": 1, "cases": 1},
        {"source": "X", "target": "C", "count": 1, "cases": 1},
    ]
    assert (data["deviations_total"], data["overlay"]["edges_total"]) == (2, 3)
    assert data["overlay"]["activities"] == [{"activity": "X", "events": 1, "cases": 1}]
    assert data["overlay"]["activities_total"] == 1
    assert data["notes"] == []


def test_a_log_of_ids_gets_a_bounded_json(tmp_path):
    # 1,500 cases of 3 events, each event an activity of its own (ids read as activities), forced.
    lines = ["case_id,activity,timestamp"]
    for c in range(1_500):
        lines += [f"c{c},id{3 * c + k:05d},2024-01-01T{k:02d}:00:00Z" for k in range(3)]
    log = tmp_path / "ids.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    assert (
        CliRunner()
        .invoke(cli, ["--workspace", str(ws), "ingest", str(log), "--name", "ids", "--activity", "activity"])
        .exit_code
        == 0
    )
    model = tmp_path / "three.txt"
    model.write_text("id00000\nid00001\nid00002\n", encoding="utf-8")
    args = ["--workspace", str(ws), "conform", "ids", "--model", str(model), "--force", "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["complete"] and data["forced"]
    assert data["notes"][0] == (
        "scored anyway although 3 of 3 model tasks match the log and they cover less than 0.1% of its "
        "events: the figures say little"
    )
    # The most frequent first, 1,000 of each list; the totals say how many there are.
    assert (len(data["deviations"]), data["deviations_total"]) == (1_000, 4_497 + 3)
    assert (len(data["labels"]["unmatched_log"]), data["labels"]["unmatched_log_total"]) == (1_000, 4_497)
    assert (len(data["overlay"]["activities"]), data["overlay"]["activities_total"]) == (1_000, 4_497)
    assert (len(data["overlay"]["edges"]), data["overlay"]["edges_total"]) == (1_000, 2_998)


def test_human_output_lists_metrics_and_sentences(workspace):
    res = run(workspace, "--model", str(HERE / "steps_abcd.yaml"))
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        "orders against steps_abcd.yaml: alignments (r4pm), 4 cases",
        "  fitness 0.9259",
        "  precision 1.0000",
        "  fitting cases 50.0%",
        "Deviations:",
        "  'C' skipped in 25% of cases (1 of 4); these cases took a median 18.0 hours longer than the rest (an association; other differences between these cases may explain it).",
        "  'X' (not in the model) done in 25% of cases (1 of 4); these cases took a median 38.0 hours longer than the rest (an association; other differences between these cases may explain it).",
        "Log activities not in the model: 'X'",
    ]


def test_no_precision_flag(workspace):
    res = run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--no-precision", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["precision"], data["fitness"]) == (None, pytest.approx(1 - 2 / 27))


def test_budget_zero_is_reported_as_partial(workspace):
    res = run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--budget", "0", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["complete"], data["fitness"], data["fitness_bounds"], data["aligned_variants_share"]) == (
        False,
        None,
        [0.0, 1.0],
        0.0,
    )
    text = run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--budget", "0").output
    assert "  fitness between 0.0000 and 1.0000 (partial)" in text
    assert "  aligned 0.0% of variants, 0.0% of cases" in text


def test_map_invisible_and_allow(workspace, tmp_path):
    model = tmp_path / "model.txt"
    model.write_text("A\nB\nCheck\nTidy up\nD (optional)\n", encoding="utf-8")
    allow = tmp_path / "allow.txt"
    allow.write_text("insert:X\n", encoding="utf-8")
    res = run(
        workspace,
        "--model",
        str(model),
        "--map",
        "Check=C",
        "--invisible",
        "Tidy up",
        "--allow",
        str(allow),
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["labels"]["matched"][2] == {"model": "Check", "log": "C", "how": "mapped"}
    assert data["labels"]["silent"] == ["Tidy up"]
    assert data["accepted"] == [{"kind": "not_in_model", "activity": "X", "cases": 1}]
    assert [(d["kind"], d["activity"]) for d in data["deviations"]] == [("skipped", "C")]
    assert data["fitting_cases_share"] == 0.75
    assert data["notes"] == ["treated as silent steps: 'Tidy up'"]


def test_suggestions_are_printed_but_not_applied(workspace, tmp_path):
    model = tmp_path / "model.txt"
    model.write_text("A\nB\nCC\nD\n", encoding="utf-8")
    res = run(workspace, "--model", str(model))
    assert res.exit_code == 0, res.output
    assert "Model tasks not in the log: 'CC'" in res.output
    assert "  did you mean --map 'CC=C'? (similarity 0.67)" in res.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cases_export_neutralises_formulas(workspace, tmp_path, suffix):
    out = tmp_path / f"cases{suffix}"
    digest = hashlib.sha256(workspace.read_bytes()).hexdigest()
    res = run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--cases", str(out))
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1] == f"wrote 2 deviating cases to {out}"
    if suffix == ".csv":
        with out.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    else:
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert [r[:3] for r in rows] == [
        ["case", "variant", "deviations"],
        ["'-c3", "3" if suffix == ".csv" else 3.0, "skipped 'C'"],
        ["c4", "4" if suffix == ".csv" else 4.0, "not in the model 'X'"],
    ]
    # Read-only: conformance never writes to the workspace.
    assert hashlib.sha256(workspace.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nowhere.bpmn"], "Error: nowhere.bpmn: cannot read the model file"),
        (
            ["--model", str(HERE / "ambiguous_final.pnml")],
            "Error: ambiguous_final.pnml: no final marking, and it cannot be inferred",
        ),
        (
            ["--model", str(HERE / "steps_abcd.yaml"), "--cases", "out.json"],
            "Error: --cases 'out.json': the file must end in .csv or .xlsx",
        ),
        (
            ["--model", str(HERE / "steps_abcd.yaml"), "--map", "Z=A"],
            "Error: --map 'Z'='A': the model has no task 'Z'; tasks: 'A', 'B', 'C', 'D'",
        ),
        (
            ["--model", str(HERE / "steps_abcd.yaml"), "--allow", str(HERE / "allow_bad.txt")],
            "Error: allow_bad.txt, line 2: 'move:C'; expected 'skip:Activity', 'insert:Activity' or 'swap:Activity'",
        ),
    ],
)
def test_errors_exit_1_with_a_message(workspace, args, message):
    res = run(workspace, *args)
    assert res.exit_code == 1
    assert res.output.startswith(message)
    assert "Traceback" not in res.output


def test_unknown_log_exits_1(workspace):
    res = CliRunner().invoke(
        cli, ["--workspace", str(workspace), "conform", "nope", "--model", str(HERE / "steps_abcd.yaml")]
    )
    assert res.exit_code == 1
    assert res.output == "Error: no log named 'nope' in the workspace; logs: 'orders'\n"


def test_map_file(workspace, tmp_path):
    model = tmp_path / "model.txt"
    model.write_text("A\nB\nCheck\nTidy up\nD (optional)\n", encoding="utf-8")
    labels = tmp_path / "labels.yaml"
    labels.write_text("map:\n  Check: C\ninvisible: [Tidy up]\n", encoding="utf-8")
    res = run(workspace, "--model", str(model), "--map-file", str(labels), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["labels"]["matched"][2] == {"model": "Check", "log": "C", "how": "mapped"}
    assert (data["labels"]["silent"], data["labels"]["unmatched_model"]) == (["Tidy up"], [])


# -- no score without matching labels


def test_model_with_its_own_names_is_refused_with_the_tasks_and_how_to_map(workspace):
    res = run(workspace, "--model", str(HERE / "own_names.txt"))
    assert res.exit_code == 1
    assert res.output.splitlines() == [
        "Error: 0 of the model's 4 tasks (0%) match an activity of the log, and those activities cover 0% of "
        "its 15 events; nothing was scored: a score needs at least 50% of the tasks matched and 50% of the "
        "events covered. Unmatched tasks: 'Receive the order', 'Book it', 'Check it', 'Deliver'.",
        "Hint: map each task to the activity it stands for with --map 'Model task=Log activity' or a YAML "
        "file with --map-file FILE.yaml ('map: {Model task: Log activity}'); --force scores anyway",
    ]


def test_suggestions_lead_the_refusal_and_name_the_first_pair_to_map(workspace, tmp_path):
    model = tmp_path / "near.txt"
    model.write_text("A1\nB1\nC1\nD1\n", encoding="utf-8")
    res = run(workspace, "--model", str(model), "--map", "A1=A")
    assert res.exit_code == 1
    # One of four tasks matched: under the half.  Suggestions are listed, best first, and the hint's example
    # is the best of them.
    assert "1 of the model's 4 tasks (25%)" in res.output
    assert "Unmatched tasks: 'B1', 'C1', 'D1'. Suggested matches: 'B1' = 'B' (67% similar); " in res.output
    assert "--map 'B1=B'" in res.output


def test_force_scores_anyway_and_says_so(workspace):
    res = run(workspace, "--model", str(HERE / "own_names.txt"), "--force", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["forced"] is True
    assert data["coverage"] == {
        "tasks": 4,
        "matched_tasks": 0,
        "task_share": 0.0,
        "events": 15,
        "matched_events": 0,
        "event_share": 0.0,
    }
    assert data["notes"][0].startswith("scored anyway although 0 of 4 model tasks match the log")
    text = run(workspace, "--model", str(HERE / "own_names.txt"), "--force")
    assert "FORCED" in text.output.splitlines()[0]


def test_enough_matches_are_scored_and_not_forced(workspace):
    res = run(workspace, "--model", str(HERE / "own_names.txt"), "--json", *_OWN_MAP)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["forced"], data["coverage"]["matched_tasks"], data["coverage"]["matched_events"]) == (
        False,
        3,
        11,
    )
    assert data["fitness"] > 0.8


_OWN_MAP = ("--map", "Receive the order=A", "--map", "Book it=B", "--map", "Check it=C")


def test_the_mapping_saved_in_the_workspace_is_reused_by_conform_and_monitor(workspace):
    from mining.conformance import LabelMapping
    from mining.conformance.saved import model_sha256, save_mapping
    from mining.store import writing

    data = (HERE / "own_names.txt").read_bytes()
    mapping = LabelMapping(
        (("Receive the order", "A"), ("Book it", "B"), ("Check it", "C"), ("Deliver", "D"))
    )
    with writing(workspace) as store:
        save_mapping(store, 1, model_sha256(data), "own_names.txt", mapping)
    res = run(workspace, "--model", str(HERE / "own_names.txt"), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [m["log"] for m in out["labels"]["matched"]] == ["A", "B", "C", "D"]
    assert out["notes"][-1] == "used the label mapping saved in the workspace for this log and model"
    assert (
        out["fitness"]
        == json.loads(run(workspace, "--model", str(HERE / "steps_abcd.yaml"), "--json").output)["fitness"]
    )
    mon = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(workspace),
            "monitor",
            "orders",
            "--model",
            str(HERE / "own_names.txt"),
            "--json",
        ],
    )
    assert mon.exit_code in (0, 3), mon.output
    assert "conformance_fitness" in mon.output
