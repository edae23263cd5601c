"""A documented model in monitoring: each case's fitness and deviation as per-period KPIs."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mining.cli import cli
from mining.models import load_model
from mining.monitor.run import conformance_measures
from mining.store import writing
from tests.tinylog import load_hours


def test_each_case_gets_its_variants_alignment_fitness(store, tmp_path):
    # c1 fits A B C; c2 skips B: one model move against a trace of 2 and an empty-trace cost of 3.
    log = load_hours(
        store, tmp_path, [("c1", "A", 0), ("c1", "B", 1), ("c1", "C", 2), ("c2", "A", 0), ("c2", "C", 3)]
    )
    steps = tmp_path / "steps.txt"
    steps.write_text("A\nB\nC\n")
    measures = conformance_measures(store, log, load_model(steps))
    case_no = dict(store.query("SELECT case_id, case_no FROM cases WHERE log_id = ?", [log]).rows)
    fitness = measures["conformance_fitness"].values
    assert fitness[case_no["c1"]] == 1.0
    assert abs(fitness[case_no["c2"]] - (1 - 1 / (2 + 3))) < 1e-12
    assert measures["deviating_cases"].values == {case_no["c1"]: 0.0, case_no["c2"]: 1.0}
    assert measures["deviating_cases"].kind == "rate"


def test_mining_monitor_model_adds_the_two_kpis(tmp_path):
    ws = tmp_path / "ws.duckdb"
    with writing(ws) as store:
        load_hours(
            store, tmp_path, [("c1", "A", 0), ("c1", "B", 1), ("c1", "C", 2), ("c2", "A", 0), ("c2", "C", 3)]
        )
    steps = tmp_path / "steps.txt"
    steps.write_text("A\nB\nC\n")
    res = CliRunner().invoke(
        cli, ["--workspace", str(ws), "monitor", "tiny", "--model", str(steps), "--json"]
    )
    assert res.exit_code in (0, 3), res.output
    data = json.loads(res.output)
    assert {"extra.conformance_fitness", "extra.deviating_cases"} <= {k["name"] for k in data["kpis"]}
