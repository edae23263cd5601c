"""What the workspace holds: logs, their statistics, rejects and quality findings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import Option, OutputError, Phrase, StoreError, UnknownLog, phrase
from mining.schema import (
    IS_LIFECYCLE_START,
    QUALITY_FIXES,
    IngestSummary,
    LogInfo,
    QualityIssue,
    Reject,
    RoleGuess,
)
from mining.spreadsheet import TABLE_SUFFIXES, csv_bytes, write_table
from mining.store import quote_ident
from mining.words import agree, plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "REJECT_HEADER",
    "attribute_names",
    "delete_log",
    "export_rejects",
    "list_logs",
    "log_id",
    "quality",
    "rejects",
    "rename_log",
    "summarize",
]

#: The columns of an export of rejected rows.
REJECT_HEADER = ("file", "row", "column", "reason", "value")

_STATS_SQL = """
SELECT
    (SELECT count(*) FROM cases WHERE log_id = $log) AS cases,
    (SELECT count(*) FROM events WHERE log_id = $log) AS events,
    (SELECT count(DISTINCT activity) FROM events WHERE log_id = $log) AS activities,
    (SELECT count(*) FROM variants WHERE log_id = $log) AS variants,
    (SELECT min(start_ts) FROM cases WHERE log_id = $log) AS start,
    (SELECT max(end_ts) FROM cases WHERE log_id = $log) AS end
"""


def log_id(store: Store, name: str) -> int:
    """The id of the log called ``name``; :class:`UnknownLog` lists the others."""
    found = store.scalar("SELECT log_id FROM logs WHERE name = ?", [name])
    if found is None:
        names = [r[0] for r in store.query("SELECT name FROM logs ORDER BY name").rows]
        listed = ", ".join(repr(n) for n in names) if names else "none yet"
        msg = f"no log named {name!r} in the workspace; logs: {listed}"
        raise UnknownLog(msg)
    return int(found)


def delete_log(store: Store, name: str) -> LogInfo:
    """Remove the log called ``name`` and everything recorded about it, in one transaction; return what it was.

    Every table of the workspace with a ``log_id`` column loses the log's
    rows (events, cases, variants, ingest runs, rejects, quality findings,
    monitor runs, and whatever later versions add), and its attribute table
    is dropped.  Either all of it goes, or nothing does.
    """
    lid = log_id(store, name)
    info = next(i for i in list_logs(store) if i.log_id == lid)
    tables = [
        str(r[0])
        for r in store.query(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'log_id' "
            "AND database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY 1"
        ).rows
    ]
    attrs = f"attrs_{lid}"
    with store.transaction():
        for table in tables:
            if table != "logs":
                store.execute(f"DELETE FROM {quote_ident(table)} WHERE log_id = ?", [lid])
        store.execute(f"DROP TABLE IF EXISTS {quote_ident(attrs)}")
        store.execute("DELETE FROM logs WHERE log_id = ?", [lid])
    return info


def rename_log(store: Store, old: str, new: str) -> None:
    """Give the log called ``old`` the name ``new``; a name in use or a blank one is refused."""
    lid = log_id(store, old)
    wanted = new.strip()
    if not wanted:
        msg = f"cannot rename {old!r} to a blank name"
        raise StoreError(msg)
    if wanted != new:
        msg = f"cannot rename {old!r} to {new!r}: a log name does not start or end with spaces"
        raise StoreError(msg, hint=f"use {wanted!r}")
    if wanted == old:
        return
    if store.scalar("SELECT count(*) FROM logs WHERE name = ?", [wanted]):
        msg = f"cannot rename {old!r} to {new!r}: a log of that name already exists"
        raise StoreError(msg, hint="delete or rename that log first")
    with store.transaction():
        store.execute("UPDATE logs SET name = ? WHERE log_id = ?", [wanted, lid])


def list_logs(store: Store) -> list[LogInfo]:
    out = []
    for lid, name, source, digest, tz, at, mapping in store.query(
        "SELECT log_id, name, source, content_hash, timezone, ingested_at, mapping FROM logs ORDER BY log_id"
    ).rows:
        s = store.query(_STATS_SQL, {"log": lid}).rows[0]
        out.append(
            LogInfo(
                lid, name, source, digest, s[0], s[1], s[2], s[3], s[4], s[5], tz, at, json.loads(mapping)
            )
        )
    return out


def rejects(store: Store, log: int, *, run_id: int | None = None) -> list[Reject]:
    sql = "SELECT file, row_no, column_name, reason, value FROM rejects WHERE log_id = ?"
    params: list[Any] = [log]
    if run_id is not None:
        sql += " AND run_id = ?"
        params.append(run_id)
    return [Reject(*r) for r in store.query(sql + " ORDER BY run_id, row_no", params).rows]


def quality(store: Store, log: int, *, run_id: int | None = None) -> list[QualityIssue]:
    sql = "SELECT kind, count, message, examples FROM quality WHERE log_id = ?"
    params: list[Any] = [log]
    if run_id is not None:
        sql += " AND run_id = ?"
        params.append(run_id)
    return [
        QualityIssue(k, int(n), m, tuple(e), QUALITY_FIXES.get(k, ""))
        for k, n, m, e in store.query(sql + " ORDER BY run_id, kind", params).rows
    ]


def attribute_names(store: Store, log: int) -> list[str]:
    """The log's extra columns (case or event attributes), by their names in the file, in file order."""
    sql = "SELECT source_name FROM attribute_columns WHERE log_id = ? ORDER BY position"
    return [str(r[0]) for r in store.query(sql, [log]).rows]


