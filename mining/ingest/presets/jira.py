"""Jira issues with their change history, as an event log.

Two shapes are read:

* the REST JSON of ``/rest/api/2|3/search?expand=changelog`` (``{"issues":
  [...]}``), a list of issues, or one issue (``/issue/KEY?expand=changelog``).
  Each issue has ``key``, ``fields`` and ``changelog.histories[]``; a history
  has ``id``, ``author{displayName, accountId}``, ``created``
  (``2017-02-28T09:24:59.366-0600``) and ``items[]`` of ``field``,
  ``fromString``, ``toString``.
* a changelog CSV/XLSX with one row per changed item, the REST changelog
  flattened: ``Issue key``, ``Author``, ``Created``, ``Field``, ``From
  String``, ``To String`` (also spelt ``issue_key``, ``fromString``,
  ``toString``...), optionally ``Issue type``, ``Priority``, ``Project``,
  ``Components``.  Jira has no built-in export of this shape (its issue CSV
  export has no history); this is the layout changelog exporters and
  scripts write.  It holds changes only, so its issues have no ``Created``
  event.

One case per issue ``key``.  Events: ``Created`` at ``fields.created`` (by
``fields.creator``, else ``fields.reporter``), and ``Status: <toString>``
for every ``status`` item.  ``include`` adds ``assignee`` changes
(``Assigned``/``Unassigned``, the person in the ``to`` attribute),
``resolution`` changes (``Resolution: <toString>`` or ``Resolution
cleared``) and ``sprint`` changes (``Sprint changed``).  The resource is the
history's ``author.displayName`` (``accountId`` when the name is hidden).
Attributes: ``issuetype``, ``priority``, ``project`` (key), ``components``
(names joined with ``, ``), the item's ``from``/``to`` and ``source_row``
(the JSON path or file row).  Timestamps carry their offset and are written
out in UTC; CSV values without an offset are read in ``--timezone``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mining.errors import BadExport, MissingColumn, Option, Phrase, phrase
from mining.ingest.presets.base import (
    ISO,
    SOURCE_ROW,
    EventTable,
    Preset,
    PresetOptions,
    RawExport,
    find_column,
    norm,
    parse_timestamps,
    pl,
    plural,
    require_columns,
    text,
)

__all__ = ["FAMILIES", "PRESET", "build", "detect"]

#: Optional event families (``include``), besides the status changes always read.
FAMILIES = ("assignee", "resolution", "sprint")

_EXAMPLE = "2017-02-28T09:24:59.366-0600"
_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
_COLUMNS = (
    "issue",
    "activity",
    "timestamp",
    "author",
    "issuetype",
    "priority",
    "project",
    "components",
    "from",
    "to",
    SOURCE_ROW,
)
_ROLES = {"case": "issue", "activity": "activity", "timestamp": "timestamp", "resource": "author"}

# The changelog CSV: what each part is called, in normalised spellings.
_CSV_NEEDED = {
    "Issue key": ("issuekey", "key", "issue"),
    "Created": ("created", "changed", "changedat", "date"),
    "Field": ("field", "fieldname"),
    "To String": ("tostring", "to", "tovalue"),
}
_CSV_OPTIONAL = {
    "author": ("author", "authorname", "user", "changedby"),
    "from": ("fromstring", "from", "fromvalue"),
    "issuetype": ("issuetype", "type"),
    "priority": ("priority",),
    "project": ("project", "projectkey"),
    "components": ("components", "component"),
}


def _issues(doc: object) -> list[Any] | None:
    """The issues of a Jira JSON document, or None when it does not hold issues."""
    if isinstance(doc, Mapping):
        if isinstance(doc.get("issues"), list):
            return doc["issues"]
        if "key" in doc and "fields" in doc:
            return [doc]
        return None
    if isinstance(doc, list) and doc and all(isinstance(i, Mapping) for i in doc[:20]):
        return doc
    return None


def _path(doc: object, i: int) -> str:
    if isinstance(doc, Mapping):
        return f"issues[{i}]" if "issues" in doc else "issue"
    return f"[{i}]"


def detect(raw: RawExport) -> float:
    """0.95 for issues with a changelog, 0.6 for issues without one, 0.9 for a changelog table."""
    best = 0.0
    for doc in raw.documents.values():
        issues = _issues(doc)
        if not issues:
            continue
        sample = issues[:20]
        # Most issues, not all: one broken issue should get its own error from build().
        shaped = [
            i
            for i in sample
            if isinstance(i, Mapping) and "key" in i and isinstance(i.get("fields"), Mapping)
        ]
        if len(shaped) < 0.8 * len(sample):
            continue
        with_log = any(
            isinstance(i.get("changelog"), Mapping) and "histories" in i["changelog"] for i in shaped
        )
        best = max(best, 0.95 if with_log else 0.6)
    for frame in raw.tables.values():
        names = {norm(c) for c in frame.columns}
        if all(any(n in names for n in spellings) for spellings in _CSV_NEEDED.values()) and (
            "issuekey" in names and ("tostring" in names or "fromstring" in names)
        ):
            best = max(best, 0.9)
    return best


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One row per event: see the module docstring."""
    unknown = [f for f in options.include if f not in FAMILIES]
    if unknown:
        msg = phrase(
            f"unknown Jira event family {unknown[0]!r} for ",
            Option("include"),
            f"; expected one of: {', '.join(FAMILIES)}",
        )
        raise BadExport(msg)
    families = {"status", *options.include}
    for key, doc in raw.documents.items():
        if _issues(doc) is not None:
            return _from_json(raw.source(key), doc, families)
    for key, frame in raw.tables.items():
        if find_column(frame.columns, *_CSV_NEEDED["Field"]) is not None:
            return _from_table(raw.source(key), frame, families)
    if raw.tables:
        key, frame = next(iter(raw.tables.items()))
        require_columns(frame, _CSV_NEEDED, file=raw.source(key), what="a Jira changelog export")
    keys = sorted({k for d in raw.documents.values() if isinstance(d, Mapping) for k in d}) or ["none"]
    msg = (
        f"{raw.file}: not a Jira export: expected an 'issues' list (search?expand=changelog) or an issue with "
        f"'key' and 'fields'; top-level keys: {', '.join(keys)}"
    )
    raise MissingColumn(msg)


