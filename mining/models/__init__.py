"""Process models: discovery from stored variants, and BPMN / PNML export.

pm4py stays behind :mod:`mining.pm4py_adapter`; importing this package does
not import pm4py.
"""

from __future__ import annotations

from mining.models.discover import (
    ALGORITHMS,
    DiscoveredModel,
    discover,
    discover_variants,
    to_bpmn_xml,
    to_pnml_xml,
    trace_variants,
    write_model,
)

__all__ = [
    "ALGORITHMS",
    "DiscoveredModel",
    "discover",
    "discover_variants",
    "to_bpmn_xml",
    "to_pnml_xml",
    "trace_variants",
    "write_model",
]
