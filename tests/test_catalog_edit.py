"""Deleting and renaming logs: everything about the log goes (or nothing does), and the others stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mining.catalog import delete_log, list_logs, rename_log
from mining.cli import cli
from mining.errors import StoreError, UnknownLog
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store, writing
from tests.conftest import FILES

TINY = FILES / "app" / "tiny.csv"  # 3 cases, 6 events
OTHER = FILES / "app" / "other.csv"  # 5 cases, 10 events
REJECTING = FILES / "app" / "rejecting.csv"  # 2 of 8 rows rejected


def _rows_per_table(store: Store, log: int) -> dict[str, int]:
    tables = [
        r[0]
        for r in store.query(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'log_id' AND NOT internal "
            "AND schema_name = 'main' ORDER BY 1"
        ).rows
    ]
    return {t: int(store.scalar(f'SELECT count(*) FROM "{t}" WHERE log_id = ?', [log])) for t in tables}


def _attrs_tables(store: Store) -> list[str]:
    return [
        r[0]
        for r in store.query(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'attrs_%' ORDER BY 1"
        ).rows
    ]


@pytest.fixture
def two_logs(tmp_path: Path) -> Path:
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        ingest_file(store, TINY)
        ingest_file(store, REJECTING, IngestOptions(max_rejects=0.5))
        store.execute(
            "INSERT INTO monitor_runs VALUES ('k1', 2, '{}', '{}', 0, now()), ('k2', 1, '{}', '{}', 0, now())"
        )
    return ws


def test_delete_removes_every_row_of_the_log_and_its_attributes(two_logs: Path) -> None:
    with Store(two_logs) as store:
        before = _rows_per_table(store, 2)
        assert before["rejects"] == 2 and before["events"] == 6 and before["monitor_runs"] == 1
        kept = _rows_per_table(store, 1)
        assert _attrs_tables(store) == ["attrs_1", "attrs_2"]
        gone = delete_log(store, "rejecting")
        assert (gone.name, gone.cases, gone.events) == ("rejecting", 4, 6)
        assert set(_rows_per_table(store, 2).values()) == {0}
        assert _rows_per_table(store, 1) == kept
        assert _attrs_tables(store) == ["attrs_1"]
        assert [i.name for i in list_logs(store)] == ["tiny"]
        with pytest.raises(UnknownLog, match="no log named 'rejecting' in the workspace; logs: 'tiny'"):
            delete_log(store, "rejecting")


def test_a_delete_that_fails_half_way_leaves_everything(two_logs: Path, monkeypatch) -> None:
    with Store(two_logs) as store:
        before = _rows_per_table(store, 2)
        real = Store.execute

        def failing(self, sql, params=None):
            if sql.startswith("DROP TABLE"):
                raise StoreError("disk full (simulated)")
            return real(self, sql, params)

        monkeypatch.setattr(Store, "execute", failing)
        with pytest.raises(StoreError, match="simulated"):
            delete_log(store, "rejecting")
        monkeypatch.undo()
        assert _rows_per_table(store, 2) == before
        assert _attrs_tables(store) == ["attrs_1", "attrs_2"]


def test_rename_and_its_refusals(two_logs: Path) -> None:
    with Store(two_logs) as store:
        rename_log(store, "tiny", "March tickets")
        assert [i.name for i in list_logs(store)] == ["March tickets", "rejecting"]
        with pytest.raises(StoreError) as info:
            rename_log(store, "rejecting", "March tickets")
        assert (
            str(info.value)
            == "cannot rename 'rejecting' to 'March tickets': a log of that name already exists"
        )
        with pytest.raises(StoreError, match="cannot rename 'rejecting' to a blank name"):
            rename_log(store, "rejecting", "  ")
        with pytest.raises(StoreError, match="a log name does not start or end with spaces"):
            rename_log(store, "rejecting", " x")
        with pytest.raises(UnknownLog):
            rename_log(store, "nope", "x")
        # Analyses find the log under its new name; its id and events are unchanged.
        assert store.scalar("SELECT log_id FROM logs WHERE name = 'March tickets'") == 1
        assert store.scalar("SELECT count(*) FROM events WHERE log_id = 1") == 6


def test_cli_delete_and_rename(two_logs: Path) -> None:
    ws = str(two_logs)
    res = CliRunner().invoke(cli, ["--workspace", ws, "logs", "--rename", "tiny", "small"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "Renamed log 'tiny' to 'small'."
    res = CliRunner().invoke(cli, ["--workspace", ws, "logs", "--delete", "rejecting", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["deleted"] == "rejecting"
    assert [log["log"] for log in data["logs"]] == ["small"]
    res = CliRunner().invoke(cli, ["--workspace", ws, "logs", "--delete", "rejecting"])
    assert res.exit_code == 1
    assert res.output.strip() == "Error: no log named 'rejecting' in the workspace; logs: 'small'"
    res = CliRunner().invoke(cli, ["--workspace", ws, "logs", "--delete", "small", "--rename", "a", "b"])
    assert res.exit_code == 2
    assert "pass --delete or --rename, not both" in res.output


def test_a_failed_write_leaves_the_workspace_file_as_it_was(two_logs: Path) -> None:
    with Store(two_logs, read_only=True) as store:
        before = [(i.name, i.events) for i in list_logs(store)]
    with pytest.raises(RuntimeError), writing(two_logs) as store:
        delete_log(store, "tiny")
        raise RuntimeError("the process dies before the swap")
    with Store(two_logs, read_only=True) as store:
        assert [(i.name, i.events) for i in list_logs(store)] == before


def test_a_long_log_name_widens_the_listing_instead_of_shifting_its_figures(two_logs: Path) -> None:
    long = "servicenow_incident_event_log_uci_ids_stripped"
    ws = str(two_logs)
    assert CliRunner().invoke(cli, ["--workspace", ws, "logs", "--rename", "tiny", long]).exit_code == 0
    lines = CliRunner().invoke(cli, ["--workspace", ws, "logs"]).output.splitlines()
    assert lines[1].startswith(long + " ")
    assert [line.split()[:3] for line in lines[1:]] == [[long, "3", "6"], ["rejecting", "4", "6"]]
    # Each figure ends in the same column as its header.
    ends = {line.index(" cases") + 6 for line in lines[:1]}
    ends |= {line.index(f" {n} ") + 1 + len(n) for line, n in zip(lines[1:], ("3", "4"), strict=True)}
    assert len(ends) == 1
