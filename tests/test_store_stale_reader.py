"""A reader opened after a write sees the write, even while an older reader of the same file is open.

:func:`mining.store.writing` swaps a new file in by rename.  DuckDB keeps one
database instance per path and process and hands it to every new connection
to that path while any connection to it is open, so in one process (the app:
one thread per session) a reader opened after the swap would be given the
instance of the *replaced* file as long as another thread still read it;
:mod:`mining.store` opens each reader through a link of its own.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mining.store import Store, writing


def _count(path: Path) -> int:
    with Store(path, read_only=True) as store:
        return int(store.scalar("SELECT count(*) FROM t"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    with writing(path) as store:
        store.execute("CREATE TABLE t (x INTEGER)")
        store.execute("INSERT INTO t VALUES (1)")
    return path


def _write_while_a_reader_is_open(path: Path) -> int:
    """Reader in thread A stays open; thread B writes; a new reader counts the rows while A is open."""
    opened, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def reader() -> None:
        with Store(path, read_only=True) as store:
            seen.append(int(store.scalar("SELECT count(*) FROM t")))
            opened.set()
            release.wait(60)

    def writer() -> None:
        with writing(path) as store:
            store.execute("INSERT INTO t VALUES (2)")

    a = threading.Thread(target=reader)
    a.start()
    try:
        assert opened.wait(60)
        b = threading.Thread(target=writer)
        b.start()
        b.join(60)
        assert not b.is_alive()
        return _count(path)
    finally:
        release.set()
        a.join(60)
        assert seen == [1]


def test_a_new_reader_sees_the_write_once_no_older_reader_is_open(workspace: Path) -> None:
    _write_while_a_reader_is_open(workspace)
    assert _count(workspace) == 2


def test_a_new_reader_sees_the_write_while_an_older_reader_is_open(workspace: Path) -> None:
    assert _write_while_a_reader_is_open(workspace) == 2


def test_readers_leave_no_link_and_a_writer_removes_a_dead_readers(workspace: Path) -> None:
    with Store(workspace, read_only=True) as a, Store(workspace, read_only=True) as b:
        assert a.scalar("SELECT count(*) FROM t") == b.scalar("SELECT count(*) FROM t") == 1
    assert sorted(p.name for p in workspace.parent.iterdir()) == ["ws.duckdb", "ws.duckdb.lock"]
    # A reader killed between making its link and removing it; pid 2**22 + 1 is beyond pid_max.
    orphan = workspace.with_name(f".ws.duckdb.{2**22 + 1}.1.1.read")
    os.link(workspace, orphan)
    live = workspace.with_name(f".ws.duckdb.{os.getpid()}.1.1.read")
    os.link(workspace, live)
    with writing(workspace) as store:
        store.execute("INSERT INTO t VALUES (2)")
    assert not orphan.exists() and live.exists()
    live.unlink()
    assert _count(workspace) == 2


def test_where_no_link_can_be_made_the_path_is_read(workspace: Path, monkeypatch) -> None:
    # A read-only folder or a file system without hard links.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "link", refuse)
    assert _count(workspace) == 1
    with writing(workspace) as store:
        store.execute("INSERT INTO t VALUES (2)")
    assert _count(workspace) == 2
