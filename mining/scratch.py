"""Private temporary folders that do not outlive their process.

A reading of an export works in a temporary folder: a gunzipped copy, a
transcoded CSV, hundreds of megabytes for a large file.  The reading runs in
a child that the app kills when the user cancels and :mod:`mining.limits`
kills when it needs more memory or time than allowed; a killed process runs
no ``finally``, so its folder stayed in ``/tmp`` for good (a cancelled ingest
of the road-traffic-fines export left 42 MB each time).

So each folder holds a lock (``flock``) for as long as its owner lives; the
kernel drops the lock when the owner dies, however it dies.  Every new folder
first sweeps the folders of this module whose lock can be taken: their
owners are gone.  A lock, unlike a process id, means the same thing across
process namespaces that share ``/tmp`` (containers), so a live reading is
never swept.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SCRATCH_PREFIX", "ScratchDir", "scratch_dir", "sweep"]

#: Every folder made here starts with this, and the sweep looks at nothing else.
SCRATCH_PREFIX = "mining-"

_LOCK = ".owner"
#: A folder without a lock file: one made by an older version, or one whose owner is between
#: ``mkdtemp`` and naming its lock.  Only the first kind is ever this old.
_UNLOCKED_AGE = 24 * 3600.0


class ScratchDir:
    """A private folder under the system's temp folder, locked while this object is open."""

    def __init__(self, kind: str) -> None:
        sweep()
        self.path = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{kind}-"))
        # Locked before it takes its name, so a sweep never finds it open to take.
        self._fd: int | None = os.open(self.path / f"{_LOCK}.new", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(self.path / f"{_LOCK}.new", self.path / _LOCK)

    def close(self) -> None:
        """Remove the folder and everything in it; harmless when called twice."""
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def scratch_dir(kind: str) -> Iterator[Path]:
    """A private folder ``mining-<kind>-…`` for the ``with`` block, removed after it."""
    with ScratchDir(kind) as path:
        yield path


def sweep(root: str | os.PathLike[str] | None = None) -> int:
    """Remove the scratch folders under ``root`` (the temp folder) whose owners died; return how many."""
    base = Path(root if root is not None else tempfile.gettempdir())
    uid = os.getuid()
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if _abandoned(Path(entry.path)):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _abandoned(path: Path) -> bool:
    try:
        fd = os.open(path / _LOCK, os.O_RDWR)
    except FileNotFoundError:
        return time.time() - path.stat().st_mtime > _UNLOCKED_AGE
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock taken, if any
    return True
