"""Work in a child process, under limits on memory and time, so that no input can take the caller down.

A parse of an uploaded file or a long computation that runs inside the app's
server takes every session with it when it goes wrong: a spreadsheet whose
used range is a billion cells makes a Rust reader abort the process, a file
with thousands of columns grows until the kernel kills the biggest process.
So that work runs here, in a child process (``python -c`` with this module,
never a ``fork`` of a threaded server), and the caller gets its result, its
error as raised, or a :class:`~mining.errors.LimitExceeded` that says plainly
what the work needed ("the file export.xlsx needs more than 2 GB of memory to
read").  The command line runs the same work the same way.

**Memory** is capped with ``RLIMIT_DATA`` in the child: the writable memory
it maps (heap, anonymous maps, thread stacks).  Not ``RLIMIT_AS``, which also
counts address space reserved and never used: a child that has imported
DuckDB, polars and pyarrow holds 1.5-2.5 GB of it before any work.  The cap
is the limit on top of what the child holds when it is ready for work, plus 16 MB
per core (at most 256 MB) for the stacks of the thread pools the work starts;
DuckDB is held to half of what is left (:class:`mining.store.Store`), so it
spills to disk rather than fail.  The child runs with pyarrow's system allocator, whose
memory is counted as it is used (pyarrow's own reserves 1 GB at once).

**Time** is wall-clock, enforced by the caller, which kills the child.

**Cost.**  Starting Python and importing polars and DuckDB takes about half a
second, pm4py several.  A process that needs a kind of child again (the app)
keeps *spares*: children started ahead with that kind's modules imported,
waiting for one job each.  A spare serves one job and exits, so nothing one
file did can reach the next; a new spare starts once one is taken and no work has run for two seconds (so that its start-up does
not take a core from the work: on two cores a small upload's preview and ingest took a quarter longer).  A
*reusable* worker (``reuse=key``) serves job after job of its key and keeps
what its functions remember between them (the monitoring run's case facts):
the app keeps one per uploaded file (its header, previews and ingest), one
for the checks and one for monitoring; the command line one per kind.  It is
dropped when a job runs out of memory or time, and at most four wait idle.
Every idle child exits after ten minutes without a job.  Results come back pickled through a pipe: records,
never the data they were computed from.

In the child, :func:`report` sends a progress payload to the caller and
:func:`stop_requested` turns true when the caller asks the work to stop early
(and return what it has): a check cut short keeps what it aligned.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import pickle
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from mining.durations import duration_words, parse_duration
from mining.errors import LimitExceeded, MiningError, Option, phrase

__all__ = [
    "Job",
    "JobStatus",
    "Limits",
    "Task",
    "format_size",
    "machine_memory",
    "memory_limit",
    "parse_size",
    "prepare",
    "report",
    "run",
    "serve_child",
    "start",
    "stop_requested",
    "time_limit",
]

_GB = 1000**3
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": _GB,
    "gb": _GB,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE_EXAMPLES = "2GB, 512MB or 1.5GiB"
#: Headroom per core, for at most 16 cores, for the stacks of the thread pools a job starts (DuckDB's
#: 8 MB ones, polars' 2 MB ones): mapped, rarely touched, and not what a limit is meant to count.
_STACKS_PER_CORE = 16 * 1000**2
_STACK_CORES = 16
_HEADER = struct.Struct(">Q")
#: How long a finished one-shot child may take to exit before it is killed.
_EXIT_WAIT = 5.0
#: An idle child (a spare, a reusable worker) exits after this long without a job, giving its memory back.
_IDLE_SECONDS = 600.0
#: Text in a dead child's last words that says an allocation failed (Rust, C++, DuckDB, Python).
_OUT_OF_MEMORY = ("memory allocation of", "bad_alloc", "out of memory", "memoryerror", "cannot allocate")


# -- sizes and the defaults --------------------------------------------------------------------
def parse_size(text: str | int, *, what: str | Option = "size") -> int:
    """Bytes from ``2GB``, ``512 MB``, ``1.5GiB``, ``800M`` or a number of bytes; ``what`` names the
    setting in the error (an :class:`Option`, or a name such as ``MINING_MEMORY_LIMIT``).

    KB, MB, GB (and K, M, G) count in thousands, as DuckDB does; KiB, MiB, GiB in 1024s.

    Examples
    --------
    >>> parse_size("2GB"), parse_size("512 MiB"), parse_size("1.5G")
    (2000000000, 536870912, 1500000000)
    """
    if isinstance(text, int):
        value, unit = float(text), ""
    else:
        raw = text.strip().lower().replace(" ", "")
        digits = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = raw[len(digits) :]
        try:
            value = float(digits)
        except ValueError:
            value = -1.0
    if unit not in _UNITS or not value > 0 or value == float("inf"):
        raise MiningError(phrase(what, f": {text!r} is not a size; expected e.g. {_SIZE_EXAMPLES}"))
    return int(value * _UNITS[unit])


def format_size(size: float) -> str:
    """``'2 GB'``, ``'1.5 GB'``, ``'600 MB'``: in the units :func:`parse_size` reads first.

    Examples
    --------
    >>> format_size(2 * 1000**3), format_size(1_500_000_000), format_size(600 * 1000**2)
    ('2 GB', '1.5 GB', '600 MB')
    """
    for unit, scale in (("TB", 1000**4), ("GB", _GB), ("MB", 1000**2), ("KB", 1000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{int(size)} bytes"


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its control group's when that is less."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as fh:
            total = min(total, int(fh.read().strip()))
    return total


def memory_limit(explicit: str | int | None = None, *, option: Option | None = None) -> int:
    """The memory a child may use: ``explicit``, else ``$MINING_MEMORY_LIMIT``, else half the machine's
    memory (at least 1 GB)."""
    if explicit is not None:
        return parse_size(explicit, what=option or Option("memory_limit"))
    env = os.environ.get("MINING_MEMORY_LIMIT", "").strip()
    if env:
        return parse_size(env, what="MINING_MEMORY_LIMIT")
    return max(_GB, machine_memory() // 2)


def time_limit(default: float | None) -> float | None:
    """Seconds a child may run: ``$MINING_TIME_LIMIT`` (a duration such as ``30m``) when set, else ``default``."""
    env = os.environ.get("MINING_TIME_LIMIT", "").strip()
    if env:
        return parse_duration(env, what="MINING_TIME_LIMIT").total_seconds
    return default


@dataclass(frozen=True)
class Limits:
    """What a child may use: ``memory`` bytes (on top of what it holds when the work starts), ``seconds``
    of wall-clock time; ``None`` is no limit."""

    memory: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Task:
    """The work, as the messages name it: ``what`` needs more than 2 GB of memory to ``verb``.

    ``advice`` is what else helps, put before raising the limit in the hint ("split the export").
    """

    what: str
    verb: str = "finish"
    advice: str = ""


@dataclass(frozen=True)
class JobStatus:
    """The latest progress payload the child sent (``None`` before the first), and whether it is done."""

    progress: tuple[Any, ...] | None
    done: bool


# -- the child's side ---------------------------------------------------------------------------
_channel: IO[bytes] | None = None
_channel_lock = threading.Lock()
#: The caller's stop requests arrive on this pipe as job numbers; the one running is ``_job``.
_stop_fd: int | None = None
_job = 0
_stopped = False


def report(*payload: Any) -> None:
    """Send a progress payload to the caller (only in a child; elsewhere nothing happens)."""
    if _channel is None:
        return
    _send(_channel, ("progress", payload))


def stop_requested() -> bool:
    """Whether the caller asked the work to stop early and return what it has (never blocks)."""
    global _stopped
    if _stop_fd is not None and not _stopped:
        while select.select([_stop_fd], [], [], 0)[0]:
            data = os.read(_stop_fd, 8 * 64)
            if not data:
                break
            # A request for an earlier job (it ended before the request came) is left behind.
            _stopped = _stopped or _job in {
                _HEADER.unpack_from(data, i)[0] for i in range(0, len(data) - 7, 8)
            }
    return _stopped


def _send(channel: IO[bytes], frame: tuple[str, Any]) -> None:
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    with _channel_lock:
        channel.write(_HEADER.pack(len(data)) + data)
        channel.flush()


def _read_frame(fd: int) -> Any:
    """The next request from the caller, or ``None`` at the end of the pipe."""
    head = _read_exactly(fd, _HEADER.size)
    if head is None:
        return None
    (size,) = _HEADER.unpack(head)
    data = _read_exactly(fd, size)
    return None if data is None else pickle.loads(data)  # sent by the process that started this one


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _data_in_use() -> int:
    """The writable memory this process maps now (``VmData``), in bytes."""
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii") as fh,
    ):
        for line in fh:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cap_memory(limit: int | None, baseline: int) -> None:
    """Cap the process at ``baseline`` (what it held, ready, before its first job) plus ``limit``:
    a reusable worker's next job counts what earlier ones left behind."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if limit is None:
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
        return
    with contextlib.suppress(OSError, AttributeError):  # glibc: hand the heap's free memory back first
        ctypes.CDLL(None).malloc_trim(0)
    cap = baseline + limit + _STACKS_PER_CORE * min(os.cpu_count() or 1, _STACK_CORES)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))


