"""Measures over the stored event tables: SQL in DuckDB's dialect, frozen records out.

Every measure takes ``(store, log_id, flt=None, ...)`` and returns a frozen
record.  Filters compile to SQL in :mod:`mining.analysis.filters`.
"""
