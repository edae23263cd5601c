"""The workspace file is the user's: a write keeps its permission bits and owner, leaves a read-only one alone,
goes through a symbolic link, and on a full disk or an unwritable folder leaves everything as it was."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import mining.store
from mining.catalog import list_logs
from mining.cli import cli
from mining.errors import StoreError, WorkspaceBusy
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store, writing
from tests.conftest import FILES, SAMPLE_LOGS

SMALL = FILES / "ingest" / "small.csv"
ROOT = os.geteuid() == 0


def _ingest(ws: Path, name: str) -> None:
    with writing(ws) as store:
        ingest_file(store, SMALL, IngestOptions(name=name))


def _names(ws: Path) -> list[str]:
    with Store(ws, read_only=True) as store:
        return [i.name for i in list_logs(store)]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws.duckdb"
    _ingest(ws, "first")
    return ws


def test_a_new_workspace_and_its_lock_are_the_owners_only(tmp_path: Path) -> None:
    ws = tmp_path / "new.duckdb"
    _ingest(ws, "first")
    assert _mode(ws) == 0o600
    assert _mode(tmp_path / "new.duckdb.lock") == 0o600
    direct = tmp_path / "direct.duckdb"
    with Store(direct):  # what `mining logs` does on a workspace that is not there yet
        pass
    assert _mode(direct) == 0o600
    res = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "cli.duckdb"), "logs"])
    assert res.exit_code == 0, res.output
    assert _mode(tmp_path / "cli.duckdb") == 0o600


def test_a_failed_first_ingest_leaves_no_file_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    res = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "new.duckdb"), "ingest", str(bad)])
    assert res.exit_code == 1
    assert "bad.csv: cannot tell which column is the case" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    # A failed write to a workspace that exists keeps it and its lock.
    ws = tmp_path / "ws.duckdb"
    _ingest(ws, "first")
    res = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(bad)])
    assert res.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "ws.duckdb", "ws.duckdb.lock"]
    assert _names(ws) == ["first"]


def test_a_writer_waiting_on_a_lock_file_that_is_removed_takes_the_new_one(tmp_path: Path) -> None:
    """The first writer of a new workspace fails and removes the lock file while a second waits on it:
    the second must lock the file now at the path, or a third would take that one and write beside it."""
    import threading

    ws = tmp_path / "new.duckdb"
    first_in, first_out = threading.Event(), threading.Event()
    second_in, second_out = threading.Event(), threading.Event()

    def hold(entered: threading.Event, leave: threading.Event) -> None:
        with mining.store._writer_lock(ws, timeout=10):
            entered.set()
            leave.wait(10)

    first = threading.Thread(target=hold, args=(first_in, first_out))
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=hold, args=(second_in, second_out))
    second.start()
    time.sleep(0.3)  # the second now waits on the first's lock file
    assert not second_in.is_set()
    first_out.set()  # the first leaves no workspace: its lock file goes
    assert second_in.wait(10)
    try:
        with pytest.raises(WorkspaceBusy), mining.store._writer_lock(ws, timeout=0.5):
            pass
    finally:
        second_out.set()
        first.join(10)
        second.join(10)
    assert not (tmp_path / "new.duckdb.lock").exists()


def test_a_write_keeps_the_permission_bits_the_user_chose(workspace: Path) -> None:
    workspace.chmod(0o640)
    inode = workspace.stat().st_ino
    _ingest(workspace, "second")
    assert workspace.stat().st_ino != inode  # a copy was swapped in
    assert _mode(workspace) == 0o640
    assert _names(workspace) == ["first", "second"]


@pytest.mark.skipif(not ROOT, reason="only root may give a file to another owner")
def test_a_write_keeps_the_owner_and_group(workspace: Path) -> None:
    os.chown(workspace, 4242, 4343)
    _ingest(workspace, "second")
    info = workspace.stat()
    assert (info.st_uid, info.st_gid) == (4242, 4343)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_read_only_workspace_is_not_written(workspace: Path) -> None:
    workspace.chmod(0o444)
    before = workspace.read_bytes()
    with pytest.raises(StoreError) as err:
        _ingest(workspace, "second")
    assert str(err.value) == f"the workspace {workspace} is read-only; mining leaves it as it is"
    assert err.value.hint == f"make it writable (chmod u+w {workspace}), or choose another --workspace"
    assert workspace.read_bytes() == before
    assert _mode(workspace) == 0o444
    assert _leftovers(workspace.parent) == ["ws.duckdb", "ws.duckdb.lock"]

    res = CliRunner().invoke(cli, ["--workspace", str(workspace), "ingest", str(SMALL), "--name", "x"])
    assert res.exit_code == 1
    assert f"Error: the workspace {workspace} is read-only" in res.output
    assert "Traceback" not in res.output
    assert workspace.read_bytes() == before

    # Reading it is fine: monitoring reports its run and says why it did not record it.
    res = CliRunner().invoke(cli, ["--workspace", str(workspace), "monitor", "first"])
    assert res.exit_code in {0, 3}, res.output  # 3: an alert
    assert res.output.splitlines()[-1].endswith(f"not stored: the workspace {workspace} is read-only")
    assert workspace.read_bytes() == before


def test_a_symlinked_workspace_is_written_at_its_target_and_the_link_stays(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.duckdb"
    real.parent.mkdir()
    _ingest(real, "first")
    real.chmod(0o640)
    link = tmp_path / "ws.duckdb"
    link.symlink_to(real)
    _ingest(link, "second")
    assert link.is_symlink() and link.readlink() == real
    assert _names(real) == ["first", "second"]
    assert _mode(real) == 0o640
    assert _leftovers(tmp_path) == ["data", "ws.duckdb"]  # nothing written beside the link
    assert _leftovers(real.parent) == ["real.duckdb", "real.duckdb.lock"]


def test_a_full_disk_at_the_copy_leaves_the_workspace_and_no_copy(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = workspace.read_bytes()

    def half_then_full(source: Path, destination: Path) -> None:
        destination.write_bytes(source.read_bytes()[: len(before) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(destination))

    monkeypatch.setattr(mining.store, "copy_workspace", half_then_full)
    with pytest.raises(StoreError) as err:
        _ingest(workspace, "second")
    assert str(err.value) == (
        f"cannot write the workspace {workspace}: the disk is full (a write needs room for a copy of the "
        "workspace beside it); the workspace is unchanged"
    )
    assert err.value.hint == "free some space on that disk, or choose another --workspace"
    assert workspace.read_bytes() == before
    assert _leftovers(workspace.parent) == ["ws.duckdb", "ws.duckdb.lock"]


@contextlib.contextmanager
def _mounted(*args: str) -> Iterator[None]:
    """``mount ARGS`` for the block, or skip when this process may not mount (not root, no mount)."""
    if not ROOT or shutil.which("mount") is None:
        pytest.skip("mounting a file system needs root")
    target = args[-1]
    done = subprocess.run(["mount", *args], capture_output=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", target], capture_output=True, check=False)


@pytest.mark.parametrize(("size", "where"), [("3m", "the copy"), ("7m", "the ingest's own writes")])
def test_a_really_full_disk_leaves_the_workspace_and_no_copy(tmp_path: Path, size: str, where: str) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with _mounted("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)):
        ws = disk / "ws.duckdb"
        _ingest(ws, "first")  # 2.9 MB: it fits once, not twice and a log more
        before = ws.read_bytes()
        with pytest.raises(StoreError) as err, writing(ws) as store:
            ingest_file(store, SAMPLE_LOGS / "service_desk.csv")
        assert "the disk is full" in str(err.value), where
        assert ws.read_bytes() == before
        assert _leftovers(disk) == ["ws.duckdb", "ws.duckdb.lock"]
        assert _names(ws) == ["first"]


@pytest.fixture
def locked_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder holding a workspace, that this process cannot write into."""
    folder = tmp_path / "locked"
    folder.mkdir()
    _ingest(folder / "ws.duckdb", "first")
    if ROOT:  # root writes anywhere on a writable file system: make this one read-only
        with _mounted("--bind", "-o", "ro", str(folder), str(folder)):
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield folder
    else:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


def test_an_unwritable_folder_is_a_clear_error_before_any_work(locked_folder: Path) -> None:
    ws = locked_folder / "ws.duckdb"
    before = ws.read_bytes()
    with pytest.raises(StoreError) as err:
        _ingest(ws, "second")
    assert str(err.value).startswith(
        f"cannot write the workspace {ws}: the folder {locked_folder} is not writable"
    )
    assert err.value.hint == "choose a --workspace in a folder you can write"
    assert ws.read_bytes() == before
    assert _leftovers(locked_folder) == ["ws.duckdb", "ws.duckdb.lock"]
    res = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(SMALL), "--name", "x"])
    assert res.exit_code == 1 and "is not writable" in res.output and "Traceback" not in res.output
