"""The command line: the --json contract, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mining.cli import cli
from tests.conftest import FILES, SAMPLE_LOGS

ROOT = Path(__file__).resolve().parent.parent
#: 2 cases, 3 events, 2 activities, 2 variants.
TINY = FILES / "cli" / "tiny.csv"


def run(tmp_path, *args):
    return CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws.duckdb"), *args])


def test_ingest_json_contract_and_logs(tmp_path):
    res = run(tmp_path, "ingest", str(TINY), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {k: data[k] for k in ("log", "cases", "events", "activities", "variants", "rejected_rows")} == {
        "log": "tiny",
        "cases": 2,
        "events": 3,
        "activities": 2,
        "variants": 2,
        "rejected_rows": 0,
    }
    assert data["status"] == "loaded"
    assert data["mapping"]["resource"] == "resource"
    again = json.loads(run(tmp_path, "ingest", str(TINY), "--json").output)
    assert again["status"] == "unchanged" and again["events"] == 3
    listed = json.loads(run(tmp_path, "logs", "--json").output)
    assert [(x["log"], x["cases"], x["events"]) for x in listed["logs"]] == [("tiny", 2, 3)]


def test_human_summary_names_the_counts(tmp_path):
    res = run(tmp_path, "ingest", str(TINY), "--name", "tickets")
    assert res.exit_code == 0
    assert "Loaded log 'tickets'" in res.output
    assert "cases                  2" in res.output
    assert "events                 3" in res.output


def test_role_flags_and_missing_column(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("Ticket,Step,When\nA,open,2024-01-01 10:00\nA,close,2024-01-02 10:00\n")
    res = run(tmp_path, "ingest", str(src), "--case", "Ticket", "--activity", "Step", "--timestamp", "When")
    assert res.exit_code == 0, res.output
    bad = run(tmp_path, "ingest", str(src), "--name", "x", "--case", "Nope")
    assert bad.exit_code == 1
    assert (
        "Error: t.csv: no column 'Nope' for --case; available columns: 'Ticket', 'Step', 'When'" in bad.output
    )
    assert "Traceback" not in bad.output


def test_rejects_are_listed_and_exported(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text(
        TINY.read_text(encoding="utf-8")
        + "003,,2024-01-03T09:00:00Z,cy\n"
        + "".join(f"{i:03d},a,2024-01-0{1 + i % 8}T09:00:00Z,x\n" for i in range(4, 30))
    )
    assert run(tmp_path, "ingest", str(src)).exit_code == 0
    res = run(tmp_path, "rejects", "r")
    assert "r.csv, row 4, column 'activity': missing activity" in res.output
    out = tmp_path / "rejects.csv"
    assert run(tmp_path, "rejects", "r", "-o", str(out)).exit_code == 0
    assert out.read_text().splitlines() == [
        "file,row,column,reason,value",
        "r.csv,4,activity,missing activity,",
    ]


def test_unknown_log_and_missing_file_exit_1(tmp_path):
    res = run(tmp_path, "ingest", str(tmp_path / "absent.csv"))
    assert res.exit_code == 1 and "absent.csv: no such file" in res.output
    run(tmp_path, "ingest", str(TINY))
    res = run(tmp_path, "rejects", "nope")
    assert res.exit_code == 1 and "no log named 'nope'" in res.output


def _imported_by(argv: list[str], modules: tuple[str, ...]) -> tuple[str, str]:
    """Run ``mining ARGV`` in a fresh interpreter: its output, and which of ``modules`` it imported."""
    code = (
        f"import sys; from mining.cli import main; sys.argv={['mining', *argv]!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    *shown, imported = out.stdout.strip().splitlines()
    return "\n".join(shown), imported


def test_help_starts_without_heavy_imports():
    # Start-up time is user time: --help must not pull in pm4py, pandas or duckdb.
    _, imported = _imported_by(["--help"], ("pm4py", "pandas", "duckdb", "polars", "streamlit"))
    assert imported == "[]"


def test_bottlenecks_in_a_zone_and_in_working_time_import_no_pandas(tmp_path):
    # The sample's times write their offsets, so it is read in CET: the clock's day table is built,
    # and pa.array of a list imports pandas, a third of a second of the command's time.
    ws = tmp_path / "ws.duckdb"
    assert run(tmp_path, "ingest", str(SAMPLE_LOGS / "service_desk.csv")).exit_code == 0
    shown, imported = _imported_by(
        ["-w", str(ws), "bottlenecks", "service_desk", "--business-hours", "9-17"],
        ("pm4py", "pandas", "streamlit"),
    )
    assert "Mon-Fri 09:00-17:00 (CET)" in shown
    assert imported == "[]"


def test_logs_prints_placeholder_years_with_four_digits(tmp_path):
    src = tmp_path / "open.csv"
    src.write_text("case,activity,timestamp\nA,open,0001-01-01 00:00\nA,close,2024-01-02 10:00\n")
    assert run(tmp_path, "ingest", str(src)).exit_code == 0
    res = run(tmp_path, "logs")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[1].endswith("  0001-01-01 to 2024-01-02"), res.output


def test_app_serves_with_the_checkouts_streamlit_settings_from_any_directory(tmp_path, monkeypatch):
    # Streamlit reads .streamlit/config.toml from its working directory: the upload cap, XSRF protection
    # and hidden tracebacks must hold however the user starts `mining app`.
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda args, **kw: calls.append((args, kw)) or 0)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws.duckdb"), "app", "--port", "8765"])
    assert result.exit_code == 0, result.output
    [(args, kw)] = calls
    root = Path(__file__).resolve().parent.parent
    assert args[-4:] == ["run", str(root / "app.py"), "--server.port", "8765"]
    assert kw["cwd"] == root
    config = (kw["cwd"] / ".streamlit" / "config.toml").read_text()
    assert 'showErrorDetails = "none"' in config and "enableXsrfProtection = true" in config
    assert kw["env"]["MINING_WORKSPACE"] == str(tmp_path / "ws.duckdb")


def test_bottlenecks_counts_read_as_words(tmp_path, shared_logs):
    # The running example: Sara reworks one case, and two pairs hand work back and forth once.
    assert run(tmp_path, "ingest", str(shared_logs / "running-example.xes"), "--name", "ex").exit_code == 0
    res = run(tmp_path, "bottlenecks", "ex")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "  examine casually: 2 extra executions in 1 case" in lines
    assert "  reinitiate request: 1 extra execution in 1 case" in lines
    assert "ping-pong: 2 hand-offs X → Y → X in 1 case" in lines
    assert "  Ellen ⇄ Mike: 1 time in 1 case" in lines


def test_variants_top_zero_is_refused_as_the_other_commands_refuse_it(tmp_path):
    result = run(tmp_path, "variants", "nolog", "--top", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--top': 0 is not in the range x>=1." in result.output
