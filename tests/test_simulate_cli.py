"""``mining simulate``: the JSON contract, same seed same numbers, scenarios and clean errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mining.cli import cli
from tests.conftest import FILES

CLAIMS = FILES / "simulation" / "claims.csv"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("sim") / "ws.duckdb"
    res = CliRunner().invoke(
        cli,
        ["--workspace", str(ws), "ingest", str(CLAIMS), "--timestamp", "end", "--start-timestamp", "start"],
    )
    assert res.exit_code == 0, res.output
    return ws


def run(ws, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws), "simulate", *args])


SCENARIOS = """\
- name: One more checker
  staff: {Check: +1}
- name: No rejection
  remove: [Reject]
  duration: {Check: 0.5}
"""


def test_json_contract_and_same_seed_same_numbers(workspace, tmp_path):
    file = tmp_path / "whatif.yaml"
    file.write_text(SCENARIOS, encoding="utf-8")
    args = ["claims", "--scenario", str(file), "--runs", "3", "--seed", "5", "--horizon", "30", "--json"]
    first, second = run(workspace, *args), run(workspace, *args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    data = json.loads(first.output)
    keys = {
        "cases",
        "cycle_mean_seconds",
        "cycle_median_seconds",
        "cycle_p90_seconds",
        "wait_mean_seconds",
        "throughput_per_day",
        "utilisation",
    }
    assert keys <= set(data["baseline"])
    assert set(data["baseline"]["utilisation"]) == {"Approve team", "Check", "Register"}
    assert {"cycle_time_emd_seconds", "wait_error", "arrival_error", "trusted"} <= set(data["validation"])
    assert data["validation"]["trusted"] is False  # four cases cannot vouch for a model
    assert [s["name"] for s in data["scenarios"]] == ["One more checker", "No rejection"]
    for s in data["scenarios"]:
        assert keys | {"delta", "ci"} <= set(s)
        assert keys - {"utilisation"} <= set(s["delta"])
        low, high = s["ci"]["cycle_mean_seconds"]
        assert low <= s["cycle_mean_seconds"] <= high
    faster = data["scenarios"][1]
    assert faster["delta"]["cycle_mean_seconds"] < 0
    assert data["runs"] == 3 and data["horizon_days"] == 30
    other = json.loads(run(workspace, *args[:-2], "6", "--json").output)
    assert other["baseline"] != data["baseline"]


def test_text_report_reads_as_sentences(workspace):
    res = run(workspace, "claims", "--runs", "2", "--horizon", "10")
    assert res.exit_code == 0, res.output
    assert "Arrivals: " in res.output
    assert "Pool Check: 1 person doing Check" in res.output
    assert "Not trustworthy" in res.output
    assert "too few cases (4; at least 200 are needed)" in res.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: x\n  staff: {Chek: +1}\n", "line 2: unknown activity 'Chek'; did you mean 'Check'?"),
        (
            "- name: x\n  staff:\n    Check: -3\n",
            "line 3: staff -3 at 'Check' would leave its pool 'Check' with -2 people",
        ),
        (
            "- name: x\n  routing:\n    Check: {Approve: 0.5}\n",
            "line 3: the probabilities after 'Check' add up to 0.5, not 1",
        ),
    ],
)
def test_bad_scenario_file_is_a_clean_error(workspace, tmp_path, text, message):
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    res = run(workspace, "claims", "--scenario", str(file), "--runs", "1")
    assert res.exit_code == 1
    assert f"Error: {file}, {message}" in res.output
    assert "Traceback" not in res.output


def test_missing_scenario_file_and_unknown_log(workspace, tmp_path):
    res = run(workspace, "claims", "--scenario", str(tmp_path / "none.yaml"))
    assert res.exit_code == 1 and "no such scenario file" in res.output
    res = run(workspace, "nope")
    assert res.exit_code == 1 and "Error:" in res.output


def test_rates_add_cost_per_case(workspace):
    card = FILES / "simulation" / "card.yaml"
    res = run(workspace, "claims", "--runs", "2", "--horizon", "20", "--rates", str(card), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["currency"] == "EUR"
    assert data["baseline"]["cost_per_case"] > 0
    low, high = data["baseline"]["ci"]["cost_per_case"]
    assert low <= data["baseline"]["cost_per_case"] <= high
    res = run(workspace, "claims", "--runs", "1", "--rates", str(FILES / "simulation" / "claims.csv"))
    assert res.exit_code == 1 and "Error:" in res.output and "Traceback" not in res.output