def export_rejects(items: Sequence[Reject], path: str | Path) -> int:
    """Write rejects to ``.xlsx``, or CSV under any other name; text a spreadsheet would run is neutralised.

    A file that cannot be written raises :class:`~mining.errors.OutputError`.
    """
    path = Path(path)
    rows = ([r.file, r.row, r.column, r.reason, r.value] for r in items)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return write_table(path, REJECT_HEADER, rows, sheet="rejects")
    # --rejects has always written CSV whatever the file is called (rejects.txt).
    data = csv_bytes(REJECT_HEADER, rows)
    try:
        path.write_bytes(data)
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    return len(items)


def summarize(
    store: Store,
    log: int,
    *,
    status: str,
    source: str,
    content_hash: str,
    rows_read: int = 0,
    events_added: int = 0,
    rejects: tuple[Reject, ...] = (),
    quality: tuple[QualityIssue, ...] = (),
    guesses: tuple[RoleGuess, ...] = (),
    formats: dict[str, str] | None = None,
    run_id: int | None = None,
) -> IngestSummary:
    from mining.schema import ColumnMapping

    name, mapping_json, tz = store.query(
        "SELECT name, mapping, timezone FROM logs WHERE log_id = ?", [log]
    ).rows[0]
    m = json.loads(mapping_json)
    mapping = ColumnMapping(
        case=m["case"],
        activity=m["activity"],
        timestamp=m["timestamp"],
        start_timestamp=m.get("start_timestamp"),
        resource=m.get("resource"),
        lifecycle=m.get("lifecycle"),
        cost=m.get("cost"),
        timestamp_format=m.get("formats", {}).get("timestamp"),
        start_timestamp_format=m.get("formats", {}).get("start_timestamp"),
        timezone=tz,
    )
    s = store.query(_STATS_SQL, {"log": log}).rows[0]
    warnings: list[str | Phrase] = []
    if status == "unchanged":
        warnings.append("this file was already ingested into the log; nothing changed")
    if "naive_utc" in m:
        naive = [getattr(mapping, role) for role in m["naive_utc"]]
    else:  # a log ingested before the values were checked: judged by its formats
        naive = [
            getattr(mapping, role)
            for role, f in m.get("formats", {}).items()
            if mapping.timezone == "UTC" and f != "ISO 8601" and not f.startswith("unix ")
        ]
    if naive:
        columns = " and ".join(repr(c) for c in naive)
        warnings.append(
            phrase(
                f"timestamps without an offset in {columns} were read as UTC; use ",
                Option("timezone"),
                " if they are local times",
            )
        )
    shown = m.get("offset_zone")
    if isinstance(shown, dict):
        warnings.append(
            phrase(
                f"the times write their offsets ({', '.join(shown['offsets'])}), which {tz} keeps: the log is "
                f"shown in {tz} (hours of the day, weekdays, weeks); use ",
                Option("timezone"),
                " to show it in another zone",
            )
        )
    if len(m.get("sheets", [])) > 1:
        others = ", ".join(repr(x) for x in m["sheets"] if x != m["sheet"])
        warnings.append(
            phrase(
                f"read the sheet {m['sheet']!r}, the file's largest; it also has {others}: ",
                Option("sheet", "NAME"),
                " reads another",
            )
        )
    if m.get("pair_starts"):
        warnings.append(_paired_note(store, log))
    elif not mapping.start_timestamp and not _lifecycle_starts(store, log):
        warnings.append("no start timestamps: processing time cannot be separated from waiting time")
    return IngestSummary(
        log=name,
        log_id=log,
        status=status,
        source=source,
        content_hash=content_hash,
        cases=int(s[0]),
        events=int(s[1]),
        activities=int(s[2]),
        variants=int(s[3]),
        start=s[4],
        end=s[5],
        rows_read=rows_read,
        events_added=events_added,
        rejected_rows=len({r.row for r in rejects}),
        mapping=mapping,
        guesses=guesses,
        timestamp_formats=formats or m.get("formats", {}),
        timezone=tz,
        rejects=rejects,
        quality=quality,
        warnings=tuple(warnings),
    )


def _paired_note(store: Store, log_id: int) -> str:
    """What pairing the lifecycle starts made of the log (``pair_starts``)."""
    paired, left = store.query(
        f"SELECT count(start_ts), count(*) FILTER (WHERE {IS_LIFECYCLE_START}) FROM events WHERE log_id = ?",
        [log_id],
    ).rows[0]
    if not paired:
        return (
            "no lifecycle start could be paired with a completion: each event is a step, "
            "and processing time cannot be separated from waiting time"
        )
    note = (
        "each lifecycle start was paired with its completion: "
        f"{plural(int(paired), 'activity instance')}, each one step with its processing time"
    )
    if left:
        note += (
            f"; {plural(int(left), 'start')} without a completion "
            f"{agree(int(left), 'stays a step of its', 'stay steps of their')} own"
        )
    return note


def _lifecycle_starts(store: Store, log_id: int) -> bool:
    """Whether the log pairs lifecycle starts with completions (XES ``lifecycle:transition`` = start):
    processing time is then measured without a start column."""
    return bool(
        store.scalar(
            "SELECT has_lifecycle AND EXISTS (SELECT 1 FROM events e WHERE e.log_id = l.log_id "
            f"AND {IS_LIFECYCLE_START}) FROM logs l WHERE l.log_id = ?",
            [log_id],
        )
    )
