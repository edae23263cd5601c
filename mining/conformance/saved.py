"""Models and label mappings kept in the workspace, so a check can be repeated across sessions.

An uploaded model is stored by the SHA-256 of its bytes, with its file name
and format; the label mapping confirmed for a log and a model is stored as
the ``--map-file`` YAML, one per (log, model), the last one saved winning.
The app writes both; ``mining conform`` and ``mining monitor --model`` read
the mapping of the log and model they are given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.conformance.labels import LabelMapping
from mining.errors import ModelError
from mining.models import load_model

if TYPE_CHECKING:
    from mining.models import ProcessModel
    from mining.store import Store

__all__ = [
    "StoredModel",
    "last_model",
    "model_sha256",
    "save_mapping",
    "saved_mapping",
    "store_model",
    "stored_model",
    "stored_models",
]


@dataclass(frozen=True)
class StoredModel:
    """A model kept in the workspace (its bytes are read with :func:`stored_model`)."""

    sha256: str
    name: str
    format: str
    stored_at: dt.datetime


def model_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_model(store: Store, name: str, data: bytes) -> tuple[StoredModel, ProcessModel]:
    """Read the model (a bad one raises here, nothing is stored) and keep it; the same bytes are kept once."""
    model = load_model(data, name)
    digest = model_sha256(data)
    with store.transaction():
        store.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, now()) ON CONFLICT (sha256) DO UPDATE SET name = excluded.name",
            [digest, name, model.kind, data],
        )
    (found,) = [m for m in stored_models(store) if m.sha256 == digest]
    return found, model


def stored_models(store: Store) -> list[StoredModel]:
    """The workspace's models, the most recently stored first."""
    if not _has_tables(store):
        return []
    rows = store.query(
        "SELECT sha256, name, format, stored_at FROM models ORDER BY stored_at DESC, name"
    ).rows
    return [StoredModel(str(h), str(n), str(f), t) for h, n, f, t in rows]


def stored_model(store: Store, sha256: str) -> tuple[str, bytes]:
    """The name and bytes of a stored model."""
    rows = store.query("SELECT name, content FROM models WHERE sha256 = ?", [sha256]).rows
    if not rows:
        msg = f"no model with hash {sha256[:12]} in the workspace; upload it again"
        raise ModelError(msg)
    return str(rows[0][0]), bytes(rows[0][1])


def save_mapping(store: Store, log_id: int, sha256: str, model_name: str, mapping: LabelMapping) -> None:
    """Keep ``mapping`` as the one of this log and model (replacing an earlier one), in one transaction."""
    with store.transaction():
        store.execute(
            "INSERT INTO label_mappings VALUES (?, ?, ?, ?, now()) ON CONFLICT (log_id, model_sha256) "
            "DO UPDATE SET mapping = excluded.mapping, model_name = excluded.model_name, saved_at = now()",
            [log_id, sha256, model_name, mapping.to_yaml()],
        )


def saved_mapping(store: Store, log_id: int, sha256: str) -> LabelMapping | None:
    """The mapping saved for this log and model, or None."""
    if not _has_tables(store):
        return None
    text = store.scalar(
        "SELECT mapping FROM label_mappings WHERE log_id = ? AND model_sha256 = ?", [log_id, sha256]
    )
    return None if text is None else LabelMapping.from_yaml_text(str(text), "the saved label mapping")


def last_model(store: Store, log_id: int) -> str | None:
    """The SHA-256 of the model this log's mapping was last saved for, or None."""
    if not _has_tables(store):
        return None
    found = store.scalar(
        "SELECT model_sha256 FROM label_mappings WHERE log_id = ? ORDER BY saved_at DESC LIMIT 1", [log_id]
    )
    return None if found is None else str(found)


def _has_tables(store: Store) -> bool:
    # A workspace from before the models migration, opened read-only, has no such table yet.
    return bool(
        store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'label_mappings'")
    )
