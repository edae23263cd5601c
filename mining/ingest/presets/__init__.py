"""Export presets: how to turn one business system's export into an event log.

Each preset lives in ``mining/ingest/presets/<name>.py`` and exposes ``PRESET``
(a :class:`mining.ingest.presets.base.Preset`).  Modules are imported only when a
preset is asked for or detection runs, so ``import mining`` and the CLI's
start-up stay light (polars is imported by the presets, not here)::

    from mining.ingest.presets import detect_preset, get_preset, presets

    presets()                   # [("jira", "Jira (issue changelog)", "..."), ...]
    name, scores = detect_preset(raw)   # best score >= 0.5, or None
    table = get_preset(name).build(raw, PresetOptions())

Detection is a ranking, not a guess: a preset scores an export from its
tables' columns and its documents' keys, and the best score at or above
:data:`THRESHOLD` wins; a plain event log scores below it everywhere, so the
ordinary column detection runs unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mining.errors import IngestError

if TYPE_CHECKING:
    from mining.ingest.presets.base import Preset, RawExport

__all__ = [
    "PRESET_MODULES",
    "THRESHOLD",
    "detect_preset",
    "get_preset",
    "preset_names",
    "presets",
    "value_presets",
]

#: Every preset, in the order the app lists them; the generic change log is the fallback, last.
PRESET_MODULES: tuple[str, ...] = (
    "jira",
    "servicenow",
    "zendesk",
    "shopify",
    "square",
    "sap",
    "odoo",
    "ocel",
    "changelog",
    "milestones",
)

#: The lowest detection score that selects a preset.
THRESHOLD = 0.5


def _load(name: str) -> Preset | None:
    module = f"mining.ingest.presets.{name}"
    try:
        return importlib.import_module(module).PRESET
    except ModuleNotFoundError as exc:
        # A preset module that is not there (yet) is skipped; a module that is
        # there but fails to import is a bug and keeps its traceback.
        if exc.name == module:
            return None
        raise


def _available() -> list[Preset]:
    return [p for p in (_load(n) for n in PRESET_MODULES) if p is not None]


def preset_names() -> tuple[str, ...]:
    """The names ``--preset`` accepts, besides ``auto`` and ``none``."""
    return tuple(p.name for p in _available())


def presets() -> list[tuple[str, str, str]]:
    """``(name, title, description)`` of every preset, for the app's selector and ``mining presets``."""
    return [(p.name, p.title, p.description) for p in _available()]


def get_preset(name: str) -> Preset:
    """The preset called ``name``; :class:`IngestError` lists the known names."""
    preset = _load(name) if name in PRESET_MODULES else None
    if preset is None:
        known = ", ".join(preset_names())
        msg = f"unknown preset {name!r}; expected one of: {known} (or 'auto', 'none')"
        raise IngestError(msg)
    return preset


def value_presets(columns: Sequence[str]) -> list[Preset]:
    """The presets told by a plain file's values that find its header (``columns``) worth reading."""
    return [p for p in _available() if p.by_values is not None and p.by_values(columns)]


def detect_preset(raw: RawExport) -> tuple[str | None, dict[str, float]]:
    """The preset that fits ``raw`` best with a score of at least :data:`THRESHOLD`, and every score.

    Scores are rounded to 0.01; on a tie the preset listed first in
    :data:`PRESET_MODULES` wins (the specific systems before the generic
    change log).
    """
    scores = {p.name: round(float(p.detect(raw)), 2) for p in _available()}
    best = max(scores, key=lambda n: scores[n], default=None)
    if best is None or scores[best] < THRESHOLD:
        return None, scores
    return best, scores
