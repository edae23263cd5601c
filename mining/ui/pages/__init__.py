"""The workbench's pages, one module each with a ``render()`` function.

``app.py`` registers them with ``st.navigation``.  The helpers below are the
building blocks two or more pages share: they only lay out records the
library returned; they compute nothing.  Cell values go to ``st.dataframe``
(plain text), never to ``unsafe_allow_html`` or ``st.html``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import streamlit as st

from mining.durations import span_words
from mining.moments import local_text
from mining.schema import QualityIssue, Reject, RoleGuess
from mining.ui.messages import md
from mining.ui.tables import data_table

__all__ = [
    "LIFECYCLE_NOTE",
    "ROLE_LABELS",
    "guesses_table",
    "kpis",
    "mapping_table",
    "object_centric_note",
    "quality_banner",
    "quality_table",
    "rejects_table",
    "span_text",
    "when_text",
]

#: How each role is labelled on the pages, in the mapping screen's order.
ROLE_LABELS = {
    "case": "Case",
    "activity": "Activity",
    "timestamp": "Timestamp",
    "start_timestamp": "Start timestamp",
    "resource": "Resource",
    "lifecycle": "Lifecycle",
    "cost": "Cost",
}


def when_text(value: dt.datetime | None, zone: str | None = None) -> str:
    """A moment as the pages print it, to the minute, on ``zone``'s wall clock (an IANA name; else as
    given): ``2025-03-01 09:00``; ``-`` for none."""
    if zone is None:
        return value.strftime("%Y-%m-%d %H:%M") if value else "-"
    return local_text(value, zone)


def span_text(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """The time from ``start`` to ``end`` in words (``12.5 days``, ``3.9 years``); ``-`` unless both are known."""
    if start is None or end is None:
        return "-"
    return span_words((end - start).total_seconds())


def kpis(
    *,
    cases: int,
    events: int,
    activities: int,
    variants: int,
    start: dt.datetime | None,
    end: dt.datetime | None,
    zone: str,
) -> None:
    """The five headline numbers of a log, as metrics; its first and last moments in ``zone``, the log's."""
    # The time span gets a wider cell: at 1440 px an equal fifth cut "12.3 months" to "12.3 mon…".
    cols = st.columns([1, 1, 1, 1, 1.4])
    cols[0].metric("Cases", f"{cases:,}")
    cols[1].metric("Events", f"{events:,}")
    cols[2].metric("Activities", f"{activities:,}")
    cols[3].metric("Variants", f"{variants:,}")
    shown = f"{when_text(start, zone)} to {when_text(end, zone)} ({zone}, the log's time zone)"
    cols[4].metric("Time span", span_text(start, end), help=shown)
    st.caption(f"From {shown}")


def mapping_table(roles: Mapping[str, str | None], formats: Mapping[str, str], timezone: str) -> None:
    """Which column plays which role, with the timestamp formats and the time zone."""
    rows = [
        {"role": label, "column": roles.get(role) or "(none)", "format": formats.get(role, "")}
        for role, label in ROLE_LABELS.items()
    ]
    data_table(rows, hide_index=True, width="stretch")
    st.caption(
        f"The log's time zone is {md(timezone)}: hours of the day, weekdays and weeks are read there, "
        "and so is any timestamp written without an offset."
    )


def guesses_table(guesses: Sequence[RoleGuess]) -> None:
    """The detector's choice per role, with its confidence and reason."""
    rows = [
        {
            "role": ROLE_LABELS.get(g.role, g.role),
            "column": g.column or "(none)",
            "confidence": f"{g.confidence:.0%}",
            "reason": g.reason,
        }
        for g in sorted(
            guesses, key=lambda g: list(ROLE_LABELS).index(g.role) if g.role in ROLE_LABELS else 99
        )
    ]
    data_table(rows, hide_index=True, width="stretch")


#: How each kind of finding is titled on the pages.
_FINDINGS = {
    "duplicate_events": "Duplicate events",
    "timestamp_ties": "Events at the same instant",
    "sentinel_dates": "Placeholder dates",
    "complete_before_start": "Completed before started",
    "dst_gap": "Times in a daylight-saving gap",
    "dst_overlap": "Times in a daylight-saving overlap",
    "renamed_columns": "Renamed columns",
    "skipped_preamble": "Lines above the header",
    "near_duplicate_activities": "Near-duplicate activity names",
    "names_with_spaces": "Names with leading or trailing spaces",
    "one_event_cases": "Cases with a single event",
    "cases_cut_by_extract": "Cases cut by the extract",
    "clock_shift": "Clock shift",
    "dates_without_times": "Dates without times",
}


def _finding_title(kind: str) -> str:
    return _FINDINGS.get(kind, kind.replace("_", " ").capitalize())


