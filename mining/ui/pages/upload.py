"""Upload: load an export into the workspace and see what the ingest did.

The file is saved under a random name in a private per-session directory
(its suffixes kept, so ``.xes.gz`` still reads as XES) and hashed.  Before
anything is written the page shows :func:`mining.ingest.preview`: the roles
with their confidence, the formats, the preset and the first rows.  The
ingest itself runs in a child process (:mod:`mining.ingest.job`) behind a
progress bar, so Cancel stops it at once and leaves the workspace as it was.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from mining.errors import Phrase, TooManyRejects
from mining.ingest import IngestOptions, IngestPreview, log_name_for
from mining.ingest.staging import JOIN
from mining.schema import IngestSummary, Reject
from mining.ui import state, uploads
from mining.ui.messages import app_text, md, reporting_errors, show_error
from mining.ui.pages import ROLE_LABELS, guesses_table, kpis, mapping_table, quality_table, rejects_table
from mining.ui.tables import data_table
from mining.words import agree, plural

__all__ = ["render"]

_TYPES = [
    "csv",
    "tsv",
    "txt",
    "xlsx",
    "xls",
    "ods",
    "htm",
    "html",
    "parquet",
    "xes",
    "mxml",
    "gz",
    "json",
    "jsonl",
    "zip",
    "jsonocel",
    "xmlocel",
    "xml",
    "sqlite",
    "sqlite3",
]
_AUTO = "\x00auto"
_NO_PRESET = "\x00none"
_POLL_S = 0.2
_REQUIRED = ("case", "activity", "timestamp")
# Sentinels for the role select boxes; a header can never hold a NUL character.
_DETECT = "\x00detect"
_NONE = "\x00none"
_CHOICE_LABELS = {_DETECT: "(detect)", _NONE: "(none)"}
_ORDER = {
    "Detect": None,
    "Day first (03/04 is 3 April)": True,
    "Month first (03/04 is March 4)": False,
}
_RESULT = "mining.upload_result"
#: Where to go after an ingest: page titles and the links' words.
_EXPLORE_LINKS = (
    ("Process map", "Explore it on the process map"),
    ("Overview", "See its overview"),
    ("Variants", "See its variants"),
)
_VERB = {"loaded": "Loaded", "appended": "Appended to", "unchanged": "Unchanged:"}


def render(pages: Mapping[str, Any] | None = None) -> None:
    """The page; ``pages`` maps page titles to the ``st.Page`` objects the summary links to."""
    st.title("Upload")
    st.caption(
        "CSV/TSV/TXT, Excel .xlsx or .xls, OpenDocument .ods, Parquet, XES or MXML, JSON or XML event "
        "records, optionally gzip-compressed (.gz); or a "
        "business system's "
        "export (Jira, ServiceNow, Zendesk, Shopify, Square, SAP, Odoo, a change log) as CSV, JSON or a .zip "
        "of its tables; or an object-centric log (OCEL 2.0 JSON, XML or SQLite; OCEL 1.0 JSON or XML)."
    )
    uploads.prepare_readers()  # the file's header and preview are read in children: have them ready
    uploaded = st.file_uploader("Event log export", type=_TYPES)
    if uploaded is None:
        return
    with reporting_errors():
        _render(uploads.save_upload(uploaded), pages or {})


def _render(upload: uploads.Upload, pages: Mapping[str, Any]) -> None:
    options = _options(upload)
    result = st.session_state.get(_RESULT)
    if result is not None and result[:2] == (upload.sha256, options):
        # Ingested: the summary shows the mapping once; changing an option brings the preview back.
        _summary(upload, result[2], result[3], pages)
        return
    if not _preview(upload, options):
        return  # the error says what to fix; the options above re-run the preview
    if st.session_state.get("upload-cancel"):
        st.info("Ingest cancelled; the workspace is as it was.", icon=":material/cancel:")
    if st.button("Ingest", type="primary", key="upload-ingest", icon=":material/upload:") and _ingest(
        upload, options
    ):
        st.rerun()  # draw the summary alone: no progress bar, Cancel button or preview left over


def _object_type(upload: uploads.Upload) -> str | None:
    """The case notion of an object-centric (OCEL) upload, chosen beside the preview; None for other files."""
    found = uploads.upload_object_types(upload)
    if not found:
        return None
    types, default = found
    names = [t for t, _, _ in types]
    label = {t: f"{t} ({plural(o, 'object')}, {plural(e, 'event')})" for t, o, e in types}
    return st.selectbox(
        "Cases are the objects of type",
        names,
        index=names.index(default),
        format_func=label.__getitem__,
        key=f"upload-object-type-{upload.sha256}",
        help="This is an object-centric log: an event can touch several objects (an order, its items, a "
        "package). Each object of the chosen type becomes a case with the events that touch it; the notes "
        "below count the events this leaves out or copies into several cases.",
    )


def _options(upload: uploads.Upload) -> IngestOptions:
    object_type = _object_type(upload)
    with st.expander("Options", icon=":material/tune:"):
        zones = {i.name: i.timezone for i in state.logs()}
        existing = list(zones)
        append = st.checkbox(
            "Append to an existing log",
            disabled=not existing,
            help="Add only the new events of a newer export to a log loaded earlier.",
        )
        if append:
            name = st.selectbox("Log to append to", existing)
        else:
            name = st.text_input("Log name", value=log_name_for(Path(upload.name)))

        columns = uploads.upload_columns(upload)
        st.markdown("**Columns**: leave a role on *(detect)* to let mining choose.")
        roles: dict[str, str | None] = {}
        # The activity and the timestamp get double-width cells: several chosen columns show as chips
        # side by side, and in a quarter of the page the second chip is scrolled out of sight.
        items = list(ROLE_LABELS.items())
        cells = [*st.columns([1, 2, 2]), *st.columns(4)]
        for (role, label), cell in zip(items, cells[: len(items)], strict=True):
            with cell:
                choice = _role_input(role, label, columns)
            if choice == _NONE:
                roles[role] = None
            elif choice and choice != _DETECT:
                roles[role] = choice

        order = st.radio("Dates such as 03/04/2025", list(_ORDER), horizontal=True)
        timestamp_format = st.text_input(
            "Timestamp format",
            placeholder="%d/%m/%Y %H:%M",
            help="A strptime pattern ('excel' for Excel's day numbers); leave blank to detect it.",
        )
        zone, encoding, sheet_cell = st.columns(3)
        timezone = zone.text_input(
            "Time zone",
            placeholder="(from the file)",
            help="IANA name (Europe/Berlin) for timestamps without an offset, and the zone the log is shown "
            "in. Blank: the zone that keeps the offsets the times write (the preview names it), else UTC, "
            "or the log's own zone when appending.",
        )
        encoding_name = encoding.text_input(
            "Encoding",
            placeholder="(detect)",
            help="The file's text encoding when it is not UTF-8, e.g. cp1252.",
        )
        sheet = sheet_cell.text_input(
            "Sheet",
            placeholder="(the largest)",
            help="The sheet of an Excel workbook to read; blank: the sheet with the most cells.",
        )
        max_rejects = st.slider(
            "Max rejected rows (%)", 0, 100, 5, help="The ingest fails when more rows than this are rejected."
        )
        pair_starts = st.checkbox(
            "One step per activity instance",
            key="upload-pair-starts",
            help="For a file that records the start and the completion of each activity as two events "
            "(a lifecycle column saying start and complete): pair each start with its completion, so the "
            "map, the variants and the counts show one step per activity instance, with its processing "
            "time, as Disco does; events of other transitions (schedule, suspend, resume) mark no step and "
            "are left out. Off: every event is a step, as the file lists them.",
        )
        preset = _preset_input()
        preset_roles = _change_history_input(columns) if preset == "changelog" else {}
        include = st.text_input(
            "Also read as events",
            placeholder="assignee, resolution",
            help="A preset's optional event families or fields, comma-separated: Jira's assignee, resolution "
            "and sprint changes; a change log's or Odoo's field names; 'all' for every field; the date "
            "columns of a list with a date per step (Created at, Solved at).",
        )
    return IngestOptions(
        name=(name or "").strip() or None,
        append=append,
        roles=roles,
        timestamp_format=timestamp_format.strip() or None,
        dayfirst=_ORDER[order],
        # Blank: the library's default (UTC), or on append the log's zone, named so the preview shows it.
        timezone=timezone.strip() or (zones.get(name or "") if append else None),
        encoding=encoding_name.strip() or None,
        sheet=sheet.strip() or None,
        max_rejects=max_rejects / 100,
        display_name=upload.name,
        preset=preset,
        include=tuple(i.strip() for i in include.split(",") if i.strip()),
        preset_roles=preset_roles,
        object_type=object_type,
        pair_starts=pair_starts or None,
    )


#: The change-log preset's own columns, beside the case, timestamp and resource chosen above.
_CHANGE_ROLES = {"field": "Field name", "new": "New value", "old": "Old value"}


def _change_history_input(columns: tuple[str, ...] | None) -> dict[str, str]:
    """The change log's field / new / old columns; unset ones are found by their names."""
    st.markdown(
        "**Change history**: one row per change of a record. The record is the *Case* above, who changed "
        "it the *Resource* and when the *Timestamp*; each change of the field becomes an event "
        "'field: new value'."
    )
    chosen: dict[str, str] = {}
    grid = st.columns(len(_CHANGE_ROLES))
    for (role, label), cell in zip(_CHANGE_ROLES.items(), grid, strict=True):
        with cell:
            if columns is None:
                value = st.text_input(label, placeholder="(detect)", key=f"upload-change-{role}").strip()
            else:
                value = st.selectbox(
                    label,
                    [_DETECT, *columns],
                    format_func=lambda c: _CHOICE_LABELS.get(c, c),
                    key=f"upload-change-{role}",
                )
        if value and value != _DETECT:
            chosen[role] = value
    return chosen


