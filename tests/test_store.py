"""The workspace file: migrations, quoting, read-only opening and locking."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.errors import MigrationError, StoreError, UnknownLog, WorkspaceBusy
from mining.store import MIGRATIONS, Store, quote_ident, workspace_path


def test_migrations_are_named_recorded_and_idempotent(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        names = [r[0] for r in s.query("SELECT name FROM _migrations ORDER BY name").rows]
        assert names == [name for name, _ in MIGRATIONS]
        assert s.migrate() == []
    with Store(path) as s:  # reopening applies nothing new
        assert s.scalar("SELECT count(*) FROM _migrations") == len(MIGRATIONS)


def test_a_newer_workspace_is_refused(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        s.execute("INSERT INTO _migrations VALUES ('9999_from_the_future', now())")
    with pytest.raises(MigrationError, match="newer version"):
        Store(path)


def test_quote_ident_survives_hostile_names(store):
    hostile = 'x" FROM logs; DROP TABLE logs; SELECT "1'
    store.execute(f"CREATE TABLE t ({quote_ident(hostile)} INTEGER)")
    store.execute(f"INSERT INTO t ({quote_ident(hostile)}) VALUES (?)", [7])
    assert store.scalar(f"SELECT {quote_ident(hostile)} FROM t") == 7
    assert store.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'logs'") == 1
    with pytest.raises(StoreError, match="NUL"):
        quote_ident("a\x00b")


def test_read_only_open_of_a_missing_workspace_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no workspace at"):
        Store(tmp_path / "absent.duckdb", read_only=True)


def test_transaction_rolls_back_everything(store):
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.execute(
            "INSERT INTO logs VALUES (1, 'x', 's', 'h', '{}', 'UTC', now(), false, false, false, false)"
        )
        raise ZeroDivisionError
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_workspace_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("MINING_WORKSPACE", raising=False)
    assert str(workspace_path()) == "mining.duckdb"
    monkeypatch.setenv("MINING_WORKSPACE", str(tmp_path / "env.duckdb"))
    assert workspace_path() == tmp_path / "env.duckdb"
    assert workspace_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_unknown_log_lists_the_logs(store, tmp_path):
    from mining.catalog import log_id
    from mining.ingest import ingest_file

    (tmp_path / "tickets.csv").write_text("case_id,activity,timestamp\n1,a,2024-01-01\n1,b,2024-01-02\n")
    ingest_file(store, tmp_path / "tickets.csv")
    with pytest.raises(UnknownLog, match=r"no log named 'orders'.*'tickets'"):
        log_id(store, "orders")


def test_a_second_writer_gets_workspace_busy(tmp_path):
    path = tmp_path / "ws.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WorkspaceBusy, match="busy"):
            Store(path, busy_timeout=0.3)
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    with Store(path) as s:  # free again once the other process is gone
        assert s.scalar("SELECT count(*) FROM logs") == 0


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=40),
    kind=st.sampled_from(["BIGINT", "INTEGER", "DOUBLE", "UTINYINT"]),
    cut=st.integers(0, 5),
)
def test_numpy_column_reads_arrow_numbers_as_to_pylist_does(values, kind, cut) -> None:
    import math

    import duckdb

    from mining.store import numpy_column

    if kind == "UTINYINT":
        values = [None if v is None else abs(v) % 256 for v in values]
    elif kind == "INTEGER":
        values = [None if v is None else v % 2**31 for v in values]
    con = duckdb.connect()
    table = con.sql(
        f"SELECT CAST(unnest($v::BIGINT[]) AS {kind}) AS x", params={"v": values}
    ).to_arrow_table()
    column = table.slice(min(cut, table.num_rows)).column("x")  # a slice keeps an offset into the buffers
    got = numpy_column(column)
    want = column.to_pylist()
    assert len(got) == len(want)
    assert [math.isnan(g) if w is None else g == w for g, w in zip(got.tolist(), want, strict=True)] == [
        True
    ] * len(want)
    got[:1] = 0  # the result is the caller's to change


def test_a_failed_statement_is_the_error_seen_through_its_cleanup(store):
    import pyarrow as pa

    store.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    store.register("v", pa.table({"x": [1]}))
    with pytest.raises(StoreError) as info, store.transaction():
        try:
            store.execute("INSERT INTO t VALUES (NULL)")
        finally:
            store.unregister("v")  # refused inside the aborted transaction: must not hide the cause
    assert "NOT NULL constraint failed" in str(info.value)
    assert store.scalar("SELECT count(*) FROM t") == 0


def test_a_file_that_is_no_workspace_is_named_as_the_user_gave_it(tmp_path, monkeypatch):
    # The message named the reader's private link (.notes.duckdb.4711.1.2.read) or the writer's copy.
    from mining.store import writing

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.duckdb").write_text("not a database\n")
    expected = (
        'cannot open workspace notes.duckdb: IO Error: The file "notes.duckdb" exists, but it is not a valid '
        "DuckDB database file!"
    )
    with pytest.raises(StoreError) as reading:
        Store("notes.duckdb", read_only=True)
    with pytest.raises(StoreError) as written, writing("notes.duckdb"):
        pass
    for caught in (reading, written):
        assert str(caught.value) == expected
        assert caught.value.hint == (
            "pass the workspace file that mining made (-w FILE or $MINING_WORKSPACE), or a new name"
        )
    assert (tmp_path / "notes.duckdb").read_text() == "not a database\n"
    # No private copy or link is left beside it (the writers' lock file stays, as for any workspace).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb", "notes.duckdb.lock"]
