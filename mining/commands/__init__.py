"""The commands of ``mining``, a module each; ``dfg`` and ``variants`` share one, ``logs`` and ``rejects`` another.

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