def _preset_input() -> str:
    from mining.ingest.presets import presets

    known = {name: title for name, title, _ in presets()}
    choice = st.selectbox(
        "Source system",
        [_AUTO, *known, _NO_PRESET],
        format_func=lambda c: {_AUTO: "Detect automatically", _NO_PRESET: "None: a plain event log"}.get(
            c, known.get(c, c)
        ),
        help="A preset turns a system's raw export (changelogs, orders, audit tables) into events.",
    )
    return {_AUTO: "auto", _NO_PRESET: "none"}.get(choice, choice)


def _preview(upload: uploads.Upload, options: IngestOptions) -> bool:
    """Show what the ingest would do; False when it could not work that out (the error is shown)."""
    st.subheader("Preview")
    plan = None
    with reporting_errors():
        plan = uploads.preview_upload(upload, options)
        if plan is None:
            st.caption("No preview for files this large; the columns are detected during the ingest.")
            return True
        _show_preview(plan)
    return plan is not None


def _show_preview(plan: IngestPreview) -> None:
    if plan.preset:
        _preset_notes(plan.preset, plan.preset_notes)
    if plan.sheet is not None and len(plan.sheets) > 1:
        others = ", ".join(f"“{md(s)}”" for s in plan.sheets if s != plan.sheet)
        st.caption(
            f"Reading the sheet “{md(plan.sheet)}”; the file also has {others}. "
            "The Sheet option under Options reads another."
        )
    if plan.preamble:
        st.caption(
            f"The table starts below {plural(len(plan.preamble), 'title line')}, skipped: "
            + "; ".join(f"“{md(line)}”" for line in plan.preamble[:3])
        )
    # "Timestamp read as %d.%m.%Y %H:%M, Start timestamp as ISO 8601", in the Options' own labels.
    read = [
        f"{ROLE_LABELS.get(role, role)} {'read ' if not k else ''}as {md(fmt)}"
        for k, (role, fmt) in enumerate(plan.timestamp_formats.items())
    ]
    st.caption(
        f"{plan.rows_read:,} rows; "
        + ", ".join(read)
        + (
            f"; the times write their offsets ({', '.join(plan.shown_in.offsets)}): the log will be shown "
            f"in {md(plan.shown_in.zone)}, which keeps them. "
            if plan.shown_in
            else f"; times without a time zone are read as {md(plan.timezone)} time. "
        )
        + "Change a role under Options if it is wrong."
    )
    guesses_table(plan.guesses)
    # The file's own text: an empty field stays empty, so a "-" shown is a "-" in the file.
    data_table(
        [dict(zip(plan.columns, row, strict=True)) for row in plan.sample],
        hide_index=True,
        width="stretch",
        placeholder="",
    )
    _show_counts(plan)


