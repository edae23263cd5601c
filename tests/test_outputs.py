"""Every path a command writes is checked before any work: a missing or unwritable folder is a clear error,
and an ingest whose rejects file cannot be written stores nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mining.catalog import list_logs
from mining.cli import cli
from mining.errors import OutputError
from mining.ingest import IngestOptions
from mining.ingest.job import ingest_into
from mining.outputs import check_output, check_output_folder
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

TINY = FILES / "cli" / "tiny.csv"
#: One row of tiny.csv's shape without an activity: a reject.
REJECTED = "004,,2024-01-03T09:00:00Z,cy\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("outputs") / "ws.duckdb"
    res = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(TINY)])
    assert res.exit_code == 0, res.output
    return ws


def _run(ws: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["--workspace", str(ws), *args])
    return res.exit_code, res.output


def _missing(tmp_path: Path, name: str) -> Path:
    return tmp_path / "no" / "such" / name


@pytest.mark.parametrize(
    ("args", "flag", "name"),
    [
        (["rejects", "tiny", "-o"], "--output", "rejects.csv"),
        (
            ["rules", "tiny", "--rule", "a before b", "--cases", "a before b", "--output"],
            "--output",
            "cases.csv",
        ),
        (["discover", "tiny", "-o"], "--output", "model.bpmn"),
        (
            ["conform", "tiny", "--model", str(SAMPLE_LOGS / "service_desk.bpmn"), "--cases"],
            "--cases",
            "d.csv",
        ),
        (["monitor", "tiny", "--report"], "--report", "report.html"),
    ],
)
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    workspace: Path, tmp_path: Path, args: list[str], flag: str, name: str
) -> None:
    target = _missing(tmp_path, name)
    before = workspace.read_bytes()
    code, out = _run(workspace, *args, str(target))
    assert code == 1
    assert f"Error: {flag} {target}: the folder {target.parent} does not exist; nothing was done" in out
    assert f"Hint: create it first (mkdir -p {target.parent}), or write the file elsewhere" in out
    assert "Traceback" not in out
    assert workspace.read_bytes() == before  # monitor did not store a run


def test_an_export_folder_under_a_file_is_refused(workspace: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, out = _run(workspace, "export", "tiny", "--parquet", str(afile / "parquet"))
    assert code == 1
    assert f"Error: --parquet {afile / 'parquet'}: {afile} is a file, not a folder; nothing was done" in out


def test_ingest_with_rejects_in_a_missing_folder_stores_nothing(tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    src.write_text(TINY.read_text(encoding="utf-8") + REJECTED)
    ws = tmp_path / "ws.duckdb"
    target = _missing(tmp_path, "rejects.csv")
    code, out = _run(ws, "ingest", str(src), "--rejects", str(target))
    assert code == 1
    assert f"Error: --rejects {target}: the folder {target.parent} does not exist; nothing was done" in out
    assert not ws.exists()


def test_a_rejects_file_that_fails_late_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    # Past the check (a folder appears where the file should go): the rejects are written before the
    # workspace is swapped in, so nothing of the ingest is stored.
    src = tmp_path / "r.csv"
    src.write_text(TINY.read_text(encoding="utf-8") + REJECTED)
    ws = tmp_path / "ws.duckdb"
    code, _ = _run(ws, "ingest", str(TINY), "--name", "before")
    assert code == 0
    before = ws.read_bytes()
    blocked = tmp_path / "rejects.csv"
    blocked.mkdir()
    with pytest.raises(OutputError, match=r"^cannot write .*rejects\.csv: Is a directory$"):
        ingest_into(str(ws), str(src), IngestOptions(name="after"), str(blocked))
    assert ws.read_bytes() == before
    with Store(ws, read_only=True) as store:
        assert [i.name for i in list_logs(store)] == ["before"]


def test_the_rejects_are_written_with_the_log(tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        TINY.read_text(encoding="utf-8")
        + REJECTED
        + "".join(f"{i:03d},a,2024-01-0{1 + i % 8}T09:00:00Z,x\n" for i in range(5, 40))
    )
    out = tmp_path / "rejects.csv"
    code, text = _run(tmp_path / "ws.duckdb", "ingest", str(src), "--rejects", str(out))
    assert code == 0, text
    assert out.read_text().splitlines() == [
        "file,row,column,reason,value",
        "r.csv,4,activity,missing activity,",
    ]


def test_what_the_check_refuses(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"^--report .*: that is a folder; expected a file name$"):
        check_output(tmp_path, "report")
    afile = tmp_path / "plain"
    afile.write_text("x")
    with pytest.raises(OutputError, match=r"is a file, not a folder; nothing was done$"):
        check_output(afile / "out.csv", "output")
    check_output(tmp_path / "fine.csv", "output")  # a new file in a writable folder
    check_output_folder(tmp_path / "new" / "deeper", "parquet")  # created by the export
    check_output_folder("s3://bucket/prefix", "parquet")  # left to the writer
    if os.geteuid() != 0:  # root writes anywhere: the folder case is covered by the missing one above
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(OutputError, match=r"the folder .*locked is not writable; nothing was done$"):
            check_output(locked / "x.csv", "output")
