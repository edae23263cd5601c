"""The workspace: one DuckDB file, and the only module that talks to DuckDB.

Every statement goes through :meth:`Store.query` / :meth:`Store.execute`,
which bind values as parameters; identifiers that come from users (column
headers) go through :func:`quote_ident`.  The schema is a list of named
migrations recorded in ``_migrations``, so a workspace written by an older
version is upgraded in place and one written by a newer version is refused.

Connections are set to UTC, whatever the server's zone, so a naive timestamp
never picks up the machine's local time.

The workspace holds business data, so a new one is readable by its owner only
(0600); a write keeps the file's permission bits and owner, leaves a file the
user made read-only alone, writes through a symbolic link to its target, and
on a full disk or an unwritable folder leaves the workspace as it was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import resource
import shutil
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mining.errors import (
    LimitExceeded,
    MigrationError,
    MiningError,
    Option,
    StoreError,
    WorkspaceBusy,
    phrase,
)

__all__ = [
    "DEFAULT_WORKSPACE",
    "MIGRATIONS",
    "Result",
    "Store",
    "check_writable",
    "copy_workspace",
    "numpy_column",
    "quote_ident",
    "workspace_path",
    "writing",
]

DEFAULT_WORKSPACE = "mining.duckdb"
#: Permission bits of a new workspace: its owner's only.
NEW_WORKSPACE_MODE = 0o600
#: DuckDB's share of the memory left under a process's data limit (mining.limits sets one in a child).
_DUCKDB_SHARE = 0.5
_DUCKDB_FLOOR = 64 * 1000**2
_umask_lock = threading.Lock()


def numpy_column(column: Any) -> Any:
    """An Arrow column (chunked or not) as a numpy array; nulls of a number column become NaN.

    Numbers are read off the Arrow buffer: pyarrow's ``to_numpy`` imports pandas, which costs
    most of a second the first time, and the caller only needs the values.
    """
    import numpy as np
    import pyarrow as pa

    if hasattr(column, "combine_chunks"):
        column = column.combine_chunks()
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return column.to_numpy(zero_copy_only=False)
    if column.null_count:
        column = column.cast(pa.float64())
        kind = column.type
    letter = "f" if pa.types.is_floating(kind) else "u" if pa.types.is_unsigned_integer(kind) else "i"
    start, n = column.offset, len(column)
    validity, data = column.buffers()[:2]
    # A copy: the buffer belongs to Arrow (read-only), and callers may write into the result.
    values = np.frombuffer(data, dtype=np.dtype(f"{letter}{kind.bit_width // 8}"), count=start + n)[
        start:
    ].copy()
    if column.null_count:
        # Not pc.fill_null(column, nan): a Python scalar passes through pyarrow's pandas checks.
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[start : start + n]
        values[valid == 0] = np.nan
    return values


# Each migration is (name, statements).  Never edit a released one: append.
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "0001_workspace",
        (
            """CREATE TABLE logs (
                log_id INTEGER PRIMARY KEY,
                name VARCHAR NOT NULL UNIQUE,
                source VARCHAR NOT NULL,
                content_hash VARCHAR NOT NULL,
                mapping JSON NOT NULL,
                timezone VARCHAR NOT NULL,
                ingested_at TIMESTAMPTZ NOT NULL,
                has_start BOOLEAN NOT NULL,
                has_resource BOOLEAN NOT NULL,
                has_lifecycle BOOLEAN NOT NULL,
                has_cost BOOLEAN NOT NULL
            )""",
            # One row per ingest batch (the first load and each --append).
            """CREATE TABLE ingest_runs (
                run_id INTEGER PRIMARY KEY,
                log_id INTEGER NOT NULL,
                mode VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                content_hash VARCHAR NOT NULL,
                rows_read BIGINT NOT NULL,
                events_added BIGINT NOT NULL,
                rejected_rows BIGINT NOT NULL,
                first_row_no BIGINT NOT NULL,
                timestamp_formats JSON NOT NULL,
                ingested_at TIMESTAMPTZ NOT NULL
            )""",
            # The canonical event table, stored sorted by (log, case, ts, row_no).
            # next_* are the directly-follows successor within the case, so the
            # DFG and waiting times need no window sort at query time.
            """CREATE TABLE events (
                log_id INTEGER NOT NULL,
                case_id VARCHAR NOT NULL,
                activity VARCHAR NOT NULL,
                ts TIMESTAMPTZ NOT NULL,
                start_ts TIMESTAMPTZ,
                resource VARCHAR,
                lifecycle VARCHAR,
                cost DOUBLE,
                row_no BIGINT NOT NULL,
                run_id INTEGER NOT NULL,
                case_no INTEGER NOT NULL,
                next_activity VARCHAR,
                next_ts TIMESTAMPTZ
            )""",
            """CREATE TABLE cases (
                log_id INTEGER NOT NULL,
                case_id VARCHAR NOT NULL,
                case_no INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                n_events INTEGER NOT NULL,
                start_ts TIMESTAMPTZ NOT NULL,
                end_ts TIMESTAMPTZ NOT NULL,
                duration_s DOUBLE NOT NULL
            )""",
            """CREATE TABLE variants (
                log_id INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                activities VARCHAR[] NOT NULL,
                n_cases INTEGER NOT NULL,
                n_events INTEGER NOT NULL
            )""",
            # Source columns not mapped to a role; values live in attrs_<log_id>
            # under internal names a1, a2, ... so no header text reaches SQL.
            """CREATE TABLE attribute_columns (
                log_id INTEGER NOT NULL,
                position INTEGER NOT NULL,
                column_name VARCHAR NOT NULL,
                source_name VARCHAR NOT NULL
            )""",
            """CREATE TABLE rejects (
                log_id INTEGER NOT NULL,
                run_id INTEGER NOT NULL,
                file VARCHAR NOT NULL,
                row_no BIGINT NOT NULL,
                column_name VARCHAR,
                reason VARCHAR NOT NULL,
                value VARCHAR
            )""",
            """CREATE TABLE quality (
                log_id INTEGER NOT NULL,
                run_id INTEGER NOT NULL,
                kind VARCHAR NOT NULL,
                count BIGINT NOT NULL,
                message VARCHAR NOT NULL,
                examples VARCHAR[] NOT NULL
            )""",
        ),
    ),
    (
        "0002_monitor",
        (
            # One row per distinct monitor run: the key hashes the log, its
            # ingest runs and the parameters, so a repeated run stores nothing.
            """CREATE TABLE monitor_runs (
                run_key VARCHAR PRIMARY KEY,
                log_id INTEGER NOT NULL,
                parameters VARCHAR NOT NULL,
                result VARCHAR NOT NULL,
                alerts INTEGER NOT NULL,
                created_at TIMESTAMPTZ NOT NULL
            )""",
        ),
    ),
    (
        "0003_monitor_digests",
        (
            # One row per run whose digest was e-mailed to a list of recipients, so that a
            # scheduled run on unchanged data sends nothing.
            """CREATE TABLE monitor_digests (
                run_key VARCHAR NOT NULL,
                recipients VARCHAR NOT NULL,
                sent_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (run_key, recipients)
            )""",
        ),
    ),
    (
        "0004_conformance_models",
        (
            # Models uploaded to check against, by the SHA-256 of their bytes.
            """CREATE TABLE models (
                sha256 VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                format VARCHAR NOT NULL,
                content BLOB NOT NULL,
                stored_at TIMESTAMPTZ NOT NULL
            )""",
            # The label mapping confirmed for a log and a model, as --map-file YAML.
            """CREATE TABLE label_mappings (
                log_id INTEGER NOT NULL,
                model_sha256 VARCHAR NOT NULL,
                model_name VARCHAR NOT NULL,
                mapping VARCHAR NOT NULL,
                saved_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (log_id, model_sha256)
            )""",
        ),
    ),
)


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB: wrap in double quotes, double any inside."""
    if "\x00" in name:
        msg = f"identifier {name!r} contains a NUL character"
        raise StoreError(msg)
    return '"' + name.replace('"', '""') + '"'


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace file: the explicit path, else ``$MINING_WORKSPACE``, else ./mining.duckdb."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("MINING_WORKSPACE")
    return Path(env) if env else Path(DEFAULT_WORKSPACE)


