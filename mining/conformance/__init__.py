"""Conformance: documented process against recorded reality.

* :mod:`~mining.conformance.models` reads BPMN 2.0, PNML or a list of steps
  into one accepting Petri net (:func:`load_model`);
* :mod:`~mining.conformance.labels` matches the model's task labels to the
  log's activities (:class:`LabelMapping` carries what the user confirmed);
* :mod:`~mining.conformance.check` aligns or replays the log's variants and
  computes fitness, precision and the fitting cases (:func:`conform`);
* :mod:`~mining.conformance.deviations` turns alignments into deviations,
  sentences, the allowlist, the map overlay and the case export.

Nothing here imports pm4py or r4pm at import time.
"""

from mining.conformance.check import ConformanceResult, conform
from mining.conformance.deviations import Allowlist, Deviation, deviating_cases, export_cases
from mining.conformance.labels import LabelMapping
from mining.conformance.models import ProcessModel, from_discovered, load_model

__all__ = [
    "Allowlist",
    "ConformanceResult",
    "Deviation",
    "LabelMapping",
    "ProcessModel",
    "conform",
    "deviating_cases",
    "export_cases",
    "from_discovered",
    "load_model",
]
