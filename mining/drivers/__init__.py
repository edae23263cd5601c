"""Why: root-cause drivers of an outcome, and segments compared with the rest.

* :mod:`~mining.drivers.features`: one candidate value per case from attributes and the log's behaviour;
* :mod:`~mining.drivers.stats`: two-proportion tests, false-discovery control, Mantel-Haenszel;
* :mod:`~mining.drivers.find`: the values associated with a worse outcome, behind guards against false drivers.

The names below are the entry points the CLI and the app use.
"""

from __future__ import annotations

from mining.drivers.find import Driver, DriverReport, OutcomeSpec, find_drivers, parse_outcome

__all__ = ["Driver", "DriverReport", "OutcomeSpec", "find_drivers", "parse_outcome"]
