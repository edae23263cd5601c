"""The commands of ``mining``, one module each (``dfg`` and ``variants`` share :mod:`.explore`).

:mod:`mining.cli` adds them to its group; they share the helpers and option
groups of :mod:`.common`.  Nothing in the library imports this package.
"""

__all__ = [
    "app",
    "bottlenecks",
    "common",
    "conform",
    "discover",
    "explore",
    "export",
    "ingest",
    "logs",
    "monitor",
    "presets",
    "rules",
]