def _show_counts(plan: IngestPreview) -> None:
    """What the ingest will store, counted over every row with the ingest's own checks."""
    st.markdown(f"**The ingest will store**, counted over all {plan.rows_read:,} rows with the same checks:")
    cols = st.columns(4)
    cols[0].metric("Cases", f"{plan.cases:,}")
    cols[1].metric("Events", f"{plan.events:,}")
    cols[2].metric("Activities", f"{plan.activities:,}")
    cols[3].metric("Rows to reject", f"{plan.rejected_rows:,}")
    if plan.paired_starts or plan.left_out_events:
        st.caption(
            f"{plural(plan.paired_starts, 'start event')} will be paired with {agree(plan.paired_starts, 'its', 'their')} "
            "completions: each activity instance is one step, with its processing time."
            + (
                f" {plural(plan.left_out_events, 'event')} of other transitions (schedule, suspend, resume) "
                f"{agree(plan.left_out_events, 'marks', 'mark')} no step and will be left out."
                if plan.left_out_events
                else ""
            )
        )
    elif plan.lifecycle_starts:
        st.caption(
            f"{plural(plan.lifecycle_starts, 'event')} of these {agree(plan.lifecycle_starts, 'is a start', 'are starts')} "
            "of an activity whose completion is another event: the map and the variants will count both as "
            "steps. Tick “One step per activity instance” under Options to pair them."
        )
    for column, words in plan.missing_words.items():
        shown = ", ".join(f"'{md(w)}' ({n:,})" for w, n in words.items())
        st.caption(f"Read as missing in {md(column)}: {shown}. Case, activity and resource keep such words.")
    if plan.would_fail:
        share = plan.rejected_rows / plan.rows_read
        st.warning(
            f"{plan.rejected_rows:,} of {plan.rows_read:,} rows ({share:.1%}) would be rejected, more than the "
            f"{plan.max_rejects:.0%} allowed: the ingest would stop and store nothing. Check the columns and "
            'formats above, or raise the "Max rejected rows" slider under Options.',
            icon=":material/warning:",
        )
    if plan.rejects:
        with st.expander(f"First rows to reject ({len(plan.rejects):,} of {plan.rejected_rows:,})"):
            data_table(
                [
                    {"row": r.row, "column": r.column or "", "reason": r.reason, "value": r.value or ""}
                    for r in plan.rejects
                ],
                hide_index=True,
                width="stretch",
            )