@dataclass(frozen=True)
class Result:
    """Rows of one query, with their column names."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Store:
    """An open workspace.  Use as a context manager, or call :meth:`close`.

    ``path=":memory:"`` gives a fresh private database (tests).  A file that
    another process holds is retried for ``busy_timeout`` seconds, then
    :class:`WorkspaceBusy` is raised.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        read_only: bool = False,
        busy_timeout: float = 10.0,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:" and read_only and not Path(self.path).exists():
            msg = f"no workspace at {self.path}"
            raise StoreError(msg, hint="ingest a log first: mining ingest FILE")
        if self.path != ":memory:" and not read_only and not Path(self.path).exists():
            # A new file (and its WAL) is created readable by its owner only, never for a moment wider.
            with _umask_lock:
                umask = os.umask(0o077)
                try:
                    self._con = _connect(self.path, read_only=read_only, busy_timeout=busy_timeout)
                finally:
                    os.umask(umask)
        else:
            self._con = _connect(self.path, read_only=read_only, busy_timeout=busy_timeout)
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET enable_progress_bar = false")
        memory_limit = memory_limit or _memory_under_data_limit()
        if memory_limit:
            self._con.execute("SET memory_limit = ?", [memory_limit])
        self._memory_limit = memory_limit  # None: DuckDB's default (a share of the machine's memory)
        if threads:
            self._con.execute("SET threads = ?", [threads])
        if not read_only:
            self.migrate()
        else:
            self._check_version()

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def cursor(self) -> Store:
        """Another connection to this store's open database, for one reader (a thread of its own):
        no file to open and no catalogue to load, and DuckDB's cached blocks are shared.  Closing
        it leaves this store open; closing this store closes its cursors too."""
        other = object.__new__(Store)
        other.path, other.read_only = self.path, self.read_only
        other._memory_limit = self._memory_limit
        other._con = self._con.cursor()
        other._con.execute("SET TimeZone = 'UTC'")
        other._con.execute("SET enable_progress_bar = false")
        return other

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one door ------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        """Run one statement that returns nothing of interest."""
        try:
            self._con.execute(sql, params)
        except duckdb.Error as exc:
            raise _wrap(exc, sql) from exc

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Result:
        """Run one statement and fetch all its rows."""
        try:
            cur = self._con.execute(sql, params)
            columns = tuple(d[0] for d in cur.description or ())
            return Result(columns, cur.fetchall())
        except duckdb.Error as exc:
            raise _wrap(exc, sql) from exc

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        return self.query(sql, params).scalar()

    def arrow(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement and return a ``pyarrow.Table``."""
        try:
            return self._con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise _wrap(exc, sql) from exc

    def register(self, name: str, table: Any) -> None:
        """Expose an Arrow table, a polars frame or a dict of numpy arrays to SQL under ``name`` (a view)."""
        self._con.register(name, table)

    def unregister(self, name: str) -> None:
        """Drop a view made by :meth:`register`.  It is cleanup, often in a ``finally``: inside a
        transaction that an error has aborted DuckDB refuses it, and that error must surface, not this."""
        with contextlib.suppress(duckdb.TransactionException):
            self._con.unregister(name)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside land together, or not at all."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextlib.contextmanager
    def memory_cap(self, cap: int) -> Iterator[bool]:
        """Hold DuckDB's memory limit at ``cap`` bytes at most inside, then restore it; yields whether
        the cap lowered it.  Past the limit DuckDB's sorts, joins and temporary tables spill to disk."""
        held = _setting_bytes(str(self.scalar("SELECT current_setting('memory_limit')")))
        lowered = held is None or held > cap
        if lowered:
            self._con.execute("SET memory_limit = ?", [f"{cap // 1000**2}MB"])
        try:
            yield lowered
        finally:
            if lowered:
                # What this store set, exactly: the setting reads back rounded ("18.8 GiB").
                with contextlib.suppress(duckdb.Error):
                    if self._memory_limit:
                        self._con.execute("SET memory_limit = ?", [self._memory_limit])
                    else:
                        self._con.execute("RESET memory_limit")

    # -- schema ------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations this workspace lacks; return their names."""
        self.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        self._check_version()
        done = {r[0] for r in self.query("SELECT name FROM _migrations").rows}
        applied = []
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                for statement in statements:
                    self.execute(statement)
                self.execute("INSERT INTO _migrations VALUES (?, now())", [name])
            applied.append(name)
        return applied

    def _check_version(self) -> None:
        known = {name for name, _ in MIGRATIONS}
        try:
            names = [r[0] for r in self._con.execute("SELECT name FROM _migrations").fetchall()]
        except duckdb.CatalogException:
            if self.read_only:
                msg = f"{self.path} is not a mining workspace"
                raise MigrationError(msg) from None
            return
        unknown = sorted(set(names) - known)
        if unknown:
            msg = f"workspace {self.path} was written by a newer version of mining (migrations {unknown})"
            raise MigrationError(msg, hint=phrase("upgrade mining, or choose another ", Option("workspace")))


def copy_workspace(source: Path, destination: Path) -> None:
    """Copy the workspace file for a writer (the step a full disk fails; tests replace it to say so)."""
    shutil.copyfile(source, destination)


@contextlib.contextmanager
def writing(
    path: str | os.PathLike[str],
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    busy_timeout: float = 600.0,
) -> Iterator[Store]:
    """Open the workspace to write, without ever making a reader wait.

    DuckDB lets one process hold a file read-write, and while it does no other
    process can open it, not even read-only.  An ingest of millions of rows
    would stop the app and a cron ``mining monitor`` for its whole duration.
    So a writer works on a private copy beside the workspace and, once
    everything is checkpointed, renames the copy over it in one atomic step:
    readers that opened the old file finish on it, the next ones see the new
    one, and none is ever refused.  A crash leaves the workspace as it was
    (the copy is discarded by the next writer).  Writers queue on a lock file,
    waiting at most ``busy_timeout`` seconds.

    The copy gets the workspace's permission bits and, where this process may
    set them, its owner and group; a new workspace is 0600.  A workspace with
    no write permission is refused before any work, a symbolic link is
    written at its target (the link stays), and a full disk or a folder that
    cannot be written raises :class:`StoreError` with the workspace unchanged
    and no copy left behind.

    The price is one file copy per write, about a second per 300 MB.
    """
    if str(path) == ":memory:":
        with Store(path, memory_limit=memory_limit, threads=threads) as store:
            yield store
        return
    target = Path(os.path.realpath(path))  # through symbolic links: the link stays, its target is written
    _check_writable(target)
    with _writer_lock(target, busy_timeout):
        for stale in target.parent.glob(f".{target.name}.*.tmp*"):
            _remove(stale)
        _remove_orphan_links(target)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            old = target.stat() if target.exists() else None
            if old is not None:
                _fold_wal(target)
                _disk_step(target, copy_workspace, target, scratch)
            try:
                store = Store(scratch, memory_limit=memory_limit, threads=threads)
            except StoreError as exc:
                # Named by the user's file, not the private copy they never made.
                msg = str(exc.message).replace(str(scratch), str(path))
                raise StoreError(msg, hint=exc.hint) from exc
            try:
                yield store
                store.execute("CHECKPOINT")
            finally:
                store.close()
            _disk_step(target, _keep_owner, scratch, old)
            _disk_step(target, _fsync, scratch)
            _disk_step(target, os.replace, scratch, target)
            _disk_step(target, _fsync, target.parent)
        finally:
            for leftover in (
                scratch,
                scratch.with_name(scratch.name + ".wal"),
                scratch.with_name(scratch.name + ".tmp"),
            ):
                _remove(leftover)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`StoreError` when :func:`writing` would refuse the workspace at ``path`` (read-only,
    or in a folder that cannot be written): a caller checks it before work whose end is a write."""
    if str(path) != ":memory:":
        _check_writable(Path(os.path.realpath(path)))


def _check_writable(target: Path) -> None:
    """Refuse, before any work, a workspace in a folder that cannot be written, or one the user made read-only."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            _folder_message(target, folder),
            hint=phrase("choose a ", Option("workspace"), " in a folder you can write"),
        )
    try:
        info = target.stat()
    except FileNotFoundError:
        return
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        msg = f"the workspace {target} is read-only; mining leaves it as it is"
        raise StoreError(
            msg,
            hint=phrase(f"make it writable (chmod u+w {target}), or choose another ", Option("workspace")),
        )