def quality_table(items: Sequence[QualityIssue]) -> None:
    """Data-quality findings that did not reject rows: what, how many, examples and what to do."""
    if not items:
        st.caption("No data-quality findings.")
        return
    for q in items:
        with st.container(border=True):
            st.markdown(f"**{md(_finding_title(q.kind))}** ({q.count:,}): {md(q.message)}")
            if q.examples:
                st.caption("Examples: " + "; ".join(md(e) for e in q.examples[:5]))
            if q.fix:
                st.caption(f"What to do: {md(q.fix)}")


#: Findings about how the file was read, not about the events: they change no figure of a page.
_READING_NOTES = frozenset({"renamed_columns", "skipped_preamble"})
#: Findings that put events at the wrong time, and so paths and durations in the wrong order: a warning.
#: The others (duplicates, ties, cut or one-event cases, names) are found in most real exports and
#: change figures at their margin: a note, so that a warning keeps its weight.
_MISREAD_TIMES = frozenset(
    {
        "dates_without_times",
        "clock_shift",
        "sentinel_dates",
        "complete_before_start",
        "dst_gap",
        "dst_overlap",
    }
)


def quality_banner(items: Sequence[QualityIssue], *, here: bool = True, filtered: bool = False) -> None:
    """One line at the head of a page whose figures the log's data-quality findings may change, naming
    them and pointing to the section that says what to do (on this page when ``here``, else on the
    Overview); nothing when there are none.  A warning when a finding misplaces events in time.

    The findings are of the whole log: under a filter (``filtered``) the line says so, as its counts
    may include none of the cases shown."""
    found = [q for q in items if q.kind not in _READING_NOTES]
    if not found:
        return
    names = [f"{md(_finding_title(q.kind))} ({q.count:,})" for q in found]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4:,} more" if len(names) > 4 else "")
    text = (
        f"{len(found):,} data-quality finding{'' if len(found) == 1 else 's'}"
        + (" of the whole log (counted before the filters)" if filtered else "")
        + " may change these figures: "
        f"{shown}. " + ("[See what to do](#data-quality)." if here else "The Overview says what to do.")
    )
    if any(q.kind in _MISREAD_TIMES for q in found):
        st.warning(text, icon=":material/rule:")
    else:
        st.info(text, icon=":material/rule:")


def rejects_table(items: Sequence[Reject], csv_bytes: bytes, *, file_name: str, key: str) -> None:
    """Rejected rows with file/row/column/reason/value, and the CSV to download."""
    if not items:
        st.caption("No rows were rejected.")
        return
    rows = [
        {"file": r.file, "row": r.row, "column": r.column or "", "reason": r.reason, "value": r.value or ""}
        for r in items
    ]
    data_table(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "row": st.column_config.NumberColumn(
                format="localized",
                help="The data row, counted from 1 below the header: in a plain CSV, row N is line N + 1.",
            )
        },
    )
    st.download_button(
        f"Download {len(items):,} rejected rows (CSV)",
        csv_bytes,
        file_name=file_name,
        mime="text/csv",
        on_click="ignore",
        key=key,
        icon=":material/download:",
    )


#: Said where a log with lifecycle start events is drawn or listed event by event (the map, the variants).
LIFECYCLE_NOTE = (
    "This log records a start and a completion of each activity as two events, and both are counted here: "
    "an activity followed by itself (A → A) is mostly its start and then its completion. The Bottlenecks "
    "page pairs them into activity instances, with their processing times. To see one step per instance "
    "here, load the file again as a new log with “One step per activity instance” ticked under the Upload "
    "page's Options."
)


def object_centric_note(mapping: Mapping[str, object], *, on_map: bool) -> str | None:
    """What a log flattened from an object-centric (OCEL) export hides or repeats, said on the map
    (``on_map``) or above the rework figures; None for any other log.  The facts are the preset's,
    kept with the log."""
    facts = mapping.get("preset_facts")
    if mapping.get("preset") != "ocel" or not isinstance(facts, Mapping):
        return None
    kind = md(str(facts.get("object_type", "")))
    found = facts.get("divergent")
    divergent = list(found.items())[:3] if isinstance(found, Mapping) else []
    # "'pick item' repeats within a case once per 'items' object; 'scan' once per 'labels' object"
    repeats = "; ".join(
        f"'{md(str(a))}' {'repeats within a case ' if k == 0 else ''}once per '{md(str(t))}' object"
        for k, (a, t) in enumerate(divergent)
    )
    if not on_map:
        if not repeats:
            return None
        kinds = ", ".join(sorted({f"'{md(str(t))}'" for _, t in divergent}))
        return (
            f"In this log, flattened on '{kind}' from an object-centric export, {repeats}: the case's objects "
            "handled one by one (divergence), which the figures below do not count as rework. A repeat is "
            f"rework when the activity is done again on the same {kinds} object."
        )
    left_out = int(facts.get("events_left_out") or 0)
    said = []
    if left_out:
        said.append(f"the {left_out:,} events that touch no '{kind}' object are not on this map")
    if repeats:
        said.append(f"{repeats}, which is the case's objects handled one by one, not rework")
    if not said:
        return None
    return f"Flattened on '{kind}' from an object-centric log: " + "; ".join(said) + "."