def _role_input(role: str, label: str, columns: tuple[str, ...] | None) -> str | None:
    if role == "activity":
        why = (
            f"joined with '{JOIN}' into one name, e.g. a code and its title, or an activity and its lifecycle"
        )
        return _joined_input(label, columns, why)
    if role == "timestamp":
        # SAP's change documents, and many spreadsheets, keep the date and the time of day apart.
        return _joined_input(
            label, columns, "read as one time: a date column, then a time-of-day column", most=2
        )
    if columns is None:
        help_text = "Column name; blank to detect." + ("" if role in _REQUIRED else " Type - for none.")
        typed = st.text_input(label, placeholder="(detect)", help=help_text).strip()
        return _NONE if typed == "-" and role not in _REQUIRED else typed or None
    options = [_DETECT] + ([] if role in _REQUIRED else [_NONE]) + list(columns)
    return st.selectbox(label, options, format_func=lambda c: _CHOICE_LABELS.get(c, c))


def _joined_input(
    label: str, columns: tuple[str, ...] | None, why: str, *, most: int | None = None
) -> str | None:
    """One column, or several joined into one (``code+title``, ``date+time``), as ``--activity code
    --activity title`` or ``--timestamp date+time`` on the command line."""
    if columns is None:
        typed = st.text_input(
            label,
            placeholder="(detect)",
            help=f"Column name; blank to detect; COL1{JOIN}COL2 for several, {why}.",
        )
        return typed.strip() or None
    chosen = st.multiselect(
        label,
        list(columns),
        placeholder="(detect)",
        max_selections=most,
        help=f"Leave empty to detect; pick {'two' if most == 2 else 'several'} columns to have them {why}.",
    )
    return JOIN.join(chosen) if chosen else None


