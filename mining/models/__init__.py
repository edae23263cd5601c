"""Process models: reading (BPMN 2.0, PNML, steps), discovery from stored variants, BPMN / PNML export.

A model to check against is a :class:`ProcessModel` holding a plain-value
Petri net (:class:`NetSpec`), read with :func:`load_model` or taken from a
discovery with :func:`from_discovered`.  pm4py stays behind
:mod:`mining.pm4py_adapter`; importing this package does not import pm4py.
"""

from __future__ import annotations

from mining.models.discover import (
    ALGORITHMS,
    MAX_ACTIVITIES,
    DiscoveredModel,
    discover,
    discover_variants,
    from_discovered,
    to_bpmn_xml,
    to_pnml_xml,
    trace_variants,
    write_model,
)
from mining.models.net import NetSpec, ProcessModel
from mining.models.read import MODEL_SUFFIXES, load_model

__all__ = [
    "ALGORITHMS",
    "MAX_ACTIVITIES",
    "MODEL_SUFFIXES",
    "DiscoveredModel",
    "NetSpec",
    "ProcessModel",
    "discover",
    "discover_variants",
    "from_discovered",
    "load_model",
    "to_bpmn_xml",
    "to_pnml_xml",
    "trace_variants",
    "write_model",
]
