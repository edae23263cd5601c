"""The analysis commands give the same JSON on the workspace and on Spark over its Parquet export."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mining.cli import cli
from tests.conftest import SAMPLE_LOGS

SAMPLE = SAMPLE_LOGS / "service_desk.csv"


@pytest.mark.spark
def test_dfg_and_variants_json_equal_on_spark(tmp_path):
    from mining.spark import local_session

    local_session(small_data=True)  # started here so the CLI's getOrCreate reuses it
    ws = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    assert runner.invoke(cli, ["--workspace", ws, "ingest", str(SAMPLE), "--name", "sd"]).exit_code == 0
    out = tmp_path / "parquet"
    res = runner.invoke(cli, ["--workspace", ws, "export", "sd", "--parquet", str(out)])
    assert res.exit_code == 0, res.output
    for args in (
        ["dfg", "sd", "--json"],
        ["variants", "sd", "--top", "5", "--json"],
        ["dfg", "sd", "--json", "--top-variants", "3"],
    ):
        local = runner.invoke(cli, ["--workspace", ws, *args])
        spark = runner.invoke(cli, ["--engine", "spark", "--parquet", str(out), *args])
        assert local.exit_code == 0 and spark.exit_code == 0, spark.output
        a, b = json.loads(local.output), json.loads(spark.output)
        assert a.keys() == b.keys()
        if "edges" in a:
            assert [(e["source"], e["target"], e["count"], e["cases"]) for e in a["edges"]] == [
                (e["source"], e["target"], e["count"], e["cases"]) for e in b["edges"]
            ]
            for x, y in zip(a["edges"], b["edges"], strict=True):
                assert x["median_seconds"] == pytest.approx(y["median_seconds"], rel=1e-9)
            assert (a["start"], a["end"]) == (b["start"], b["end"])
        else:
            assert a == b


def test_spark_engine_needs_a_parquet_folder(tmp_path):
    res = CliRunner().invoke(cli, ["--engine", "spark", "dfg", "sd"])
    assert res.exit_code == 1
    assert "--engine spark needs --parquet DIR" in res.output
