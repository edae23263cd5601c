"""``mining ingest``: load an export into the workspace, and say how it was read.

The export is read in a child process under ``--memory-limit`` and
``--time-limit`` (:mod:`mining.ingest.job`), so a file that needs more is
refused with a plain message, and goes through :func:`mining.store.writing`
(a copy swapped in when the ingest succeeds), so readers never see half an
ingest.  ``--json`` prints
one object whose keys are a contract for scripts: ``log``, ``status``,
``cases``, ``events``, ``activities``, ``variants``, ``start``, ``end``,
``rows_read``, ``events_added``, ``rejected_rows``, ``timezone``,
``timestamp_formats``, ``mapping``, ``guesses``, ``quality``, ``warnings``,
``rejects`` (the first 100), ``preset``, ``preset_notes``, ``missing_words`` (column ->
null word as written -> rows read as missing).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, limit_options, limits_from, role_option

if TYPE_CHECKING:
    from mining.schema import IngestSummary

__all__ = ["ingest_cmd"]

_MAX_REJECTS_SHOWN = 10


@click.command("ingest")
@click.argument("path", type=click.Path())
@click.option("--name", help="Log name (default: the file name without extensions).")
@click.option("--append", is_flag=True, help="Add only the new events of a newer export to an existing log.")
@role_option("case", "Column holding the case id.")
@click.option(
    "--activity",
    multiple=True,
    metavar="COLUMN",
    help="Column holding the activity; repeat it (or write COL1+COL2) to join columns, e.g. code and title.",
)
@role_option(
    "timestamp", "Column holding the (completion) timestamp; DATE+TIME joins a date and a time column."
)
@role_option("start-timestamp", "Column holding the start timestamp ('' for none; DATE+TIME as --timestamp).")
@role_option("resource", "Column holding the resource ('' for none).")
@role_option("lifecycle", "Column holding the lifecycle transition ('' for none).")
@role_option("cost", "Column holding a per-event cost ('' for none).")
@click.option(
    "--timestamp-format",
    metavar="FORMAT",
    help="strptime format of the timestamp, e.g. '%d/%m/%Y %H:%M'; 'iso' for ISO 8601, 'excel' for Excel's "
    "serial day numbers.",
)
@click.option("--start-timestamp-format", metavar="FORMAT", help="strptime format of the start timestamp.")
@click.option("--dayfirst/--monthfirst", default=None, help="Read 03/04 as 3 April (day first) or 4 March.")
@click.option(
    "--timezone",
    default=None,
    help="IANA zone of timestamps without an offset (default UTC; on --append, the log's zone).",
)
@click.option(
    "--dst",
    type=click.Choice(["shift", "reject"]),
    default="shift",
    show_default=True,
    help="Local times in a DST gap or overlap: read by the zoneinfo fold=0 rule, or reject the row.",
)
@click.option(
    "--max-rejects",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of rows that may be rejected before the ingest fails.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    help="Write every rejected row to this CSV (also when the ingest fails).",
)
@click.option("--encoding", help="Text encoding of a CSV (default: detected).")
@click.option("--delimiter", help="Field delimiter of a CSV (default: detected).")
@click.option("--sheet", help="Sheet of an .xlsx workbook (default: the first with data).")
@click.option(
    "--preset",
    default="auto",
    show_default=True,
    metavar="NAME|auto|none",
    help="Read a business system's export (mining presets lists them): auto detects one, none never.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="FAMILY",
    help="Add an optional event family of the preset (repeatable), e.g. assignee for Jira.",
)
@click.option(
    "--object-type",
    metavar="TYPE",
    help="For an object-centric log (OCEL): the object type whose objects are the cases "
    "(default: the type with the most events).",
)
@click.option(
    "--pair-starts/--no-pair-starts",
    default=None,
    help="Pair each lifecycle start event with its completion: one step per activity instance, with its "
    "processing time (the map, variants and counts then show instances, not start and complete events); "
    "schedule, assign, suspend and resume events mark no step and are left out.",
)
@click.option(
    "--preset-role",
    "preset_roles",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="A preset's own column (repeatable), e.g. field=Attribute for the change-log preset.",
)
@limit_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
@fail_cleanly
def ingest_cmd(ctx: click.Context, path: str, **kw: Any) -> None:
    """Load an export (CSV/TSV/TXT, XLSX/XLS/ODS, Parquet, XES/MXML, JSON/XML records, .gz; a system's JSON, folder or zip)."""
    from mining.ingest import IngestOptions
    from mining.ingest.job import start_ingest
    from mining.ingest.staging import JOIN
    from mining.outputs import check_output
    from mining.store import check_writable

    roles: dict[str, str | None] = {}
    activity = kw.pop("activity")
    if activity:
        roles["activity"] = JOIN.join(a.strip() for a in activity)
    for role in ("case", "timestamp", "start_timestamp", "resource", "lifecycle", "cost"):
        value = kw.pop(role)
        if value is not None:
            roles[role] = value or None
    rejects_path = kw.pop("rejects_path")
    as_json = kw.pop("as_json")
    limits = limits_from(kw.pop("memory_limit"), kw.pop("time_limit"))
    check_writable(ctx.obj["workspace"])  # a read-only workspace is refused before a child starts
    if rejects_path:
        check_output(rejects_path, "rejects")
    preset_roles: dict[str, str] = {}
    for item in kw.pop("preset_roles"):
        role, sep, column = item.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise click.BadParameter(f"expected ROLE=COLUMN, got {item!r}", param_hint="--preset-role")
        preset_roles[role.strip()] = column.strip()
    kw["include"] = tuple(kw.pop("include"))
    options = IngestOptions(roles=roles, preset_roles=preset_roles, **kw)
    # The file is read in a child process under the limits; the rejects are written before the
    # workspace is swapped in, so a rejects file that cannot be written leaves nothing stored.
    job = start_ingest(ctx.obj["workspace"], path, options, limits=limits, rejects=rejects_path, reuse="cli")
    try:
        summary = job.result()
    finally:
        job.cancel()
    if as_json:
        data = {
            "log": summary.log,
            "status": summary.status,
            "cases": summary.cases,
            "events": summary.events,
            "activities": summary.activities,
            "variants": summary.variants,
            "start": summary.start,
            "end": summary.end,
            "rows_read": summary.rows_read,
            "events_added": summary.events_added,
            "rejected_rows": summary.rejected_rows,
            "timezone": summary.timezone,
            "timestamp_formats": summary.timestamp_formats,
            "mapping": summary.mapping.roles(),
            "guesses": summary.guesses,
            "quality": summary.quality,
            "warnings": summary.warnings,
            "rejects": summary.rejects[:100],
            "preset": summary.preset,
            "preset_notes": summary.preset_notes,
            "missing_words": summary.missing_words,
            "paired_starts": summary.paired_starts,
        }
        emit_json(data)
    else:
        click.echo(_text(summary))


def _when(value: dt.datetime | None, zone: str) -> str:
    from mining.moments import local_text

    text = local_text(value, zone, "%Y-%m-%d %H:%M:%S")
    return text if value is None or text.endswith(" UTC") else f"{text} {zone}"


def _text(s: IngestSummary) -> str:
    verb = {"loaded": "Loaded", "appended": "Appended to", "unchanged": "Unchanged:"}[s.status]
    lines = [
        f"{verb} log {s.log!r} from {s.source}",
        f"  cases       {s.cases:>12,}",
        f"  events      {s.events:>12,}"
        + (f"   (+{s.events_added:,} new)" if s.status == "appended" else ""),
        f"  activities  {s.activities:>12,}",
        f"  variants    {s.variants:>12,}",
        f"  time span   {_when(s.start, s.timezone)} to {_when(s.end, s.timezone)}",
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
    lines.append(f"  time zone        {s.timezone} (hours, weekdays and weeks; times without an offset)")
    for column, words in s.missing_words.items():
        shown = ", ".join(f"{w!r} ({n:,})" for w, n in words.items())
        lines.append(f"  read as missing in {column!r}: {shown}")
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
            if q.fix:
                lines.append(f"    fix: {q.fix}")
    for w in s.warnings:
        lines.append(f"Note: {w}")
    return "\n".join(lines)
