"""A new log's file is hashed in a thread beside its staging: the same hash, and without a thread."""

from __future__ import annotations

import hashlib
import threading

import pytest

from mining.ingest import ingest_file
from tests.conftest import FILES

TINY = FILES / "app" / "tiny.csv"


def test_the_hash_of_a_new_log_is_the_files_and_a_second_ingest_is_unchanged(store):
    first = ingest_file(store, TINY)
    assert first.status == "loaded"
    assert first.content_hash == hashlib.sha256(TINY.read_bytes()).hexdigest()
    again = ingest_file(store, TINY)
    assert (again.status, again.content_hash, again.events) == ("unchanged", first.content_hash, first.events)


def test_without_a_thread_the_file_is_hashed_in_place(store, monkeypatch: pytest.MonkeyPatch):
    started: list[str] = []

    def refuse(self: threading.Thread) -> None:
        started.append(self.name)
        msg = "can't start new thread"
        raise RuntimeError(msg)

    monkeypatch.setattr(threading.Thread, "start", refuse)
    summary = ingest_file(store, TINY)
    assert started == ["mining-content-hash"]
    assert summary.status == "loaded"
    assert summary.content_hash == hashlib.sha256(TINY.read_bytes()).hexdigest()
