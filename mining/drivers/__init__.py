"""Why: root-cause drivers of an outcome, segment comparison, and what they cost.

:mod:`mining.drivers.features` turns attributes and the log's behaviour into
one candidate value per case; :mod:`mining.drivers.find` ranks the values
associated with a bad outcome, behind guards against false drivers;
:mod:`mining.drivers.segments` compares the segments of one attribute.
"""

from __future__ import annotations

__all__: list[str] = []