def _watch_parent(parent: int) -> None:
    # The caller died (the server was stopped): its child has no one to answer to.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(70)


def _is_out_of_memory(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError) or (isinstance(seen, LimitExceeded) and seen.kind == "memory"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def serve_child(argv: Sequence[str]) -> None:
    """The child's main loop (``argv``: request fd, result fd, stop fd, parent pid, idle seconds, modules).

    Not for callers: :func:`start` runs it in the child.  Each request is
    ``(number, function, args, kwargs, memory, once)``; the answer is one frame
    ``("ok", value)``, ``("error", MiningError)``, ``("memory", None)`` or
    ``("crash", traceback)``, after any number of ``("progress", payload)``.
    """
    global _channel, _job, _stop_fd, _stopped
    fd_in, fd_out, fd_stop, parent, idle, *preload = argv
    _stop_fd = int(fd_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the caller, which stops us
    threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True, name="watch-parent").start()
    for entry in preload:
        module, _, warm = entry.partition(":")
        loaded = importlib.import_module(module)
        if warm:  # a first run of the code paths the jobs will take, on data of our own
            getattr(loaded, warm)()
    baseline = _data_in_use()
    requests = int(fd_in)
    _channel = os.fdopen(int(fd_out), "wb")
    # An idle child that waits longer than ``idle`` seconds for a job exits, giving its memory back.
    while (
        select.select([requests], [], [], float(idle))[0] and (request := _read_frame(requests)) is not None
    ):
        _job, func, args, kwargs, memory, once = request
        _stopped = False
        _cap_memory(memory, baseline)
        try:
            frame: tuple[str, Any] = ("ok", func(*args, **kwargs))
        except BaseException as exc:  # everything goes back to the caller, which decides
            if _is_out_of_memory(exc):
                frame = ("memory", None)
            elif isinstance(exc, MiningError):
                frame = ("error", exc)
            else:
                frame = ("crash", "".join(traceback.format_exception(exc)))
        try:
            _send(_channel, frame)
        except MemoryError:
            _send(_channel, ("memory", None))
        except Exception:  # a result that does not pickle is a bug, reported as such
            _send(_channel, ("crash", traceback.format_exc()))
        if once or frame[0] in {"memory", "crash"}:
            break  # a process that ran out of memory or failed is not trusted with another job
    _channel.close()


# -- the caller's side ---------------------------------------------------------------------------
class _Worker:
    """One child process: its pipes, its stderr (a temporary file), and the modules it imported."""

    def __init__(self, preload: tuple[str, ...]) -> None:
        self.preload = preload
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        stop_r, self.stop_w = os.pipe()
        os.set_blocking(self.stop_w, False)
        self.jobs = 0
        self.stderr = tempfile.TemporaryFile(prefix="mining-child-")  # noqa: SIM115 - closed with the child
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "ARROW_DEFAULT_MEMORY_POOL": "system",
            "PM4PY_SHOW_PROGRESS_BAR": "false",
        }
        code = "import sys; from mining.limits import serve_child; serve_child(sys.argv[1:])"
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    code,
                    *map(str, (request_r, result_w, stop_r, os.getpid(), _IDLE_SECONDS)),
                    *preload,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.stderr,
                pass_fds=(request_r, result_w, stop_r),
                env=env,
            )
        finally:
            for fd in (request_r, result_w, stop_r):
                os.close(fd)
        self.requests = os.fdopen(request_w, "wb")
        self.results = result_r
        self.closed = False
        self.idle_since = time.monotonic()
        os.set_blocking(result_r, False)

    def usable(self) -> bool:
        """Alive, and not about to leave for having waited too long (it exits after ``_IDLE_SECONDS``)."""
        return self.alive() and time.monotonic() - self.idle_since < _IDLE_SECONDS - 30

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, request: tuple[Any, ...]) -> int:
        """Send a job; return its number (what a stop request names)."""
        self.jobs += 1
        data = pickle.dumps((self.jobs, *request), protocol=pickle.HIGHEST_PROTOCOL)
        self.requests.write(_HEADER.pack(len(data)) + data)
        self.requests.flush()
        return self.jobs

    def stop(self, job: int) -> None:
        with contextlib.suppress(OSError):  # a full pipe already holds a request; a gone child needs none
            os.write(self.stop_w, _HEADER.pack(job))

    def last_words(self) -> str:
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - 8192))
        return self.stderr.read().decode("utf-8", "replace")

    def close(self, *, kill: bool) -> None:
        if self.closed:
            return
        self.closed = True
        if kill and self.alive():
            self.proc.kill()
        with contextlib.suppress(OSError):
            self.requests.close()  # EOF: an idle child leaves its loop and exits
        try:
            self.proc.wait(timeout=_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.results, self.stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.stderr.close()


_pool_lock = threading.Lock()
#: Idle children by (modules imported, reuse key): spares (key None) and reusable workers.
_idle: dict[tuple[tuple[str, ...], str | None], list[_Worker]] = {}
#: How many spares to keep of each kind of child (by its modules), once asked to.
_spares: dict[tuple[str, ...], int] = {}
#: Kinds started at least once: the second start of a kind keeps a spare from then on.
_started: set[tuple[str, ...]] = set()
#: Reusable workers kept idle, over all keys: the ones idle longest go first.
_MAX_IDLE_WORKERS = 4
#: Jobs started and not finished in this process, and when the last one started or ended.
_running = 0
_last_activity = 0.0
#: A spare that replaces a taken one starts once no job has run for this long (its start-up and
#: warm-up would take a core from the work that took its place), or after ``_QUIET_WAIT`` at most.
_QUIET = 2.0
_QUIET_WAIT = 60.0
#: Kinds whose spares wait for a quiet moment to start.
_pending: set[tuple[str, ...]] = set()


def prepare(preload: Sequence[str], *, spares: int = 1) -> None:
    """Keep ``spares`` children with ``preload`` imported ready, and start them now, or once the work
    running in children has been quiet for a moment (see ``_QUIET``).

    The app calls this when a page will soon start work of that kind (the
    Upload page, a model being chosen), so the work does not wait for imports.
    """
    kind = tuple(preload)
    with _pool_lock:
        _spares[kind] = max(spares, _spares.get(kind, 0))
        busy = _running or time.monotonic() - _last_activity < _QUIET or kind in _pending
    if busy:
        _refill_later(kind)
    else:
        _refill(kind)


def _refill_later(kind: tuple[str, ...]) -> None:
    with _pool_lock:
        if kind in _pending:
            return
        _pending.add(kind)
    threading.Thread(target=_refill_when_quiet, args=(kind,), daemon=True, name="mining-spare").start()


def _refill(kind: tuple[str, ...]) -> None:
    with _pool_lock:
        idle = _idle.setdefault((kind, None), [])
        stale = [w for w in idle if not w.usable()]
        for worker in stale:
            idle.remove(worker)
        missing = _spares.get(kind, 0) - len(idle)
    for worker in stale:
        worker.close(kill=True)
    for _ in range(missing):
        worker = _Worker(kind)
        with _pool_lock:
            _idle[(kind, None)].append(worker)


def _refill_when_quiet(kind: tuple[str, ...]) -> None:
    deadline = time.monotonic() + _QUIET_WAIT
    try:
        while time.monotonic() < deadline:
            with _pool_lock:
                quiet = _running == 0 and time.monotonic() - _last_activity >= _QUIET
            if quiet:
                break
            time.sleep(0.25)
        _refill(kind)
    finally:
        with _pool_lock:
            _pending.discard(kind)


def _activity(change: int) -> None:
    global _running, _last_activity
    with _pool_lock:
        _running += change
        _last_activity = time.monotonic()


def _take(kind: tuple[str, ...], reuse: str | None) -> tuple[_Worker, bool]:
    """An idle worker of ``reuse``, else a spare of ``kind``, else a new child; and whether it was a spare."""
    dead = []
    found: tuple[_Worker, bool] | None = None
    with _pool_lock:
        if reuse is None and kind in _started:
            _spares.setdefault(kind, 1)
        _started.add(kind)
        keys = [(kind, reuse), (kind, None)] if reuse is not None else [(kind, None)]
        for key in keys:
            idle = _idle.get(key, [])
            while idle and found is None:
                worker = idle.pop(0)
                if worker.usable():
                    found = (worker, key[1] is None)
                else:
                    dead.append(worker)
            if found:
                break
    for worker in dead:
        worker.close(kill=True)
    return found or (_Worker(kind), False)


def _give_back(worker: _Worker, reuse: str) -> None:
    gone = [worker]
    with _pool_lock:
        idle = _idle.setdefault((worker.preload, reuse), [])
        if not idle and worker.alive():
            worker.idle_since = time.monotonic()
            idle.append(worker)
            kept = sorted(
                (w for (_, key), ws in _idle.items() if key is not None for w in ws),
                key=lambda w: w.idle_since,
            )
            gone = kept[: max(0, len(kept) - _MAX_IDLE_WORKERS)]
            for (_, key), ws in _idle.items():
                if key is not None:
                    ws[:] = [w for w in ws if w not in gone]
    for old in gone:
        old.close(kill=True)


class Job:
    """Work running in a child: poll :meth:`status`, then take :meth:`result`; or :meth:`stop` / :meth:`cancel`."""

    def __init__(self, worker: _Worker, number: int, task: Task, limits: Limits, reuse: str | None) -> None:
        self._worker, self._number, self.task, self.limits, self._reuse = worker, number, task, limits, reuse
        self._deadline = time.monotonic() + limits.seconds if limits.seconds else None
        self._buffer = b""
        self._progress: tuple[Any, ...] | None = None
        self._outcome: tuple[str, Any] | None = None
        self._closed = False

    # -- polling -----------------------------------------------------------------------------
    def status(self, wait: float = 0.0) -> JobStatus:
        """The latest progress and whether the child is done, after waiting up to ``wait`` seconds for news."""
        self._pump(wait)
        return JobStatus(self._progress, self._outcome is not None)

    def _pump(self, wait: float) -> None:
        """Read what the child sent, waiting up to ``wait`` seconds for something; settle the outcome."""
        if self._outcome is not None:
            return
        if self._deadline is not None:
            wait = max(0.0, min(wait, self._deadline - time.monotonic()))
        if wait:
            select.select([self._worker.results], [], [], wait)
        eof = False
        while True:
            try:
                chunk = os.read(self._worker.results, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                eof = True
                break
            self._buffer += chunk
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                break
            kind, value = pickle.loads(self._buffer[_HEADER.size : _HEADER.size + size])  # our own child's
            self._buffer = self._buffer[_HEADER.size + size :]
            if kind == "progress":
                self._progress = value
            else:
                self._outcome = (kind, value)
                return
        if eof:
            self._worker.proc.wait()
            self._outcome = ("died", self._worker.proc.returncode)
        elif self._deadline is not None and time.monotonic() >= self._deadline:
            self._worker.proc.kill()
            self._outcome = ("time", None)

    # -- the end -----------------------------------------------------------------------------
    def result(self) -> Any:
        """The function's return value; raises its :class:`MiningError` as raised, or
        :class:`LimitExceeded` when it needed more memory or time than allowed."""
        while self._outcome is None:
            self._pump(0.5)
        kind, value = self._outcome
        words = self._worker.last_words() if kind in {"died", "crash"} else ""
        self._finish()
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        if kind == "memory" or (kind == "died" and _died_of_memory(value, words, self.limits)):
            raise _memory_error(self.task, self.limits, _asked(words))
        if kind == "time":
            raise _time_error(self.task, self.limits)
        if kind == "cancelled":
            raise MiningError(f"{self.task.what} was cancelled; nothing was changed")
        if kind == "died":
            msg = (
                f"the process that was to {self.task.verb} {self.task.what} crashed ({_signal_name(value)}); "
                "nothing was changed"
            )
            hint = "if it happens again, the input may be damaged, or it meets a bug: please report it"
            raise MiningError(msg, hint=_last_line(words) or hint)
        # A bug in the work: not the user's to fix, so it keeps its traceback.
        raise RuntimeError(f"{self.task.what}: the work failed in its child process:\n{value}")

    def stop(self) -> None:
        """Ask the work to stop early and return what it has (it sees :func:`stop_requested`)."""
        if self._outcome is None:
            self._worker.stop(self._number)

    def cancel(self) -> None:
        """Kill the child now unless it is done; harmless after :meth:`result`."""
        if self._outcome is None:
            self._outcome = ("cancelled", None)
        self._finish()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        _activity(-1)
        if self._reuse is not None and self._outcome is not None and self._outcome[0] in {"ok", "error"}:
            _give_back(self._worker, self._reuse)
        else:
            # A one-shot child has sent all it will: killing it spares the caller its interpreter's shutdown.
            self._worker.close(kill=True)

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def start(
    func: Callable[..., Any],
    *args: Any,
    task: Task,
    limits: Limits,
    preload: Sequence[str] = (),
    reuse: str | None = None,
    keep: bool = True,
    **kwargs: Any,
) -> Job:
    """Start ``func(*args, **kwargs)`` in a child under ``limits``; ``func`` must be a module-level function.

    ``preload`` names the modules the child imports before it takes the job
    (a spare has them imported already); an entry ``module:function`` also
    calls that function once, to warm the code paths the jobs will take.  ``reuse`` names a worker that
    serves job after job (see the module's notes): the job runs in it, or in
    a spare that becomes it; ``keep=False`` ends that worker after this job.
    """
    kind = tuple(preload)
    kept = reuse if keep else None
    request = (func, args, kwargs, limits.memory, kept is None)
    worker, spare = _take(kind, reuse)
    try:
        number = worker.send(request)
    except BrokenPipeError:  # an idle child died since it was checked: start a fresh one
        worker.close(kill=True)
        worker, spare = _Worker(kind), False
        number = worker.send(request)
    _activity(+1)
    job = Job(worker, number, task, limits, kept)
    if spare and _spares.get(kind):
        _refill_later(kind)
    return job


def run(
    func: Callable[..., Any],
    *args: Any,
    task: Task,
    limits: Limits,
    preload: Sequence[str] = (),
    reuse: str | None = None,
    keep: bool = True,
    progress: Callable[..., None] | None = None,
    stop: Callable[[], bool] | None = None,
    **kwargs: Any,
) -> Any:
    """:func:`start`, then wait for the result: ``progress(*payload)`` for each new payload, and
    :meth:`Job.stop` once ``stop()`` turns true (the work then returns what it has)."""
    job = start(func, *args, task=task, limits=limits, preload=preload, reuse=reuse, keep=keep, **kwargs)
    try:
        seen: tuple[Any, ...] | None = None
        stopping = False
        while True:
            status = job.status(0.1)
            if progress is not None and status.progress is not None and status.progress is not seen:
                seen = status.progress
                progress(*seen)
            if status.done:
                return job.result()
            if stop is not None and not stopping and stop():
                stopping = True
                job.stop()
    finally:
        job.cancel()


# -- what a dead child means --------------------------------------------------------------------
def _died_of_memory(returncode: int, words: str, limits: Limits) -> bool:
    if limits.memory is None:
        return False
    text = words.lower()
    if any(w in text for w in _OUT_OF_MEMORY):
        return True
    # Killed without a word by someone else: the kernel's out-of-memory killer.
    return returncode == -signal.SIGKILL


def _asked(words: str) -> int | None:
    """The size of the allocation that failed, when the child said it (Rust does)."""
    found = re.findall(r"memory allocation of (\d+) bytes failed", words)
    return int(found[-1]) if found else None


def _memory_error(task: Task, limits: Limits, asked: int | None = None) -> LimitExceeded:
    limit = limits.memory or 0
    stopped = "it was stopped, and nothing was changed"
    if asked is not None and asked > machine_memory():
        # No limit would do: the input asks for more than the machine has (a far-away spreadsheet cell).
        return LimitExceeded(
            f"{task.what} asked for {format_size(asked)} of memory at once to {task.verb}, more than this "
            f"machine has (the limit is {format_size(limit)}); {stopped}",
            kind="memory",
            limit=limit,
            hint="check the file, it may be damaged: a spreadsheet whose used range reaches far beyond its "
            "data asks for this (save it again from the spreadsheet program, or export the sheet as CSV)",
        )
    more = format_size(max(2 * limit, _GB)).replace(" ", "")
    advice = f"{task.advice}, or " if task.advice else ""
    return LimitExceeded(
        f"{task.what} needs more than {format_size(limit)} of memory to {task.verb}; {stopped}",
        kind="memory",
        limit=limit,
        hint=phrase(f"{advice}give it more memory with ", Option("memory_limit", more)),
    )


def _time_error(task: Task, limits: Limits) -> LimitExceeded:
    seconds = limits.seconds or 0.0
    advice = f"{task.advice}, or " if task.advice else ""
    return LimitExceeded(
        f"{task.what} took longer than {duration_words(seconds)} to {task.verb}; it was stopped, "
        "and nothing was changed",
        kind="time",
        limit=seconds,
        hint=phrase(f"{advice}give it more time with ", Option("time_limit", "1h")),
    )


def _signal_name(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def _last_line(words: str) -> str | None:
    lines = [ln.strip() for ln in words.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else None
