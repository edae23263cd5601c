"""Shared fixtures: fresh in-memory workspaces and the paths of test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mining.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED_LOGS = ROOT.parent / "shared" / "logs"
SHARED_MODELS = ROOT.parent / "shared" / "models"
SAMPLE_LOGS = ROOT / "sample_logs"
FILES = Path(__file__).resolve().parent / "files"


@pytest.fixture
def store():
    with Store() as s:
        yield s


@pytest.fixture
def shared_logs() -> Path:
    if not SHARED_LOGS.is_dir():
        pytest.fail(f"the real logs are expected at {SHARED_LOGS} (../shared/logs beside the checkout)")
    return SHARED_LOGS
