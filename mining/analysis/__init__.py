"""Measures over the stored event tables: SQL in DuckDB's dialect, frozen records out.

Every measure takes ``(store, log_id, flt=None, ...)`` and returns a frozen
record.  Filters compile to SQL in :mod:`mining.analysis.filters`.
"""

# Each measure is imported from its own module, so importing the package loads none of them.
__all__ = ()
