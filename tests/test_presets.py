"""The preset machinery: the registry, detection, reading exports (JSON, folders, zips) and the ingest hook.

The presets' own event logs are tested in ``test_presets_ticketing.py`` and
the other preset test files; here the fixtures of every system serve to
check that detection picks the system they come from, and that plain event
logs are left to the ordinary column detection.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.cli import cli
from mining.errors import BadEncoding, BadExport, BadTimestamp, IngestError, UnknownFormat, UnsafeInput
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.presets import PRESET_MODULES, detect_preset, get_preset, presets
from mining.ingest.presets.base import PresetOptions, RawExport, parse_timestamps
from mining.ingest.presets.raw import content_hash, read_export
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

PRESETS = FILES / "presets"
JIRA_JSON = PRESETS / "jira" / "search_changelog.json"
AUDIT = PRESETS / "servicenow" / "audit"
AUDITS = PRESETS / "zendesk" / "ticket_audits.json"
ALL = ("jira", "servicenow", "zendesk", "shopify", "square", "sap", "odoo", "ocel", "changelog", "milestones")

#: Every fixture of the presets written here, and what detection must say.
MINE = {
    "jira/search_changelog.json": "jira",
    "jira/changelog_export.csv": "jira",
    "servicenow/audit": "servicenow",
    "servicenow/incident_event_log.csv": "servicenow",
    "zendesk/ticket_audits.json": "zendesk",
    "zendesk/ticket_events.json": "zendesk",
    "changelog/deal_changes.csv": "changelog",
    "changelog/asset_history.csv": "changelog",
    "plain/ticket_status_log.csv": None,
}
OTHERS = ("shopify", "square", "sap", "odoo", "ocel")


def detect(store, path: Path, tmp_path: Path) -> tuple[str | None, dict[str, float]]:
    return detect_preset(read_export(store, path, tmp_path, file=path.name))


# --------------------------------------------------------------------------- registry


def test_registry_lists_every_preset():
    assert PRESET_MODULES == ALL
    listed = presets()
    assert [n for n, _, _ in listed] == list(ALL)
    assert all(title and len(description) > 40 for _, title, description in listed)


def test_unknown_preset_name_lists_the_known_ones(store):
    with pytest.raises(IngestError) as info:
        get_preset("salesforce")
    assert str(info.value) == (
        "unknown preset 'salesforce'; expected one of: jira, servicenow, zendesk, shopify, square, sap, odoo, "
        "ocel, changelog, milestones (or 'auto', 'none')"
    )
    with pytest.raises(IngestError, match="unknown preset 'salesforce'"):
        ingest_file(store, JIRA_JSON, IngestOptions(preset="salesforce"))


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("fixture", sorted(MINE))
def test_detection_picks_the_system_of_each_fixture(store, tmp_path, fixture):
    name, scores = detect(store, PRESETS / fixture, tmp_path)
    assert name == MINE[fixture]
    if name is not None:
        # The winner is clear: no other preset comes within 0.1 of it.
        runner_up = max(s for n, s in scores.items() if n != name)
        assert scores[name] - runner_up >= 0.1, scores


@pytest.mark.parametrize("system", OTHERS)
def test_detection_never_confuses_the_other_systems_fixtures(store, tmp_path, system):
    folder = PRESETS / system
    if not folder.is_dir():
        pytest.fail(f"the {system} preset has no fixtures in {folder}")
    found = []
    for fixture in sorted(folder.iterdir()):
        name, _ = detect(store, fixture, tmp_path)
        # Deliberately broken fixtures may be recognised by nobody, never by another system.
        assert name in {system, None}, (fixture.name, name)
        found.append(name)
    assert system in found


@pytest.mark.parametrize(
    "path",
    [
        *sorted(SAMPLE_LOGS.glob("*.csv")),
        FILES / "ingest" / "tiny_log.csv",
        FILES / "ingest" / "id_text.csv",
        FILES / "ingest" / "offsets.csv",
        FILES / "ingest" / "role_override.csv",
    ],
    ids=lambda p: p.name,
)
def test_plain_event_logs_match_no_preset(store, tmp_path, path):
    name, scores = detect(store, path, tmp_path)
    assert name is None
    assert max(scores.values()) < 0.5


def test_a_real_xes_log_matches_no_preset_and_loads_as_before(store, shared_logs, tmp_path):
    path = shared_logs / "running-example.xes"
    assert detect(store, path, tmp_path)[0] is None
    summary = ingest_file(store, path)
    assert (summary.preset, summary.cases, summary.events) == (None, 6, 42)


# --------------------------------------------------------------------------- reading exports


def test_json_syntax_errors_name_line_and_column(store, tmp_path):
    bad = tmp_path / "search.json"
    bad.write_text('{"issues": [\n  {"key": "SUP-1",\n   "fields": {}}\n  {"key": "SUP-2"}\n]}\n')
    with pytest.raises(BadExport) as info:
        ingest_file(store, bad)
    assert str(info.value) == "search.json line 4, column 3: invalid JSON: Expecting ',' delimiter"
    lines = tmp_path / "audits.jsonl"
    lines.write_text('{"ticket_id": 1, "events": []}\n\n{"ticket_id": 2, "events": [}\n')
    with pytest.raises(BadExport) as info:
        ingest_file(store, lines)
    assert str(info.value) == "audits.jsonl line 3, column 29: invalid JSON: Expecting value"


def test_json_must_be_utf8(store, tmp_path):
    bad = tmp_path / "export.json"
    bad.write_bytes(b'{"issues": [\n{"key": "SUP-1", "summary": "caf\xe9"}]}')
    with pytest.raises(BadEncoding) as info:
        ingest_file(store, bad)
    assert (
        str(info.value) == "export.json line 2: bytes that are not UTF-8 (at byte 45); JSON exports are UTF-8"
    )


def test_json_lines_and_gzip_read_like_the_document(store, tmp_path):
    audits = json.loads(AUDITS.read_text())["audits"]
    lines = tmp_path / "audits.jsonl"
    lines.write_text("\n".join(json.dumps(a) for a in audits) + "\n")
    packed = tmp_path / "audits.json.gz"
    packed.write_bytes(gzip.compress(AUDITS.read_bytes()))
    # A .json that holds one document per line is JSON Lines too.
    misnamed = tmp_path / "audit_lines.json"
    misnamed.write_text(lines.read_text())
    expected = ingest_file(store, AUDITS)
    stored = store.query(
        "SELECT case_id, activity, ts, resource FROM events WHERE log_id = 1 ORDER BY row_no"
    ).rows
    for path in (lines, packed, misnamed):
        summary = ingest_file(store, path, IngestOptions(name=path.name))
        assert (summary.preset, summary.events) == ("zendesk", expected.events)
        assert (
            store.query(
                "SELECT case_id, activity, ts, resource FROM events WHERE log_id = ? ORDER BY row_no",
                [summary.log_id],
            ).rows
            == stored
        )
    assert log_name(packed) == "audits"


def log_name(path: Path) -> str:
    from mining.ingest import log_name_for

    return log_name_for(path)


def test_json_no_preset_recognises_is_read_as_records(store, tmp_path):
    # A list of records that is no system's export is a plain table; here one without a case column.
    other = tmp_path / "weather.json"
    other.write_text('{"readings": [{"t": 1}]}')
    with pytest.raises(IngestError) as info:
        ingest_file(store, other)
    assert str(info.value) == "weather.json: cannot tell which column is the case"
    # JSON that is not a list of records is refused, saying what it is and what would do.
    single = tmp_path / "settings.json"
    single.write_text('{"theme": "dark", "size": 3}')
    with pytest.raises(UnknownFormat) as info:
        ingest_file(store, single)
    assert str(info.value) == (
        "settings.json: no preset recognises this JSON as a system's export, and it is an object, not a list of "
        "event records (objects with fields such as case, activity and timestamp)"
    )
    # With the presets switched off, a system's export is read as its list of records (here Jira's issues).
    with pytest.raises(IngestError) as info:
        ingest_file(store, JIRA_JSON, IngestOptions(preset="none"))
    assert str(info.value) == "search_changelog.json: cannot tell which column is the case"


@pytest.mark.parametrize("layout", ["array", "lines", "wrapped"])
def test_a_json_list_of_event_records_loads_as_a_table(store, tmp_path, layout):
    records = [
        {"case": "c1", "activity": "Open", "time": "2024-01-01T09:00:00Z", "agent": "ann", "tags": ["vip"]},
        {"case": "c1", "activity": "Close", "time": "2024-01-01T10:30:00Z", "agent": None, "urgent": True},
        {"case": "c2", "activity": "Open", "time": "2024-01-02T09:00:00Z", "agent": "bob", "score": 1.5},
    ]
    path = tmp_path / ("events.jsonl" if layout == "lines" else "events.json")
    if layout == "lines":
        path.write_text("\n".join(json.dumps(r) for r in records))
    else:
        path.write_text(json.dumps({"data": records, "total": 3} if layout == "wrapped" else records))
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.activities, s.rejected_rows) == (2, 3, 2, 0)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case", "activity", "time")
    rows = store.query(
        "SELECT case_id, activity, strftime(ts, '%Y-%m-%d %H:%M'), resource FROM events ORDER BY row_no"
    ).rows
    assert rows == [
        ("c1", "Open", "2024-01-01 09:00", "ann"),
        ("c1", "Close", "2024-01-01 10:30", None),
        ("c2", "Open", "2024-01-02 09:00", "bob"),
    ]
    # Fields that only some records have are columns too; nested values keep their JSON text.
    names = [r[0] for r in store.query("SELECT source_name FROM attribute_columns ORDER BY position").rows]
    assert names == ["tags", "urgent", "score"]
    assert store.query("SELECT * EXCLUDE (row_no) FROM attrs_1 ORDER BY row_no").rows == [
        ('["vip"]', None, None),
        (None, "true", None),
        (None, None, "1.5"),
    ]


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for member in sorted(folder.iterdir()):
            z.write(member, prefix + member.name)
    return target


def test_zip_reads_like_the_folder(store, tmp_path):
    options = IngestOptions(max_rejects=0.2)
    folder = ingest_file(store, AUDIT, options)
    # Zipping a folder usually keeps it as the members' parent directory.
    packed = ingest_file(store, zip_folder(AUDIT, tmp_path / "snow.zip", prefix="export/"), options)
    assert packed.log == "snow"
    assert (packed.preset, packed.cases, packed.events) == ("servicenow", folder.cases, folder.events)
    rows = "SELECT case_id, activity, ts, resource FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no"
    assert store.query(rows, [packed.log_id]).rows == store.query(rows, [folder.log_id]).rows
    assert [r.file for r in packed.rejects] == ["snow.zip/export/sys_audit.csv"]


@pytest.mark.parametrize(
    "member", ["../evil.csv", "/etc/cron.d/evil.csv", "export/../../evil.csv", "C:/evil.csv"]
)
def test_zip_members_outside_the_archive_are_refused(store, tmp_path, member):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("incident.csv", "sys_id,number,opened_at\n")
        z.writestr(member, "x\n")
    with pytest.raises(UnsafeInput) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        f"export.zip: the member {member!r} points outside the archive (an absolute path or '..'); refused"
    )
    assert not (tmp_path / "evil.csv").exists()


def test_zip_bomb_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setenv("MINING_MAX_DECOMPRESSED_BYTES", "100000")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sys_audit.csv", "x" * 150_000)
    with pytest.raises(UnsafeInput) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        "export.zip: the archive's files add up to 150,000 bytes when unpacked, more than the limit of 100,000 "
        "(set by MINING_MAX_DECOMPRESSED_BYTES); refusing a possible decompression bomb"
    )


def test_folder_skips_other_files_and_refuses_two_tables_of_one_name(store, tmp_path):
    folder = tmp_path / "snow"
    shutil.copytree(AUDIT, folder)
    (folder / "README.md").write_text("exported 2024-03-10\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    raw = read_export(store, folder, tmp_path, file="snow")
    assert sorted(raw.tables) == ["incident", "sys_audit"]
    assert raw.sources["sys_audit"] == "snow/sys_audit.csv"
    assert raw.notes == ("snow: skipped README.md (not a table or JSON file)",)
    assert raw.tables["incident"].schema == pl.Schema({c: pl.Utf8 for c in raw.tables["incident"].columns})
    shutil.copy(folder / "incident.csv", folder / "INCIDENT.tsv")
    with pytest.raises(IngestError) as info:
        read_export(store, folder, tmp_path, file="snow")
    assert str(info.value) == (
        "snow: both 'snow/INCIDENT.tsv' and 'snow/incident.csv' give the table 'incident'; keep one of them"
    )


def test_folder_link_to_a_file_outside_is_refused_without_reading_it(store, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("TOP SECRET payroll line\n")
    folder = tmp_path / "snow"
    shutil.copytree(AUDIT, folder)
    (folder / "incident.csv").unlink()
    (folder / "incident.csv").symlink_to(outside)
    with pytest.raises(UnsafeInput) as info:
        ingest_file(store, folder)
    assert str(info.value) == (
        "snow/incident.csv is a link to a file outside the export folder; "
        "refused, so that no file outside the export is read"
    )
    assert "SECRET" not in str(info.value) + str(info.value.hint)
    # A link that stays inside the folder is an ordinary member.
    (folder / "incident.csv").unlink()
    shutil.copy(AUDIT / "incident.csv", folder / "incident_copy.dat")
    (folder / "incident.csv").symlink_to(folder / "incident_copy.dat")
    assert sorted(read_export(store, folder, tmp_path, file="snow").tables) == ["incident", "sys_audit"]


def test_unknown_preset_role_is_an_error(store, tmp_path):
    changes = PRESETS / "changelog" / "deal_changes.csv"
    with pytest.raises(IngestError) as info:
        ingest_file(store, changes, IngestOptions(preset="changelog", preset_roles={"colour": "field"}))
    assert str(info.value) == (
        "deal_changes.csv: --preset-role 'colour': the changelog preset has no such role; it knows case, "
        "activity, timestamp, start_timestamp, resource, lifecycle, cost, field, new, old"
    )
    plain = SAMPLE_LOGS / "service_desk.csv"
    with pytest.raises(IngestError) as info:
        ingest_file(store, plain, IngestOptions(preset="none", preset_roles={"field": "status"}))
    assert str(info.value) == (
        "service_desk.csv: --preset-role (field) names a preset's column, but no preset reads this file"
    )
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_ragged_line_in_a_multi_table_export_is_an_error(store, tmp_path):
    folder = tmp_path / "snow"
    shutil.copytree(AUDIT, folder)
    with (folder / "incident.csv").open("a") as fh:
        fh.write("46f0,INC0010004,2024-03-06 09:00:00,extra,fields,that,do,not,fit,here\n")
    with pytest.raises(IngestError) as info:
        ingest_file(store, folder)
    assert str(info.value).startswith("snow/incident.csv, row 4: ragged line: more fields than the header")
    assert str(info.value).endswith("; every row of a multi-file export must read, so that no event is lost")


def test_folder_content_hash_is_over_its_files(store, tmp_path):
    folder = tmp_path / "snow"
    shutil.copytree(AUDIT, folder)
    first = content_hash(folder)
    (folder / "notes.txt").touch()
    assert content_hash(folder) != first
    (folder / "notes.txt").unlink()
    assert content_hash(folder) == first
    options = IngestOptions(max_rejects=0.2)
    loaded = ingest_file(store, folder, options)
    again = ingest_file(store, folder, options)
    assert (loaded.status, again.status, again.preset) == ("loaded", "unchanged", "servicenow")
    assert again.content_hash == first


# --------------------------------------------------------------------------- the ingest hook


def test_preset_none_loads_a_system_table_as_a_plain_log(store):
    path = PRESETS / "servicenow" / "incident_event_log.csv"
    summary = ingest_file(store, path, IngestOptions(preset="none", dayfirst=True))
    assert summary.preset is None
    m = summary.mapping
    assert (m.case, m.activity, m.timestamp) == ("number", "incident_state", "sys_updated_at")
    assert "preset" not in json.loads(store.scalar("SELECT mapping FROM logs"))


def test_role_flag_naming_no_event_column_is_refused(store):
    from mining.errors import MissingColumn

    with pytest.raises(MissingColumn) as info:
        ingest_file(store, JIRA_JSON, IngestOptions(roles={"resource": "assignee"}))
    assert str(info.value) == (
        "search_changelog.json: no column 'assignee' for --resource among the events the jira preset made; their "
        "columns: 'issue', 'activity', 'timestamp', 'author', 'issuetype', 'priority', 'project', 'components', "
        "'from', 'to', 'source_row'"
    )
    summary = ingest_file(store, JIRA_JSON, IngestOptions(roles={"resource": None}))
    assert (summary.mapping.resource, store.scalar("SELECT count(resource) FROM events")) == (None, 0)


def test_append_reuses_the_preset_of_the_log(store, tmp_path):
    full = json.loads(JIRA_JSON.read_text())
    early = json.loads(JIRA_JSON.read_text())
    early["issues"] = early["issues"][:2]
    del early["issues"][1]["changelog"]["histories"][2]
    first = ingest_file(
        store, write(tmp_path / "jan.json", early), IngestOptions(name="sup", include=("assignee",))
    )
    assert (first.preset, first.events) == ("jira", 6)
    later = ingest_file(store, write(tmp_path / "feb.json", full), IngestOptions(name="sup", append=True))
    # The later export repeats the first; only its new events are added, with the same families.
    assert (later.status, later.preset, later.events_added, later.events) == ("appended", "jira", 2, 8)
    assert store.query("SELECT activity FROM events WHERE case_id = 'SUP-1' ORDER BY ts, row_no").rows == [
        ("Created",),
        ("Status: In Progress",),
        ("Assigned",),
        ("Status: Done",),
    ]
    mapping = json.loads(store.scalar("SELECT mapping FROM logs WHERE name = 'sup'"))
    assert (mapping["preset"], mapping["preset_include"]) == ("jira", ["assignee"])


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_cli_presets_lists_every_preset(tmp_path):
    res = CliRunner().invoke(cli, ["presets", "--json"])
    assert res.exit_code == 0, res.output
    listed = json.loads(res.output)["presets"]
    assert [p["name"] for p in listed] == list(ALL)
    assert listed[0]["title"] == "Jira (issue changelog)"
    text = CliRunner().invoke(cli, ["presets"])
    assert text.output.startswith("jira        Jira (issue changelog)\n")


def test_cli_ingest_folder_and_bad_preset_role(tmp_path):
    ws = str(tmp_path / "ws.duckdb")
    res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(AUDIT), "--max-rejects", "0.2", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["preset"], data["log"], data["cases"], data["events"], data["rejected_rows"]) == (
        "servicenow",
        "audit",
        3,
        12,
        1,
    )
    res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(JIRA_JSON), "--preset-role", "field"])
    assert res.exit_code == 2
    assert "expected ROLE=COLUMN, got 'field'" in res.output


# --------------------------------------------------------------------------- invariants


_instants = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)
)
_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: dt.timedelta(minutes=m))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_instants, _offsets, st.booleans()), min_size=1, max_size=20))
def test_parse_timestamps_keeps_the_instant_whatever_the_offset(values):
    texts = []
    for instant, offset, colon in values:
        local = instant.astimezone(dt.timezone(offset))
        sign = "+" if offset >= dt.timedelta(0) else "-"
        hh, mm = divmod(abs(int(offset.total_seconds())) // 60, 60)
        zone = f"{sign}{hh:02d}:{mm:02d}" if colon else f"{sign}{hh:02d}{mm:02d}"
        texts.append(local.strftime("%Y-%m-%dT%H:%M:%S.%f") + zone)
    out = parse_timestamps(
        pl.Series(texts), formats=("%Y-%m-%dT%H:%M:%S%.f%z",), example="x", where=lambda i: f"row {i}"
    )
    back = [dt.datetime.fromisoformat(t) for t in out]
    assert back == [v[0] for v in values]


def test_parse_timestamps_names_the_first_value_that_does_not_fit():
    with pytest.raises(BadTimestamp) as info:
        parse_timestamps(
            pl.Series(["2024-01-05T10:32:11Z", "2024-01-05", None]),
            formats=("%Y-%m-%dT%H:%M:%S%.f%z",),
            example="2024-01-05T10:32:11Z",
            where=lambda i: f"orders.json orders[{i}], key 'created_at'",
        )
    assert str(info.value) == (
        "orders.json orders[1], key 'created_at': expected a timestamp like '2024-01-05T10:32:11Z', got '2024-01-05'"
    )


_records = st.sampled_from(["R1", "R2", "R3", None])
_fields = st.sampled_from(["status", "owner", "Priority", None])
_values = st.sampled_from(["Open", "Done", "ann", None])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_records, _fields, _values), min_size=1, max_size=30))
def test_changelog_makes_one_event_per_status_change_and_keeps_its_row(rows):
    frame = pl.DataFrame(
        {
            "record": [r for r, _, _ in rows],
            "field": [f for _, f, _ in rows],
            "new_value": [v for _, _, v in rows],
            "changed_at": [f"2024-01-01 00:00:{i:02d}" for i in range(len(rows))],
        },
        schema={c: pl.Utf8 for c in ("record", "field", "new_value", "changed_at")},
    )
    table = get_preset("changelog").build(RawExport(file="c.csv", tables={"main": frame}), PresetOptions())
    usable = [(i + 1, r, f, v) for i, (r, f, v) in enumerate(rows) if r is not None and f is not None]
    selected = [u for u in usable if u[2] == "status"] or usable
    assert table.rows is not None
    assert table.rows.to_list() == [i for i, _, _, _ in selected]
    assert table.frame["activity"].to_list() == [
        f"{f}: {v}" if v else f"{f} cleared" for _, _, f, v in selected
    ]
    # Rows without a record or field are rejected by their row; other fields' rows are simply not events.
    rejected = [j + 1 for j, (r, f, _) in enumerate(rows) if r is None or f is None]
    assert [r.row for r in table.rejects] == rejected
    assert not set(rejected) & set(table.rows.to_list())


def test_mongodb_extended_json_is_read_as_its_values(store, tmp_path):
    # mongoexport wraps values: {"$date": ...} held as JSON text left the file without a time column.
    records = [
        {"_id": {"$oid": "65e1a0000000000000000001"}, "caseId": "A1", "event": "Created",
         "at": {"$date": "2026-03-01T09:00:00Z"}, "amount": {"$numberDecimal": "12.50"}},
        {"_id": {"$oid": "65e1a0000000000000000002"}, "caseId": "A1", "event": "Approved",
         "at": {"$date": "2026-03-02T10:00:00.123Z"}, "amount": {"$numberDecimal": "3"}},
        {"_id": {"$oid": "65e1a0000000000000000003"}, "caseId": "A2", "event": "Created",
         "at": {"$date": {"$numberLong": "1772528400000"}}, "amount": None},
        {"_id": {"$oid": "65e1a0000000000000000004"}, "caseId": "A2", "event": "Approved",
         "at": {"$date": -86400000}, "amount": None},
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    s = ingest_file(store, path, IngestOptions(max_rejects=0.5))
    assert (s.cases, s.events, s.mapping.timestamp) == (2, 4, "at")
    rows = store.query(
        "SELECT case_id, activity, strftime(ts, '%Y-%m-%d %H:%M:%S.%g') FROM events ORDER BY case_no, ts"
    ).rows
    assert rows == [
        ("A1", "Created", "2026-03-01 09:00:00.000"),
        ("A1", "Approved", "2026-03-02 10:00:00.123"),
        ("A2", "Approved", "1969-12-31 00:00:00.000"),
        ("A2", "Created", "2026-03-03 09:00:00.000"),
    ]
    attrs = store.query("SELECT * EXCLUDE (row_no) FROM attrs_1 ORDER BY row_no").rows
    assert attrs[:2] == [("65e1a0000000000000000001", "12.50"), ("65e1a0000000000000000002", "3")]


def test_nested_json_records_are_read_by_their_fields(store, tmp_path):
    # Elasticsearch's export nests each event under _source, and its fields under objects: the nested
    # objects were one column of JSON text each, and no role could be found ("cannot tell ... activity").
    events = [
        ("T-1", "opened", "09:00", "ann"),
        ("T-1", "closed", "10:00", "bob"),
        ("T-2", "opened", "11:00", "ann"),
    ]
    lines = [
        json.dumps(
            {
                "_index": "tickets",
                "_source": {
                    "ticket": {"id": t},
                    "event": {"action": a},
                    "@timestamp": f"2026-03-01T{h}:00Z",
                    "user": {"name": u},
                    "tags": ["x"],
                },
            }
        )
        for t, a, h, u in events
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines))
    s = ingest_file(store, path)
    m = s.mapping
    assert (m.case, m.activity, m.timestamp, m.resource) == (
        "_source.ticket.id",
        "_source.event.action",
        "_source.@timestamp",
        "_source.user.name",
    )
    rows = store.query(
        "SELECT case_id, activity, strftime(ts, '%H:%M'), resource FROM events ORDER BY row_no"
    ).rows
    assert rows == [(t, a, h, u) for t, a, h, u in events]
    names = [r[0] for r in store.query("SELECT source_name FROM attribute_columns ORDER BY position").rows]
    assert names == ["_index", "_source.tags"]


def test_an_odata_list_with_microsoft_json_dates_is_read(store, tmp_path):
    # SharePoint and Dynamics (OData v2) write {"d": {"results": [...]}} and dates as /Date(ms)/, an offset
    # after the number naming the writer's zone, not moving the instant: refused before, twice over.
    document = {
        "d": {
            "results": [
                {"ID": 1, "Status": "Submitted", "Modified": "/Date(1772528400000)/"},
                {"ID": 1, "Status": "Approved", "Modified": "/Date(1772614800000+0100)/"},
                {"ID": 2, "Status": "Submitted", "Modified": "/Date(1772701200000)/"},
            ]
        }
    }
    path = tmp_path / "list.json"
    path.write_text(json.dumps(document))
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.timestamp_formats) == (2, 3, {"timestamp": "Microsoft JSON date"})
    rows = store.query(
        "SELECT case_id, activity, strftime(ts, '%Y-%m-%d %H:%M') FROM events ORDER BY row_no"
    ).rows
    assert rows == [
        ("1", "Submitted", "2026-03-03 09:00"),
        ("1", "Approved", "2026-03-04 09:00"),
        ("2", "Submitted", "2026-03-05 09:00"),
    ]
    # An instant: the log's time zone does not move it.
    with Store() as other:
        ingest_file(other, path, IngestOptions(timezone="Europe/Berlin"))
        assert other.scalar("SELECT strftime(timezone('UTC', min(ts)), '%H:%M') FROM events") == "09:00"