def _ingest(upload: uploads.Upload, options: IngestOptions) -> bool:
    """Run the ingest under a progress bar and a Cancel button; True when it succeeded."""
    st.session_state.pop(_RESULT, None)
    job = uploads.start_ingest(upload, options)
    slot = st.empty()
    running = slot.container()
    bar = running.progress(0.0, text=f"Ingesting {md(upload.name)}…")
    # A click on Cancel reruns the page, which stops this loop at its next
    # Streamlit call; the finally then kills the child process.
    running.button("Cancel", key="upload-cancel", icon=":material/cancel:")
    try:
        while not (status := job.status()).done:
            bar.progress(status.share, text=md(status.message))
            time.sleep(_POLL_S)
        summary = job.result()
        bar.progress(1.0, text="Done")
    except TooManyRejects as exc:
        show_error(exc)
        found = [r for r in exc.rejects if isinstance(r, Reject)]
        rejects_table(found, state.rejects_csv(found), file_name="rejects.csv", key="upload-too-many-rejects")
        return False
    finally:
        job.cancel()
        slot.empty()  # no progress bar or Cancel button left once it is over
    st.session_state[_RESULT] = (upload.sha256, options, summary, state.rejects_csv(summary.rejects))
    state.remember_log(summary.log)
    return True


def _preset_notes(preset: str, notes: tuple[str | Phrase, ...]) -> None:
    """Which preset read the export, and what it did (events made, left out, copied), as it said."""
    from mining.ingest.presets import get_preset

    st.info(f"Read with the **{md(get_preset(preset).title)}** preset.", icon=":material/hub:")
    for note in notes:
        st.caption(md(app_text(note)))


def _summary(
    upload: uploads.Upload, summary: IngestSummary, csv_bytes: bytes, pages: Mapping[str, Any]
) -> None:
    st.success(
        f"{_VERB.get(summary.status, summary.status)} log **{md(summary.log)}** "
        f"from {md(upload.name)}. Every page now shows it.",
        icon=":material/check_circle:",
    )
    links = [(title, label) for title, label in _EXPLORE_LINKS if title in pages]
    if links:
        cols = st.columns(len(links))
        for col, (title, label) in zip(cols, links, strict=True):
            col.page_link(pages[title], label=label, icon=pages[title].icon or None)
    kpis(
        cases=summary.cases,
        events=summary.events,
        activities=summary.activities,
        variants=summary.variants,
        start=summary.start,
        end=summary.end,
        zone=summary.timezone,
    )
    cols = st.columns(5)
    cols[0].metric("Rows read", f"{summary.rows_read:,}")
    cols[1].metric("Events added", f"{summary.events_added:,}")
    cols[2].metric("Rejected rows", f"{summary.rejected_rows:,}")
    for warning in summary.warnings:
        st.warning(md(app_text(warning)), icon=":material/warning:")
    if summary.preset:
        # After the ingest too: what the preset left out or copied is what the pages will show.
        _preset_notes(summary.preset, summary.preset_notes)

    st.subheader("Column mapping")
    mapping_table(summary.mapping.roles(), summary.timestamp_formats, summary.timezone)
    if summary.guesses:
        with st.expander("How the columns were detected"):
            guesses_table(summary.guesses)

    st.subheader("Data quality")
    quality_table(summary.quality)

    st.subheader("Rejected rows")
    rejects_table(summary.rejects, csv_bytes, file_name="rejects.csv", key="upload-rejects")
