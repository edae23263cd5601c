"""Loading exports into the workspace: ``ingest_file`` is the one entry point.

Reading (one module per format) stages the file as a table of text
(:mod:`~mining.ingest.staging`); mapping decides the roles
(:mod:`~mining.ingest.mapping`); ``load`` validates and writes in one
transaction (:mod:`~mining.ingest.load`).  :func:`preview` shows what an
ingest would do without writing anything.

Exports of business systems (Jira, ServiceNow, SAP, ...) go through a preset
(:mod:`mining.ingest.presets`) first: with ``preset="auto"`` every ingest asks
the presets whether they recognise the staged table; when one does, it turns
the export into one row per event, which is staged in place of the file and
then mapped and loaded like any other (:mod:`~mining.ingest.prepare`).
Folders, zips of tables and JSON documents are read only through a preset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mining.ingest.options import IngestOptions, log_name_for

if TYPE_CHECKING:
    from mining.ingest.run import IngestPreview, ingest_file, preview

__all__ = ["IngestOptions", "IngestPreview", "ingest_file", "log_name_for", "preview"]

_RUN = ("IngestPreview", "ingest_file", "preview")


def __getattr__(name: str) -> Any:
    # The command line's parent process needs only the options (the reading runs in a child):
    # importing the reader here would load DuckDB and the whole ingest for nothing.
    if name in _RUN:
        from mining.ingest import run

        return getattr(run, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
