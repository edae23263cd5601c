"""An ingest holds DuckDB's memory at INGEST_MEMORY, gives the workspace's own limit back after, and
loads what needed more once again without the cap."""

from __future__ import annotations

import duckdb
import pytest

from mining.ingest import run
from mining.store import Store
from tests.conftest import SAMPLE_LOGS

SERVICE_DESK = SAMPLE_LOGS / "service_desk.csv"


def _limit(store: Store) -> str:
    return str(store.scalar("SELECT current_setting('memory_limit')"))


def _shown(limit: str) -> str:
    """The memory limit as DuckDB writes it back once set to ``limit``."""
    with duckdb.connect() as probe:
        probe.execute("SET memory_limit = ?", [limit])
        return str(probe.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def _ingest_watching(store: Store) -> tuple[set[str], object]:
    """Ingest the sample, noting the memory limit at every progress step."""
    seen: set[str] = set()
    summary = run.ingest_file(store, SERVICE_DESK, progress=lambda share, message: seen.add(_limit(store)))
    return seen, summary


def test_the_ingest_runs_under_the_cap_and_gives_the_limit_back(tmp_path):
    with Store(tmp_path / "ws.duckdb") as store:
        before = _limit(store)
        assert before != _shown(f"{run.INGEST_MEMORY // 1000**2}MB")  # DuckDB's default: most of the machine
        seen, summary = _ingest_watching(store)
        assert seen == {_shown(f"{run.INGEST_MEMORY // 1000**2}MB")}
        assert _limit(store) == before
        assert (summary.cases, summary.events) == (2400, 16649)


def test_a_workspace_limited_below_the_cap_keeps_its_own_limit(tmp_path):
    with Store(tmp_path / "ws.duckdb", memory_limit="500MB") as store:
        seen, summary = _ingest_watching(store)
        assert seen == {_shown("500MB")}
        assert _limit(store) == _shown("500MB")
        assert summary.events == 16649


def _readings(store: Store) -> tuple[list[str], object]:
    """Ingest the sample, noting the memory limit each time the file starts to be read."""
    starts: list[str] = []

    def progress(share: float, message: str) -> None:
        if message.startswith("Reading "):
            starts.append(_limit(store))

    return starts, run.ingest_file(store, SERVICE_DESK, progress=progress)


def test_an_ingest_that_runs_out_under_the_cap_is_run_again_without_it(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "INGEST_MEMORY", 1_000_000)  # far too little for any load
    with Store(tmp_path / "ws.duckdb") as store:
        before = _limit(store)
        starts, summary = _readings(store)
        # The first run, under 1 MB, ran out and left nothing; the second, with the workspace's limit, loaded.
        assert starts == [_shown("1MB"), before]
        assert (summary.cases, summary.events, summary.status) == (2400, 16649, "loaded")
        assert store.scalar("SELECT count(*) FROM events") == 16649
        assert store.scalar("SELECT count(*) FROM logs") == 1
        assert _limit(store) == before


def test_an_ingest_that_fits_runs_once(tmp_path):
    with Store(tmp_path / "ws.duckdb") as store:
        starts, _ = _readings(store)
    assert starts == [_shown(f"{run.INGEST_MEMORY // 1000**2}MB")]


@pytest.mark.parametrize("limit", ["2GB", "800MB"])
def test_memory_cap_says_whether_it_lowered_the_limit(limit):
    with Store(memory_limit=limit) as store:
        with store.memory_cap(1_000_000_000) as lowered:
            assert lowered == (limit == "2GB")
            assert _limit(store) == (_shown("1000MB") if lowered else _shown(limit))
        assert _limit(store) == _shown(limit)
