"""Where a command will write: checked before any work, so a typo in a path costs nothing.

An ingest of millions of rows, a conformance check or a monitoring run that
ends in "cannot write report.html" has wasted its minutes, and an ingest that
stored its log and then failed to write ``--rejects`` has half-done what was
asked.  Every path a command writes (``--output``, ``-o``, ``--report``,
``--rejects``, ``--cases``, ``--parquet``) is therefore checked first: its
folder must exist and be writable, and the file, when it is there, must be a
file that may be replaced.  The writers still report what goes wrong later
(a full disk) as an :class:`~mining.errors.OutputError`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mining.errors import Option, OutputError, phrase

__all__ = ["check_output", "check_output_folder"]


def check_output(path: str | os.PathLike[str], option: str) -> None:
    """Raise :class:`OutputError` unless the file ``path``, given by ``--<option>``, can be written."""
    target = Path(path)
    named = Option(option, str(path))
    if target.is_dir():
        raise OutputError(phrase(named, ": that is a folder; expected a file name"))
    folder = target.parent
    if not folder.exists():
        raise OutputError(
            phrase(named, f": the folder {folder} does not exist; nothing was done"),
            hint=f"create it first (mkdir -p {folder}), or write the file elsewhere",
        )
    if not folder.is_dir():
        raise OutputError(phrase(named, f": {folder} is a file, not a folder; nothing was done"))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            phrase(named, f": the folder {folder} is not writable; nothing was done"),
            hint="write the file to a folder you can write",
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(
            phrase(named, f": {target} is read-only; nothing was done"),
            hint="make it writable, or write another file",
        )


def check_output_folder(path: str | os.PathLike[str], option: str) -> None:
    """Raise :class:`OutputError` unless the folder ``path`` (created when missing) can be written.

    A URL (``s3://...``) is left to the writer.
    """
    text = os.fspath(path)
    if "://" in text:
        return
    target = Path(text)
    named = Option(option, text)
    if target.exists() and not target.is_dir():
        raise OutputError(phrase(named, ": that is a file; expected a folder"))
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(phrase(named, f": {existing} is a file, not a folder; nothing was done"))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            phrase(named, f": the folder {existing} is not writable; nothing was done"),
            hint="write to a folder you can write",
        )