def _folder_message(target: Path, folder: Path) -> str:
    return (
        f"cannot write the workspace {target}: the folder {folder} is not writable "
        "(a write makes a copy beside the workspace and swaps it in); the workspace is unchanged"
    )


def _disk_step(target: Path, step: Any, *args: Any) -> Any:
    """One file-system step of a write; a full disk or a refused folder becomes a clear :class:`StoreError`."""
    try:
        return step(*args)
    except OSError as exc:
        raise _disk_error(target, exc) from exc


def _disk_error(target: Path, exc: OSError) -> StoreError:
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        msg = (
            f"cannot write the workspace {target}: the disk is full (a write needs room for a copy of the "
            "workspace beside it); the workspace is unchanged"
        )
        return StoreError(
            msg, hint=phrase("free some space on that disk, or choose another ", Option("workspace"))
        )
    if exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        return StoreError(
            _folder_message(target, target.parent),
            hint=phrase("choose a ", Option("workspace"), " in a folder you can write"),
        )
    msg = f"cannot write the workspace {target}: {exc.strerror or exc}; the workspace is unchanged"
    return StoreError(msg)


def _keep_owner(scratch: Path, old: os.stat_result | None) -> None:
    """Give the copy the workspace's permission bits and, where this process may, its owner and group."""
    if old is None:
        os.chmod(scratch, NEW_WORKSPACE_MODE)
        return
    os.chmod(scratch, stat.S_IMODE(old.st_mode))
    for uid, gid in ((old.st_uid, old.st_gid), (-1, old.st_gid)):
        try:
            os.chown(scratch, uid, gid)
            return
        except PermissionError:
            continue  # only root gives a file away; a member of the group may still set the group


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.unlink()


