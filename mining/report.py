"""Result records as text for people (the CLI's default output)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mining.schema import IngestSummary, LogInfo

__all__ = ["ingest_text", "logs_text"]

_MAX_REJECTS_SHOWN = 10


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value else "-"


def ingest_text(s: IngestSummary) -> str:
    verb = {"loaded": "Loaded", "appended": "Appended to", "unchanged": "Unchanged:"}[s.status]
    lines = [
        f"{verb} log {s.log!r} from {s.source}",
        f"  cases       {s.cases:>12,}",
        f"  events      {s.events:>12,}"
        + (f"   (+{s.events_added:,} new)" if s.status == "appended" else ""),
        f"  activities  {s.activities:>12,}",
        f"  variants    {s.variants:>12,}",
        f"  time span   {_when(s.start)} to {_when(s.end)}",
    ]
    if s.status != "unchanged":
        lines.append(f"  rows read   {s.rows_read:>12,}")
        lines.append(f"  rejected    {s.rejected_rows:>12,}")
    if s.preset:
        lines.append(f"Preset: {s.preset}")
        lines += [f"  {note}" for note in s.preset_notes]
    m = s.mapping
    lines.append("Columns:")
    guesses = {g.role: g for g in s.guesses}
    for role, column in m.roles().items():
        if column is None and role not in {"case", "activity", "timestamp"}:
            continue
        g = guesses.get(role)
        why = f"  [{g.confidence:.0%}: {g.reason}]" if g else ""
        fmt = s.timestamp_formats.get(role)
        fmt_text = f"  format {fmt}" if fmt else ""
        lines.append(f"  {role:<16} {column!s:<24}{fmt_text}{why}")
    lines.append(f"  naive times read in {s.timezone}")
    if s.rejects:
        lines.append("Rejected rows:")
        lines += [f"  {r}" for r in s.rejects[:_MAX_REJECTS_SHOWN]]
        if len(s.rejects) > _MAX_REJECTS_SHOWN:
            lines.append(
                f"  ... {len(s.rejects) - _MAX_REJECTS_SHOWN:,} more (mining rejects {s.log} -o FILE)"
            )
    if s.quality:
        lines.append("Data quality:")
        for q in s.quality:
            lines.append(f"  {q.message}")
            lines += [f"    e.g. {e}" for e in q.examples[:3]]
    for w in s.warnings:
        lines.append(f"Note: {w}")
    return "\n".join(lines)


def logs_text(logs: Sequence[LogInfo]) -> str:
    if not logs:
        return "The workspace holds no logs yet: mining ingest FILE"
    header = f"{'log':<32} {'cases':>10} {'events':>12} {'activities':>10} {'variants':>9}  time span"
    rows = [header]
    for i in logs:
        span = f"{i.start:%Y-%m-%d} to {i.end:%Y-%m-%d}" if i.start and i.end else "-"
        rows.append(
            f"{i.name:<32} {i.cases:>10,} {i.events:>12,} {i.activities:>10,} {i.variants:>9,}  {span}"
        )
    return "\n".join(rows)