def _activity(field: str | None, to: str | None, families: set[str]) -> str | None:
    kind = (field or "").lower()
    if kind == "status" and "status" in families:
        return f"Status: {to}" if to else "Status cleared"
    if kind == "assignee" and "assignee" in families:
        return "Assigned" if to else "Unassigned"
    if kind == "resolution" and "resolution" in families:
        return f"Resolution: {to}" if to else "Resolution cleared"
    if kind == "sprint" and "sprint" in families:
        return "Sprint changed"
    return None


def _name(value: object, key: str) -> str | None:
    return text(value.get(key)) if isinstance(value, Mapping) else None


def _person(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return text(value.get("displayName")) or text(value.get("accountId")) or text(value.get("name"))


def _require(obj: object, key: str, where: str, expected: str) -> Any:
    if not isinstance(obj, Mapping) or obj.get(key) in (None, ""):
        msg = f"{where}: missing key {key!r}; expected {expected}"
        raise MissingColumn(msg)
    return obj[key]


def _from_json(file: str, doc: object, families: set[str]) -> EventTable:
    issues = _issues(doc) or []
    rows: list[tuple[str | None, ...]] = []
    stamps: list[tuple[str, str]] = []  # (raw value, where) per row, for messages
    left_out = 0
    truncated: list[str] = []
    for i, issue in enumerate(issues):
        at = f"{file} {_path(doc, i)}"
        if not isinstance(issue, Mapping):
            msg = f"{at}: expected an issue object, got {type(issue).__name__}"
            raise BadExport(msg)
        key = text(_require(issue, "key", at, "the issue key, e.g. 'PROJ-123'"))
        fields = _require(issue, "fields", at, "the issue's fields (issuetype, created, ...)")
        created = _require(fields, "created", f"{at}.fields", f"the creation time, like {_EXAMPLE!r}")
        changelog = _require(issue, "changelog", at, "the change history: search with expand=changelog")
        histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
        if not isinstance(histories, list):
            msg = f"{at}.changelog: missing key 'histories'; expected the list of changes (expand=changelog)"
            raise MissingColumn(msg)
        total = changelog.get("total")
        if isinstance(total, int) and total > len(histories):
            truncated.append(f"{key} ({len(histories)} of {total})")
        components = fields.get("components")
        attrs = (
            _name(fields.get("issuetype"), "name"),
            _name(fields.get("priority"), "name"),
            _name(fields.get("project"), "key"),
            ", ".join(n for c in components if (n := _name(c, "name")))
            if isinstance(components, list)
            else None,
        )
        creator = _person(fields.get("creator")) or _person(fields.get("reporter"))
        rows.append((key, "Created", creator, *attrs, None, None, f"{file} {_path(doc, i)}.fields.created"))
        stamps.append((text(created) or "", f"{at}.fields, key 'created'"))
        for j, history in enumerate(histories):
            hat = f"{at}.changelog.histories[{j}]"
            when = _require(history, "created", hat, f"the time of the change, like {_EXAMPLE!r}")
            items = history.get("items") if isinstance(history, Mapping) else None
            if not isinstance(items, list):
                msg = f"{hat}: missing key 'items'; expected the list of changed fields"
                raise MissingColumn(msg)
            author = _person(history.get("author"))
            for k, item in enumerate(items):
                if not isinstance(item, Mapping):
                    msg = f"{hat}.items[{k}]: expected an object with 'field', 'fromString' and 'toString'"
                    raise BadExport(msg)
                to = text(item.get("toString"))
                activity = _activity(text(item.get("field")), to, families)
                if activity is None:
                    left_out += 1
                    continue
                source = f"{hat}.items[{k}]"
                rows.append((key, activity, author, *attrs, text(item.get("fromString")), to, source))
                stamps.append((text(when) or "", f"{hat}, key 'created'"))
    frame = pl.DataFrame(
        [(r[0], r[1], s[0], *r[2:]) for r, s in zip(rows, stamps, strict=True)],
        schema={c: pl.Utf8 for c in _COLUMNS},
        orient="row",
    )
    where = [s[1] for s in stamps]
    frame = frame.with_columns(
        parse_timestamps(
            frame["timestamp"], formats=_AWARE + _NAIVE, example=_EXAMPLE, where=where.__getitem__
        )
    )
    notes: list[str | Phrase] = [
        f"{plural(len(issues), 'issue')}, {plural(len(rows) - len(issues), 'field change')} read as events"
    ]
    if left_out:
        notes.append(_left_out_note(left_out, families))
    if truncated:
        notes.append(
            "the export holds only part of the history of "
            + ", ".join(truncated[:5])
            + (f" and {len(truncated) - 5:,} more" if len(truncated) > 5 else "")
            + "; fetch /rest/api/3/issue/KEY/changelog for the rest"
        )
    return EventTable(frame=frame, roles=_ROLES, timestamp_format=ISO, notes=tuple(notes))


def _left_out_note(n: int, families: set[str]) -> str | Phrase:
    missing = [f for f in FAMILIES if f not in families]
    note = f"{plural(n, 'change')} of other fields {'is not an event' if n == 1 else 'are not events'}"
    return phrase(note, f" (add {', '.join(missing)} with ", Option("include"), ")") if missing else note


def _from_table(file: str, frame: pl.DataFrame, families: set[str]) -> EventTable:
    found = require_columns(frame, _CSV_NEEDED, file=file, what="a Jira changelog export")
    optional = {k: find_column(frame.columns, *names) for k, names in _CSV_OPTIONAL.items()}
    n = frame.height
    rows = pl.DataFrame({"_i": range(n)}).with_columns(
        frame[found["Issue key"]].alias("issue"),
        frame[found["Field"]].alias("_field"),
        frame[found["To String"]].alias("to"),
        frame[found["Created"]].alias("timestamp"),
        *(
            (frame[col] if col else pl.Series([None] * n, dtype=pl.Utf8)).alias(name)
            for name, col in optional.items()
        ),
    )
    missing_key = rows.filter(pl.col("issue").is_null())
    if missing_key.height:
        row = int(missing_key["_i"][0]) + 1
        msg = f"{file} row {row}, column {found['Issue key']!r}: missing issue key; expected e.g. 'PROJ-123'"
        raise MissingColumn(msg)
    activities = [_activity(f, t, families) for f, t in zip(rows["_field"], rows["to"], strict=True)]
    rows = rows.with_columns(pl.Series("activity", activities, dtype=pl.Utf8))
    left_out = int(rows["activity"].is_null().sum())
    rows = rows.filter(pl.col("activity").is_not_null())
    index = rows["_i"].to_list()
    column = found["Created"]
    stamps = parse_timestamps(
        rows["timestamp"],
        formats=_AWARE + _NAIVE,
        example=_EXAMPLE,
        where=lambda i: f"{file} row {index[i] + 1}, column {column!r}",
    )
    out = rows.with_columns(
        stamps.alias("timestamp"),
        (pl.lit(f"{file} row ") + (pl.col("_i") + 1).cast(pl.Utf8)).alias(SOURCE_ROW),
    ).select(_COLUMNS)
    notes: list[str | Phrase] = [
        f"{plural(out['issue'].n_unique(), 'issue')}, {plural(out.height, 'field change')} read as events; "
        "the changelog table has no creation times, so there are no Created events"
    ]
    if left_out:
        notes.append(_left_out_note(left_out, families))
    return EventTable(frame=out, roles=_ROLES, timestamp_format=ISO, notes=tuple(notes))


PRESET = Preset(
    name="jira",
    title="Jira (issue changelog)",
    description=(
        "Jira REST issues with expand=changelog (JSON), or a changelog table (issue key, author, created, "
        "field, from, to): one case per issue, Created and Status: <status> events; --include assignee, "
        "resolution, sprint for more."
    ),
    detect=detect,
    build=build,
)