@contextlib.contextmanager
def _writer_lock(target: Path, timeout: float) -> Iterator[None]:
    _disk_step(target, target.parent.mkdir, 0o777, True, True)
    lock_path = target.with_name(target.name + ".lock")
    deadline = time.monotonic() + timeout
    while True:
        # flock, not a PID file: the kernel releases it when a writer dies, even by SIGKILL.
        fd = _disk_step(target, os.open, lock_path, os.O_RDWR | os.O_CREAT, NEW_WORKSPACE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                msg = f"workspace {target} is busy: another mining process is writing to it"
                raise WorkspaceBusy(msg, hint="retry when the other ingest has finished") from None
            time.sleep(0.1)
            continue
        # The holder before may have removed the file it locked (below): a lock on a
        # removed file excludes no one, so take the one now at the path.
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        # A first write that failed leaves no workspace, and no lock file beside the nothing.
        if not target.exists():
            with contextlib.suppress(FileNotFoundError):
                lock_path.unlink()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _fold_wal(target: Path) -> None:
    """A workspace last written in place (older versions) may end in a WAL: fold it in first."""
    if target.with_name(target.name + ".wal").exists():
        with Store(target) as store:
            store.execute("CHECKPOINT")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(path: str, *, read_only: bool, busy_timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + busy_timeout
    delay = 0.05
    while True:
        try:
            if read_only and path != ":memory:":
                return _connect_current(path)
            return duckdb.connect(path, read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            # ConnectionException: this process already holds the file in the
            # other mode (read-only against read-write); treated as busy too.
            # A reader opens the file through a link of its own (see _connect_current): DuckDB's message
            # names the link, which the user never made; it names their file.
            text = re.sub(r'"[^"]*\.\d+\.\d+\.\d+\.read"', f'"{path}"', str(exc))
            if "lock" not in text.lower() and not isinstance(exc, duckdb.ConnectionException):
                msg = f"cannot open workspace {path}: {text}"
                hint = None
                if "not a valid DuckDB database file" in text:
                    hint = "pass the workspace file that mining made (-w FILE or $MINING_WORKSPACE), or a new name"
                raise StoreError(msg, hint=hint) from exc
            if time.monotonic() >= deadline:
                msg = f"workspace {path} is busy: another mining process is writing to it"
                raise WorkspaceBusy(msg, hint="retry when the other ingest has finished") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _memory_under_data_limit() -> str | None:
    """DuckDB's memory limit in a process with a data limit (``RLIMIT_DATA``): half of what is left, so it
    spills to disk before the process runs out; ``None`` (DuckDB's own default) without one."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    if soft == resource.RLIM_INFINITY:
        return None
    used = 0
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii") as fh,
    ):
        used = next((int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmData:")), 0)
    return f"{max(_DUCKDB_FLOOR, int((soft - used) * _DUCKDB_SHARE)) // 1000**2}MB"


_SETTING_UNITS = {"bytes": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SETTING_UNITS |= {"kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}


def _setting_bytes(text: str) -> int | None:
    """Bytes of a size as DuckDB writes its settings ("18.6 GiB", "953.6 MiB"); None if unreadable."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", text)
    if found is None or found[2].lower() not in _SETTING_UNITS:
        return None
    try:
        return int(float(found[1]) * _SETTING_UNITS[found[2].lower()])
    except ValueError:
        return None


def _connect_current(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file now at ``path``, never to one :func:`writing` replaced.

    DuckDB keeps one database per path and process and hands it to every
    new connection to that path while any is open: in the app (one thread
    per session) a reader opened after a write would read the replaced file
    as long as another session still read it.  So each reader opens the file
    through a hard link of its own beside it (same inode, so nothing is
    copied), removed as soon as DuckDB has the file open.  Where no link can
    be made (a read-only folder, a file system without hard links), the
    path is opened as before.
    """
    real = Path(path).resolve()
    if real.with_name(real.name + ".wal").exists():
        # An older workspace written in place: DuckDB replays the WAL found beside the name it opens.
        return duckdb.connect(path, read_only=True)
    link = real.with_name(f".{real.name}.{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}.read")
    try:
        os.link(real, link)
    except OSError:
        return duckdb.connect(path, read_only=True)
    try:
        return duckdb.connect(str(link), read_only=True)
    finally:
        link.unlink(missing_ok=True)


def _remove_orphan_links(target: Path) -> None:
    """Readers' links left by a process that died between making and removing one (see below)."""
    if not Path("/proc/self").exists():
        return  # no way to tell a live reader's link from an orphan's
    real = target.resolve()
    for link in real.parent.glob(f".{real.name}.*.read"):
        pid = link.name[len(real.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            link.unlink(missing_ok=True)


def _wrap(exc: duckdb.Error, sql: str) -> MiningError:
    first = " ".join(sql.split())[:200]
    if isinstance(exc, duckdb.OutOfMemoryException):
        err: MiningError = LimitExceeded(
            f"the workspace needs more memory than it may use: {exc}", kind="memory"
        )
    elif "No space left on device" in str(exc):
        written = re.search(r'write file "([^"]+)"', str(exc))
        where = f" in {Path(written[1]).parent}" if written else ""
        err = StoreError(
            f"cannot write{where}: the disk is full (no space left on device); nothing was written",
            hint=phrase(
                "free some space on the disk of the workspace and its temporary files, or choose another ",
                Option("workspace"),
            ),
        )
    else:
        err = StoreError(f"query failed: {exc}")
    err.sql = first  # type: ignore[attr-defined]
    return err
