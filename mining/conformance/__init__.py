"""Conformance: documented process against recorded reality.

* models are read by :mod:`mining.models` (:func:`load_model`,
  :func:`from_discovered`), re-exported here for convenience;
* :mod:`~mining.conformance.labels` matches the model's task labels to the
  log's activities (:class:`LabelMapping` carries what the user confirmed);
* :mod:`~mining.conformance.check` aligns or replays the log's variants and
  computes fitness, precision and the fitting cases (:func:`conform`);
* :mod:`~mining.conformance.deviations` turns alignments into deviations,
  :mod:`~mining.conformance.sentences` words them,
  :mod:`~mining.conformance.allowlist` takes the accepted ones off,
  :mod:`~mining.conformance.overlay` finds what to draw over the process map
  and :mod:`~mining.conformance.cases` lists and exports the deviating cases;
* :mod:`~mining.conformance.records` holds the results;
* :mod:`~mining.conformance.rules` checks declarative rules without a model.

Nothing here imports pm4py or r4pm at import time.
"""

from mining.conformance.allowlist import Allowlist
from mining.conformance.cases import deviating_cases, export_cases
from mining.conformance.check import ENGINES, METHODS, conform
from mining.conformance.labels import LabelMapping, LabelMatch, Suggestion
from mining.conformance.records import (
    KINDS,
    ConformanceResult,
    DeviatingCase,
    Deviation,
    MapOverlay,
    OverlayEdge,
    VariantCheck,
)
from mining.models import MODEL_SUFFIXES, ProcessModel, from_discovered, load_model

__all__ = [
    "ENGINES",
    "KINDS",
    "METHODS",
    "MODEL_SUFFIXES",
    "Allowlist",
    "ConformanceResult",
    "DeviatingCase",
    "Deviation",
    "LabelMapping",
    "LabelMatch",
    "MapOverlay",
    "OverlayEdge",
    "ProcessModel",
    "Suggestion",
    "VariantCheck",
    "conform",
    "deviating_cases",
    "export_cases",
    "from_discovered",
    "load_model",
]
