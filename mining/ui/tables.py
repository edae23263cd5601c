"""Tables on a page: ``st.dataframe`` with its whole numbers grouped in thousands, and "-" for a missing value.

The metrics and sentences above a table say "2,330 cases"; Streamlit's grid wrote the same counts
as "2330".  Whole-number columns are shown in the reader's locale (``2,330`` in English); a column
configured by the caller keeps its configuration.  A missing value reads "-", as in the pages'
sentences, not Streamlit's "None" (the Bottlenecks table's first activity, which waits for nothing).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import streamlit as st

__all__ = ["data_table"]


def data_table(data: Any, *, column_config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """``st.dataframe(data, ...)``, its whole-number columns grouped in thousands, a missing value "-"."""
    config = dict(column_config or {})
    for name in _whole_number_columns(data):
        config.setdefault(name, st.column_config.NumberColumn(format="localized"))
    # Streamlit writes a missing value as "None"; the pages' own text says "-".
    kwargs.setdefault("placeholder", "-")
    return st.dataframe(data, column_config=config or None, **kwargs)


def _whole_number_columns(data: Any) -> list[str]:
    """The columns of ``data`` (rows as dicts, or a pandas or polars frame) holding whole numbers only."""
    if isinstance(data, list | tuple):
        rows = [r for r in data if isinstance(r, Mapping)]
        if not rows:
            return []
        names = list(rows[0])
        return [
            n
            for n in names
            if any(r.get(n) is not None for r in rows)
            and all(
                # numbers.Integral: numpy's integers too (a conformance table's "1850" had no separator).
                r.get(n) is None
                or (isinstance(r.get(n), numbers.Integral) and not isinstance(r.get(n), bool))
                for r in rows
            )
        ]
    schema = getattr(data, "schema", None)
    if schema is not None and hasattr(schema, "items"):  # polars
        return [str(n) for n, t in schema.items() if t.is_integer()]
    dtypes = getattr(data, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):  # pandas
        return [str(n) for n, t in dtypes.items() if getattr(t, "kind", None) in ("i", "u")]
    return []
