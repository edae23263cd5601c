"""Running an ingest: :func:`ingest_file` loads an export into the workspace, :func:`preview` only looks.

Both prepare the export the same way (:mod:`mining.ingest.prepare`); the
ingest then validates and writes in one transaction (:mod:`mining.ingest.load`).
A file whose content hash was already ingested into the log is a no-op that
says so.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import AppendMismatch, EmptyLog, IngestError, LimitExceeded, Option, Phrase, phrase
from mining.ingest.load import LoadPlan, Progress, check_formats, load, validate
from mining.ingest.mapping import PROFILE_ROWS
from mining.ingest.offsetzone import OffsetZone, zone_from_offsets
from mining.ingest.options import IngestOptions, log_name_for
from mining.ingest.prepare import check_timezone, prepare, resolve_roles
from mining.ingest.staging import STAGE
from mining.ingest.timestamps import TimestampFormat, has_naive_values
from mining.schema import ROLES, ColumnMapping, IngestSummary, Reject, RoleGuess
from mining.scratch import scratch_dir
from mining.store import quote_ident
from mining.words import plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["INGEST_MEMORY", "IngestPreview", "ingest_file", "preview"]

#: DuckDB's memory during an ingest, at most (bytes): past it the sort and the staged text spill to
#: disk.  A 10M-event CSV then peaks at about 1.2 GB instead of 3 GB, and a wide CSV or Parquet file
#: takes a third to 40% longer (its staged text no longer fits and is read back by each pass): a
#: laptop keeps its memory for the browser and the app, and a large machine's share is not all taken.
INGEST_MEMORY = 1_000_000_000


def ingest_file(
    store: Store, path: str | Path, options: IngestOptions | None = None, *, progress: Progress | None = None
) -> IngestSummary:
    """Load one export (a file, or a folder of a system's tables) into the workspace; see :class:`IngestOptions`.

    ``progress(share, message)`` is called as the stages pass (the app's progress bar).
    """
    from mining.catalog import summarize
    from mining.ingest.presets.raw import content_hash

    opts = options or IngestOptions()
    path = Path(path)
    file = opts.display_name or path.name
    if not (path.is_file() or path.is_dir()):
        msg = f"{file}: no such file"
        raise IngestError(msg)
    if opts.dst not in {"shift", "reject"}:
        msg = f"unknown DST policy {opts.dst!r}; expected 'shift' or 'reject'"
        raise IngestError(msg)
    if opts.timezone is not None:
        check_timezone(store, opts.timezone)
    name = opts.name or log_name_for(Path(file))
    existing = store.query("SELECT log_id, mapping FROM logs WHERE name = ?", [name]).rows
    previous: dict[str, Any] = {}
    hashing: _Hashing | None = None
    digest = ""
    if existing:
        digest = content_hash(path)
        log_id = int(existing[0][0])
        previous = json.loads(existing[0][1])
        seen = store.scalar(
            "SELECT count(*) FROM ingest_runs WHERE log_id = ? AND content_hash = ?", [log_id, digest]
        )
        if seen:
            _check_same_options(opts, previous, file, name)
            summary = summarize(
                store, log_id, status="unchanged", source=opts.source or str(path), content_hash=digest
            )
            return dataclasses.replace(summary, preset=previous.get("preset"))
        if not opts.append:
            msg = f"a log named {name!r} already exists and was loaded from other data"
            hint = phrase(
                "use ",
                Option("append"),
                " to add a newer export to it, or ",
                Option("name"),
                " for a new log",
            )
            raise IngestError(msg, hint=hint)
        if previous.get("pair_starts"):
            # A newer export repeats its starts, which the log keeps only as its completions' start times:
            # matching them against what is stored would add each repeated instance again.
            msg = (
                f"the log {name!r} pairs its lifecycle starts with their completions, "
                "so a newer export cannot be added to it"
            )
            hint = phrase(
                "load the whole newer export as a new log with ",
                Option("pair_starts"),
                " and ",
                Option("name"),
                ", or delete this log first (mining logs --delete NAME, or the Logs page)",
            )
            raise IngestError(msg, hint=hint)
        if opts.timezone is None and "timezone" in previous:
            opts = dataclasses.replace(opts, timezone=previous["timezone"])
    elif opts.append:
        msg = phrase(Option("append"), f": there is no log named {name!r} to append to")
        hint = phrase(
            "load the first export without ",
            Option("append"),
            ", or pass ",
            Option("name"),
            " of an existing log",
        )
        raise IngestError(msg, hint=hint)
    else:
        # A new log has no earlier run to compare with: the hash is not needed
        # before the rows are written, so the file is hashed beside its reading
        # and staging (hashlib releases the GIL; on two cores the staging read
        # leaves one idle).
        hashing = _Hashing(path)
    try:
        lowered = False
        try:
            with store.memory_cap(INGEST_MEMORY) as lowered:
                return _ingest(store, path, opts, previous, existing, file, name, digest, hashing, progress)
        except LimitExceeded as exc:
            if exc.kind != "memory" or not lowered:
                raise
        # A step DuckDB cannot spill ran out under the cap (the transaction left nothing behind):
        # once more with all the memory the workspace may use, as before there was a cap.
        return _ingest(store, path, opts, previous, existing, file, name, digest, hashing, progress)
    finally:
        if hashing is not None:
            hashing.join()


def _check_same_options(opts: IngestOptions, previous: dict[str, Any], file: str, name: str) -> None:
    """Refuse to call a file already in the log unchanged when the options ask to read it otherwise:
    the log would silently keep the earlier reading (another case column, another zone)."""
    differ = [
        f"{role} {given!r} (the log has {previous.get(role)!r})"
        for role, given in opts.roles.items()
        if given != previous.get(role)
    ]
    if opts.timezone is not None and opts.timezone != previous.get("timezone"):
        differ.append(f"time zone {opts.timezone!r} (the log has {previous.get('timezone')!r})")
    if opts.pair_starts is not None and opts.pair_starts != bool(previous.get("pair_starts")):
        had = "pairs" if previous.get("pair_starts") else "does not pair"
        differ.append(f"lifecycle starts {'' if opts.pair_starts else 'not '}paired (the log {had} them)")
    if not differ:
        return
    msg = f"{file} is already loaded into the log {name!r}, read with other options: {'; '.join(differ)}"
    hint = phrase(
        "a file is loaded once: to read it otherwise, delete the log first (mining logs --delete NAME, or "
        "the Logs page), or load it as a new log with ",
        Option("name"),
    )
    raise IngestError(msg, hint=hint)


class _Hashing:
    """The file's content hash, worked out in a thread."""

    def __init__(self, path: Path) -> None:
        self._digest: str | None = None
        self._error: Exception | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, args=(path,), name="mining-content-hash", daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError:
            # No thread to be had (a memory cap counts a thread's stack): hash here, as before.
            self._thread = None
            self._run(path)

    def _run(self, path: Path) -> None:
        from mining.ingest.presets.raw import content_hash

        try:
            self._digest = content_hash(path)
        except Exception as exc:  # handed to the caller by result()
            self._error = exc

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def result(self) -> str:
        self.join()
        if self._error is not None:
            raise self._error
        return str(self._digest)


def _ingest(
    store: Store,
    path: Path,
    opts: IngestOptions,
    previous: dict[str, Any],
    existing: list[tuple[Any, ...]],
    file: str,
    name: str,
    digest: str,
    hashing: _Hashing | None,
    progress: Progress | None,
) -> IngestSummary:
    """:func:`ingest_file` once the log is known: ``digest`` its hash, or ``hashing`` at work on it."""
    from mining.catalog import summarize

    def report(share: float, message: str) -> None:
        if progress is not None:
            progress(share, message)

    with scratch_dir("ingest") as tmp:
        report(0.02, f"Reading {file}")
        prepared = prepare(store, path, Path(tmp), opts, previous, file=file)
        staged = prepared.staged
        report(0.45, f"Read {staged.rows_read:,} rows; choosing the columns")
        if staged.rows_read == 0:
            msg = f"{file} has a header but no rows"
            raise EmptyLog(msg)
        append_to = int(existing[0][0]) if existing else None
        overrides = dict(prepared.roles)
        if append_to is not None:
            for role in ROLES:
                overrides.setdefault(role, previous.get(role))
            missing = [v for v in overrides.values() if v and v not in {c.label for c in staged.columns}]
            if missing:
                msg = phrase(
                    f"{file}: ",
                    Option("append"),
                    f" needs the columns the log was built from; missing {missing}",
                )
                raise AppendMismatch(msg)
        prepared, guesses, formats, timezone = resolve_roles(store, prepared, overrides, opts, file)
        staged = prepared.staged
        mapping = _mapping(guesses, formats, timezone)
        check_formats(formats, mapping, file)
        internal = {c.label: quote_ident(c.internal) for c in staged.columns}
        # Only a zone nobody chose earns the warning; an appended export keeps its log's verdict.
        defaulted = timezone == "UTC" and opts.timezone is None and append_to is None
        naive = _naive_roles(store, formats, mapping, internal) if defaulted else ()
        shown = _offset_zone(store, formats, mapping, internal, naive) if defaulted else None
        extra = prepared.mapping_extra
        if shown is not None:
            extra = (*extra, ("offset_zone", {"zone": shown.zone, "offsets": list(shown.offsets)}))
        pair = _pair_starts(opts, mapping, file)
        if pair:
            extra = (*extra, ("pair_starts", True))
        if hashing is not None:
            digest = hashing.result()
        plan = LoadPlan(
            log_name=name,
            file=file,
            source=opts.source or str(path),
            content_hash=digest,
            columns=staged.columns,
            mapping=mapping,
            formats=formats,
            rows_read=staged.rows_read,
            parse_rejects=staged.rejects,
            reject_threshold=opts.max_rejects,
            dst=opts.dst,
            append_to=append_to,
            renamed=staged.renamed,
            check_control=staged.check_control,
            preamble=staged.preamble,
            semicolons=staged.semicolons,
            mapping_extra=extra,
            naive_roles=naive,
            pair_starts=pair,
        )
        result = load(store, plan, report)
    report(0.97, "Summarising")
    summary = summarize(
        store,
        result.log_id,
        status="appended" if append_to else "loaded",
        source=opts.source or str(path),
        content_hash=digest,
        rows_read=staged.rows_read,
        events_added=result.events_added,
        rejects=result.rejects,
        quality=result.quality,
        guesses=tuple(guesses[r] for r in guesses),
        formats={k: v.pattern for k, v in formats.items()},
        run_id=result.run_id,
    )
    warnings = summary.warnings
    if result.left_out:
        counts = ", ".join(f"{plural(n, f'{t} event')}" for t, n in result.left_out)
        warnings = (
            *warnings,
            f"left out with the starts paired: {counts}; such a transition marks no step of an activity instance",
        )
    return dataclasses.replace(
        summary,
        preset=prepared.preset,
        preset_notes=prepared.notes,
        missing_words=result.missing_words,
        paired_starts=result.paired_starts,
        warnings=warnings,
    )


@dataclass(frozen=True)
class IngestPreview:
    """What an ingest of a file would do, worked out without touching any workspace.

    The upload page shows it before the user commits: the roles with their
    confidence and reason, the timestamp formats, the preset, the first
    rows as the loader will see them (a preset's events, when one applies),
    and what the ingest would store, counted over every row of the file with
    the same checks (``events``, ``cases``, ``activities``, ``rejected_rows``,
    the first ``rejects``): the same numbers a new log gets from the ingest.
    A chosen timestamp column that holds no timestamps raises here, before
    anything is written.
    """

    file: str
    rows_read: int
    columns: tuple[str, ...]
    guesses: tuple[RoleGuess, ...]
    timestamp_formats: dict[str, str]
    timezone: str
    # The zone the log will be shown in when every time writes its offset (None: ``timezone``).
    shown_in: OffsetZone | None
    preset: str | None
    preset_notes: tuple[str | Phrase, ...]
    sample: tuple[tuple[str | None, ...], ...]
    events: int = 0
    cases: int = 0
    activities: int = 0
    rejected_rows: int = 0
    rejects: tuple[Reject, ...] = ()
    missing_words: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    max_rejects: float = 0.05  # the share of rows the ingest may reject (the options')
    preamble: tuple[str, ...] = ()  # title lines above the header, skipped
    # A workbook's (or an HTML page's) sheet read, and every sheet with data, in the file's order.
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    paired_starts: int = 0  # lifecycle starts the ingest would fold into their completions
    lifecycle_starts: int = 0  # events whose lifecycle is a start, before any pairing
    left_out_events: int = 0  # events of transitions that are no step, left out with the starts paired

    @property
    def would_fail(self) -> bool:
        """Whether the ingest with these options would stop at too many rejected rows."""
        return self.rows_read > 0 and (
            self.rejected_rows == self.rows_read or self.rejected_rows > self.max_rejects * self.rows_read
        )


def preview(path: str | Path, options: IngestOptions | None = None, *, rows: int = 10) -> IngestPreview:
    """Read ``path`` as :func:`ingest_file` would, into a private in-memory database, and report the plan."""
    from mining.store import Store

    opts = options or IngestOptions()
    path = Path(path)
    file = opts.display_name or path.name
    with Store() as store, scratch_dir("preview") as tmp:
        if opts.timezone is not None:
            check_timezone(store, opts.timezone)
        prepared = prepare(store, path, Path(tmp), opts, {}, file=file)
        staged = prepared.staged
        if staged.rows_read == 0:
            msg = f"{file} has a header but no rows"
            raise EmptyLog(msg)
        prepared, guesses, formats, timezone = resolve_roles(
            store, prepared, dict(prepared.roles), opts, file
        )
        staged = prepared.staged
        mapping = _mapping(guesses, formats, timezone)
        check_formats(formats, mapping, file)
        internal = {c.label: quote_ident(c.internal) for c in staged.columns}
        shown = None
        if opts.timezone is None and timezone == "UTC":
            naive = _naive_roles(store, formats, mapping, internal)
            shown = _offset_zone(store, formats, mapping, internal, naive)
        select = ", ".join(c.internal for c in staged.columns)
        sample = store.query(f"SELECT {select} FROM {STAGE} ORDER BY _row LIMIT ?", [rows]).rows
        plan = LoadPlan(
            log_name=opts.name or log_name_for(Path(file)),
            file=file,
            source=opts.source or str(path),
            content_hash="",
            columns=staged.columns,
            mapping=mapping,
            formats=formats,
            rows_read=staged.rows_read,
            parse_rejects=staged.rejects,
            reject_threshold=opts.max_rejects,
            dst=opts.dst,
            append_to=None,
            renamed=staged.renamed,
            check_control=staged.check_control,
            preamble=staged.preamble,
            semicolons=staged.semicolons,
            pair_starts=_pair_starts(opts, mapping, file),
        )
        checked = validate(store, plan)
    return IngestPreview(
        file=file,
        rows_read=staged.rows_read,
        columns=tuple(c.label for c in staged.columns),
        guesses=tuple(guesses.values()),
        timestamp_formats={k: v.pattern for k, v in formats.items()},
        timezone=timezone,
        shown_in=shown,
        preset=prepared.preset,
        preset_notes=prepared.notes,
        sample=tuple(tuple(None if v is None else str(v) for v in r) for r in sample),
        events=checked.events,
        cases=checked.cases,
        activities=checked.activities,
        rejected_rows=checked.rejected_rows,
        rejects=checked.rejects,
        missing_words=checked.missing_words,
        max_rejects=opts.max_rejects,
        preamble=staged.preamble,
        sheet=staged.sheet,
        sheets=staged.sheets,
        paired_starts=checked.paired_starts,
        lifecycle_starts=checked.lifecycle_starts,
        left_out_events=checked.left_out_events,
    )


def _naive_roles(
    store: Store, formats: dict[str, TimestampFormat], mapping: ColumnMapping, internal: dict[str, str]
) -> tuple[str, ...]:
    """The timestamp roles with values that write no offset (in the rows the roles were chosen from)."""
    return tuple(
        role
        for role, label in (("timestamp", mapping.timestamp), ("start_timestamp", mapping.start_timestamp))
        if label
        and role in formats
        and has_naive_values(store, STAGE, internal[label], formats[role], rows=PROFILE_ROWS)
    )


def _offset_zone(
    store: Store,
    formats: dict[str, TimestampFormat],
    mapping: ColumnMapping,
    internal: dict[str, str],
    naive: tuple[str, ...],
) -> OffsetZone | None:
    """The zone keeping the offsets the timestamps write, when no timestamp (``naive``) is without one."""
    if naive or "timestamp" not in formats:
        return None
    return zone_from_offsets(store, STAGE, internal[mapping.timestamp], formats["timestamp"])


def _pair_starts(opts: IngestOptions, mapping: ColumnMapping, file: str) -> bool:
    """Whether to fold lifecycle starts into their completions; refused where there is nothing to pair."""
    if not opts.pair_starts:
        return False
    if mapping.start_timestamp:
        msg = phrase(
            f"{file}: ",
            Option("pair_starts"),
            f" pairs lifecycle start events with their completions, but the start-time column "
            f"{mapping.start_timestamp!r} already gives each event its start",
        )
        raise IngestError(msg, hint=phrase("load it without ", Option("pair_starts")))
    if not mapping.lifecycle:
        msg = phrase(
            f"{file}: ",
            Option("pair_starts"),
            " pairs lifecycle start events with their completions, but no lifecycle column was found",
        )
        raise IngestError(
            msg,
            hint=phrase("name the column that says start or complete with ", Option("lifecycle", "COLUMN")),
        )
    return True


def _mapping(
    guesses: dict[str, RoleGuess], formats: dict[str, TimestampFormat], timezone: str
) -> ColumnMapping:
    return ColumnMapping(
        case=guesses["case"].column or "",
        activity=guesses["activity"].column or "",
        timestamp=guesses["timestamp"].column or "",
        start_timestamp=guesses["start_timestamp"].column,
        resource=guesses["resource"].column,
        lifecycle=guesses["lifecycle"].column,
        cost=guesses["cost"].column,
        timestamp_format=formats["timestamp"].pattern if "timestamp" in formats else None,
        start_timestamp_format=formats["start_timestamp"].pattern if "start_timestamp" in formats else None,
        timezone=timezone,
    )
