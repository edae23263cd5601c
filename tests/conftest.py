"""Shared fixtures: fresh in-memory workspaces and the paths of test data.

The real public logs and models live in ``../shared`` beside the checkout,
not in it.  Only the ``shared_logs`` and ``shared_models`` fixtures know that
place: a test that reads them asks for the fixture and builds each path from
it (``shared_logs / "helpdesk.xes.gz"``), and is skipped, with the folder it
expected named in the reason, when the folder or that file is absent -- so a
clone without ``../shared`` runs everything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mining.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"
FILES = Path(__file__).resolve().parent / "files"


class SharedFolder:
    """A folder of ``../shared``; ``folder / name`` is a file in it, or skips the test."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what

    def reason(self, name: str | None = None) -> str:
        wanted = f"{name} from {self.what}" if name else self.what
        return f"needs {wanted} in {self.path} (../shared beside the checkout); not present"

    def present(self) -> SharedFolder:
        """This folder, after skipping the test when it is absent."""
        if not self.path.is_dir():
            pytest.skip(self.reason())
        return self

    def __truediv__(self, name: str) -> Path:
        path = self.path / name
        if not path.is_file():
            pytest.skip(self.reason(name))
        return path


@pytest.fixture
def store():
    with Store() as s:
        yield s


@pytest.fixture(scope="session")
def shared_logs() -> SharedFolder:
    """The real public logs (``../shared/logs``); skips the test when they are absent."""
    return SharedFolder(ROOT.parent / "shared" / "logs", "the real public logs").present()


@pytest.fixture(scope="session")
def shared_models() -> SharedFolder:
    """The documented process models (``../shared/models``); skips the test when they are absent."""
    return SharedFolder(ROOT.parent / "shared" / "models", "the documented process models").present()
