"""An ingest in a child process: it reports progress and can be cancelled at any moment.

The app cannot stop a DuckDB statement running in its own process, and a
large ingest runs for minutes.  So the app starts the ingest as a child
(``python -m mining.ingest.job``) and polls it.  Cancelling kills the child;
because every write goes through :func:`mining.store.writing`, the
workspace is exactly as it was (the child's copy is discarded).

The request and the result travel as pickles in a private temporary folder
that only this process and its child use; progress comes as one JSON line
per stage on the child's stdout.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import IngestError

if TYPE_CHECKING:
    from mining.ingest.options import IngestOptions
    from mining.schema import IngestSummary

__all__ = ["IngestJob", "Status", "start_ingest"]


@dataclass(frozen=True)
class Status:
    """The latest stage reported by the child."""

    share: float  # 0..1
    message: str
    done: bool


class IngestJob:
    """A running ingest; poll :meth:`status`, then take :meth:`result`, or :meth:`cancel` it."""

    def __init__(self, proc: subprocess.Popen[bytes], folder: tempfile.TemporaryDirectory[str]) -> None:
        self._proc = proc
        self._folder = folder
        self._status = Status(0.0, "Starting", done=False)
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._pending = b""
        self._closed = False

    def status(self) -> Status:
        """Read whatever progress the child has printed since the last call; never blocks."""
        if self._closed:
            return self._status
        exited = self._proc.poll() is not None  # asked first, so its last lines are read below
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            if line.strip():
                share, message = json.loads(line)
                self._status = Status(float(share), str(message), done=False)
        if exited:
            self._status = Status(1.0, self._status.message, done=True)
        return self._status

    def result(self) -> IngestSummary:
        """The summary; raises the child's :class:`~mining.errors.MiningError` as it was raised there."""
        self._proc.wait()
        out = Path(self._folder.name) / "result.pickle"
        try:
            if not out.exists():
                err = self._proc.stderr.read().decode("utf-8", "replace") if self._proc.stderr else ""
                msg = f"the ingest stopped unexpectedly (exit code {self._proc.returncode})"
                raise IngestError(msg, hint=err.strip().splitlines()[-1] if err.strip() else None)
            kind, value = pickle.loads(out.read_bytes())  # written by our own child process
        finally:
            self._close()
        if kind == "ok":
            return value
        raise value

    def cancel(self) -> None:
        """Stop the child at once; the workspace keeps its state from before the ingest."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._close()

    def _close(self) -> None:
        self._closed = True
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        self._folder.cleanup()


def start_ingest(
    workspace: str | os.PathLike[str], path: str | os.PathLike[str], options: IngestOptions
) -> IngestJob:
    """Start ``ingest_file(path, options)`` into ``workspace`` in a child process."""
    folder = tempfile.TemporaryDirectory(prefix="mining-job-")
    request = Path(folder.name) / "request.pickle"
    request.write_bytes(pickle.dumps((str(workspace), str(path), options)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mining.ingest.job", folder.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    return IngestJob(proc, folder)


def _child(folder: Path) -> None:
    from mining.errors import MiningError
    from mining.ingest.run import ingest_file
    from mining.store import writing

    workspace, path, options = pickle.loads((folder / "request.pickle").read_bytes())

    def progress(share: float, message: str) -> None:
        print(json.dumps([share, message]), flush=True)

    try:
        with writing(workspace) as store:
            summary = ingest_file(store, path, options, progress=progress)
        outcome: tuple[str, object] = ("ok", summary)
    except MiningError as exc:
        outcome = ("error", exc)
    # Written last and renamed into place: a result file is always complete.
    tmp = folder / "result.pickle.part"
    tmp.write_bytes(pickle.dumps(outcome))
    tmp.replace(folder / "result.pickle")


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
