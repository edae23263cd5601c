"""Object-centric logs (OCEL 2.0 JSON, XML, SQLite; OCEL 1.0 JSON, XML) flattened to one object type.

``tests/files/presets/ocel/orders.json`` is a hand-made OCEL 2.0 log of two
orders, three items, one package and two employees, built so that each
distortion of a flattening happens once on the orders: "send package" touches
no order (left out), "create package" touches both orders (convergence), and
order o1's two items are picked one by one (divergence).  ``orders.xml`` is the
same log written in the standard's XML form.  The SQLite form is written by
pm4py, the reference implementation, and pm4py's own flattening is the oracle
for which (case, activity, time) rows a flattening gives.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.cli import cli
from mining.errors import BadExport, EmptyLog, IngestError, MissingColumn, UnknownFormat, UnsafeInput
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store, quote_ident
from tests.conftest import FILES, SAMPLE_LOGS

OCEL = FILES / "presets" / "ocel"
ORDERS_JSON = OCEL / "orders.json"
ORDERS_XML = OCEL / "orders.xml"

#: (case, activity, UTC time, resource) flattened on the orders, in case and time order.
ON_ORDERS = [
    ("o1", "place order", "2026-01-05 09:00", None),
    ("o1", "pick item", "2026-01-05 10:00", "emp1"),
    ("o1", "pick item", "2026-01-05 10:10", "emp1"),
    ("o1", "create package", "2026-01-05 11:00", None),
    ("o1", "pay order", "2026-01-05 13:00", None),
    ("o2", "place order", "2026-01-05 09:30", None),
    ("o2", "pick item", "2026-01-05 10:20", "emp2"),
    ("o2", "create package", "2026-01-05 11:00", None),
    ("o2", "payment reminder", "2026-01-10 09:00", None),
]

ORDERS_NOTES = [
    "OCEL 2.0 ({form}): 9 events and 8 objects of 4 types (orders 2 objects, 8 events; items 3 objects, 6 events; "
    "employees 2 objects, 3 events; packages 1 object, 2 events). Each of the 2 'orders' objects is a case.",
    "'orders' is the case because its objects touch the most events; to follow 'items' or 'packages' or "
    "'employees' instead, pass --object-type items",
    "1 event touches no 'orders' object and is in no case: 'send package' (1).",
    "Convergence: 1 event touches several 'orders' objects and is copied into each of their cases (1 copy in all), "
    "so these activities count more events than happened: 'create package' (1).",
    "Divergence: these activities repeat within a case for its objects of another type, one by one, which is not "
    "rework: 'pick item' in 1 case, once per 'items' object.",
    "3 object-to-object links not used: a case follows the events of one 'orders' object.",
]


def events(store, log_id):
    rows = store.query(
        "SELECT case_id, activity, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M'), resource FROM events "
        "WHERE log_id = ? ORDER BY case_no, ts, row_no",
        [log_id],
    ).rows
    return [tuple(r) for r in rows]


def attributes(store, log_id, *names):
    internal = dict(
        store.query("SELECT source_name, column_name FROM attribute_columns WHERE log_id = ?", [log_id]).rows
    )
    cols = ", ".join(f"a.{quote_ident(internal[n])}" for n in names)
    return store.query(
        f"SELECT {cols} FROM events e JOIN {quote_ident(f'attrs_{log_id}')} a USING (row_no) "
        "WHERE e.log_id = ? ORDER BY e.case_no, e.ts, e.row_no",
        [log_id],
    ).rows


def _spec_sqlite(tmp_path: Path) -> Path:
    """orders.json as the OCEL 2.0 SQLite schema lays it out: a table per event type and per object type,
    an object's changing attribute as a row per change (``ocel_changed_field``)."""
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    out = tmp_path / "orders.sqlite"
    con = sqlite3.connect(out)
    con.execute("CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
    con.execute("CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
    con.execute("CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT)")
    con.execute("CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT)")
    con.execute("CREATE TABLE event_map_type (ocel_type TEXT, ocel_type_map TEXT)")
    con.execute("CREATE TABLE object_map_type (ocel_type TEXT, ocel_type_map TEXT)")
    for n, t in enumerate(doc["eventTypes"]):
        con.execute("INSERT INTO event_map_type VALUES (?, ?)", (t["name"], f"T{n}"))
        extra = "".join(f", {quote_ident(a['name'])} TEXT" for a in t["attributes"])
        con.execute(f"CREATE TABLE event_T{n} (ocel_id TEXT, ocel_time TIMESTAMP{extra})")
    for n, t in enumerate(doc["objectTypes"]):
        con.execute("INSERT INTO object_map_type VALUES (?, ?)", (t["name"], f"T{n}"))
        extra = "".join(f", {quote_ident(a['name'])} TEXT" for a in t["attributes"])
        con.execute(
            f"CREATE TABLE object_T{n} (ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT{extra})"
        )
    table = {t["name"]: f"T{n}" for n, t in enumerate(doc["eventTypes"])}
    for e in doc["events"]:
        con.execute("INSERT INTO event VALUES (?, ?)", (e["id"], e["type"]))
        names = [a["name"] for a in e["attributes"]]
        cols = "".join(f", {quote_ident(a)}" for a in names)
        marks = ", ?" * len(names)
        values = [e["id"], e["time"].replace("T", " ").rstrip("Z"), *(a["value"] for a in e["attributes"])]
        con.execute(
            f"INSERT INTO event_{table[e['type']]} (ocel_id, ocel_time{cols}) VALUES (?, ?{marks})", values
        )
        for r in e["relationships"]:
            con.execute("INSERT INTO event_object VALUES (?, ?, ?)", (e["id"], r["objectId"], r["qualifier"]))
    table = {t["name"]: f"T{n}" for n, t in enumerate(doc["objectTypes"])}
    for o in doc["objects"]:
        con.execute("INSERT INTO object VALUES (?, ?)", (o["id"], o["type"]))
        for a in o["attributes"]:
            time = a["time"].replace("T", " ").rstrip("Z")
            changed = None if time.startswith("1970") else a["name"]
            con.execute(
                f"INSERT INTO object_{table[o['type']]} (ocel_id, ocel_time, ocel_changed_field, "
                f"{quote_ident(a['name'])}) VALUES (?, ?, ?, ?)",
                (o["id"], time, changed, a["value"]),
            )
        for r in o.get("relationships", []):
            con.execute(
                "INSERT INTO object_object VALUES (?, ?, ?)", (o["id"], r["objectId"], r["qualifier"])
            )
    con.commit()
    con.close()
    return out


def _gzipped_xml(tmp_path: Path) -> Path:
    out = tmp_path / "orders.xml.gz"
    out.write_bytes(gzip.compress(ORDERS_XML.read_bytes()))
    return out


@pytest.mark.parametrize(
    ("source", "form"),
    [
        pytest.param(lambda tmp: ORDERS_JSON, "JSON", id="json"),
        pytest.param(lambda tmp: ORDERS_XML, "XML", id="xml"),
        pytest.param(_gzipped_xml, "XML", id="xml-gz"),
        pytest.param(_spec_sqlite, "SQLite", id="sqlite"),
    ],
)
def test_each_form_flattens_on_the_orders_with_its_distortions_counted(store, tmp_path, source, form):
    summary = ingest_file(store, source(tmp_path), IngestOptions(name="orders"))
    assert summary.preset == "ocel"
    assert (summary.cases, summary.events, summary.activities, summary.rejected_rows) == (2, 9, 5, 0)
    assert events(store, summary.log_id) == ON_ORDERS
    notes = [str(n) for n in summary.preset_notes]
    assert notes == [ORDERS_NOTES[0].format(form=form), *ORDERS_NOTES[1:]]
    # The other object types as event attributes; the order's own attributes as they were first.
    assert attributes(
        store, summary.log_id, "event_id", "items", "packages", "channel", "customer", "status"
    ) == [
        ("e1", "i1, i2", None, "web", "ACME", "open"),
        ("e3", "i1", None, None, "ACME", "open"),
        ("e4", "i2", None, None, "ACME", "open"),
        ("e6", "i1, i2, i3", "p1", None, "ACME", "open"),
        ("e9", None, None, None, "ACME", "open"),
        ("e2", "i3", None, "phone", "Globex", "open"),
        ("e5", "i3", None, None, "Globex", "open"),
        ("e6", "i1, i2, i3", "p1", None, "Globex", "open"),
        ("e8", None, None, None, "Globex", "open"),
    ]


def test_another_object_type_is_another_case_notion(store):
    summary = ingest_file(store, ORDERS_XML, IngestOptions(object_type="Items"))
    assert (summary.cases, summary.events) == (3, 9)
    assert [e[:2] for e in events(store, summary.log_id)] == [
        ("i1", "place order"),
        ("i1", "pick item"),
        ("i1", "create package"),
        ("i2", "place order"),
        ("i2", "pick item"),
        ("i2", "create package"),
        ("i3", "place order"),
        ("i3", "pick item"),
        ("i3", "create package"),
    ]
    notes = [str(n) for n in summary.preset_notes]
    assert notes[1:] == [
        "3 events touch no 'items' object and are in no case: 'pay order' (1), 'payment reminder' (1), "
        "'send package' (1).",
        "Convergence: 2 events touch several 'items' objects and are copied into each of their cases (3 copies in "
        "all), so these activities count more events than happened: 'create package' (1), 'place order' (1).",
        "3 object-to-object links not used: a case follows the events of one 'items' object.",
    ]
    assert attributes(store, summary.log_id, "orders", "weight")[:3] == [
        ("o1", "1.5"),
        ("o1", "1.5"),
        ("o1, o2", "1.5"),
    ]


@pytest.mark.parametrize("object_type", ["orders", "items", "packages", "employees"])
def test_flattening_gives_the_rows_pm4py_gives(store, tmp_path, object_type):
    pm4py = pytest.importorskip("pm4py")
    ocel = pm4py.read_ocel2_json(str(ORDERS_JSON))
    flat = pm4py.ocel_flattening(ocel, object_type)
    expected = Counter(
        (c, a, t.strftime("%Y-%m-%d %H:%M"))
        for c, a, t in zip(
            flat["case:concept:name"], flat["concept:name"], flat["time:timestamp"], strict=True
        )
    )
    summary = ingest_file(store, ORDERS_JSON, IngestOptions(object_type=object_type))
    assert Counter(e[:3] for e in events(store, summary.log_id)) == expected
    assert summary.events == sum(expected.values())
    # pm4py's own SQLite and XML writers' files read back to the same rows.
    for name, write in (
        ("by_pm4py.sqlite", pm4py.write_ocel2_sqlite),
        ("by_pm4py.xml", pm4py.write_ocel2_xml),
    ):
        written = tmp_path / name
        write(ocel, str(written))
        again = ingest_file(
            store, written, IngestOptions(name=f"{name}-{object_type}", object_type=object_type)
        )
        assert Counter(e[:3] for e in events(store, again.log_id)) == expected


def test_ocel_1_json_and_xml(store, tmp_path):
    doc = {
        "ocel:global-log": {"ocel:object-types": ["order", "item"], "ocel:attribute-names": ["amount"]},
        "ocel:events": {
            "1": {
                "ocel:activity": "Create",
                "ocel:timestamp": "2025-03-01T08:00:00+01:00",
                "ocel:omap": ["A", "x"],
                "ocel:vmap": {"amount": 12.5},
            },
            "2": {"ocel:activity": "Ship", "ocel:timestamp": "2025-03-02T08:00:00+01:00", "ocel:omap": ["A"]},
            "3": {
                "ocel:activity": "Create",
                "ocel:timestamp": "2025-03-03T08:00:00+01:00",
                "ocel:omap": ["B"],
            },
        },
        "ocel:objects": {
            "A": {"ocel:type": "order", "ocel:ovmap": {"region": "North"}},
            "B": {"ocel:type": "order", "ocel:ovmap": {}},
            "x": {"ocel:type": "item", "ocel:ovmap": {}},
        },
    }
    path = tmp_path / "log.jsonocel"
    path.write_text(json.dumps(doc), encoding="utf-8")
    summary = ingest_file(store, path)
    assert str(summary.preset_notes[0]).startswith("OCEL 1.0 (JSON): 3 events and 3 objects of 2 types")
    assert events(store, summary.log_id) == [
        ("A", "Create", "2025-03-01 07:00", None),
        ("A", "Ship", "2025-03-02 07:00", None),
        ("B", "Create", "2025-03-03 07:00", None),
    ]
    assert attributes(store, summary.log_id, "amount", "item", "region") == [
        ("12.5", "x", "North"),
        (None, None, "North"),
        (None, None, None),
    ]
    xml = tmp_path / "log.xmlocel"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<log>\n"
        '<global scope="log"><list key="object-types"><string key="object-type" value="order"/></list></global>\n'
        "<events>\n"
        '<event><string key="id" value="1"/><string key="activity" value="Create"/>'
        '<date key="timestamp" value="2025-03-01T08:00:00+01:00"/>'
        '<list key="omap"><string key="object-id" value="A"/></list>'
        '<list key="vmap"><float key="amount" value="12.5"/></list></event>\n'
        '<event><string key="id" value="2"/><string key="activity" value="Ship"/>'
        '<date key="timestamp" value="2025-03-02T08:00:00+01:00"/>'
        '<list key="omap"><string key="object-id" value="A"/></list><list key="vmap"/></event>\n'
        "</events>\n<objects>\n"
        '<object><string key="id" value="A"/><string key="type" value="order"/>'
        '<list key="ovmap"><string key="region" value="North"/></list></object>\n'
        "</objects>\n</log>\n",
        encoding="utf-8",
    )
    summary = ingest_file(store, xml, IngestOptions(name="xml"))
    assert str(summary.preset_notes[0]).startswith("OCEL 1.0 (XML): 2 events and 1 object of 1 type")
    assert events(store, summary.log_id) == [
        ("A", "Create", "2025-03-01 07:00", None),
        ("A", "Ship", "2025-03-02 07:00", None),
    ]
    assert attributes(store, summary.log_id, "amount", "region") == [("12.5", "North"), (None, "North")]


def test_an_append_flattens_on_the_same_type(store, tmp_path):
    first = ingest_file(store, ORDERS_JSON, IngestOptions(name="shop", object_type="items"))
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    doc["events"].append(
        {
            "id": "e10",
            "type": "return item",
            "time": "2026-01-12T08:00:00Z",
            "relationships": [
                {"objectId": "i2", "qualifier": "item"},
                {"objectId": "o1", "qualifier": "order"},
            ],
        }
    )
    newer = tmp_path / "orders_week2.json"
    newer.write_text(json.dumps(doc), encoding="utf-8")
    again = ingest_file(store, newer, IngestOptions(name="shop", append=True))
    assert (again.cases, again.events, again.events_added) == (3, first.events + 1, 1)
    assert events(store, again.log_id)[6] == ("i2", "return item", "2026-01-12 08:00", None)


def test_a_missing_time_is_a_named_reject(store, tmp_path):
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    doc["events"][8]["time"] = ""
    path = tmp_path / "untimed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    summary = ingest_file(store, path, IngestOptions(max_rejects=0.2))
    assert (summary.events, summary.rejected_rows) == (8, 1)
    (reject,) = summary.rejects
    assert reject.column == "timestamp"
    assert "missing" in reject.reason
    assert attributes(store, summary.log_id, "source_row")[0] == ("untimed.json events[0]",)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        pytest.param(
            lambda d: d["events"].append(dict(d["events"][0])),
            BadExport,
            "bad.json events[9]: the event id 'e1' is used twice (first at events[0]); OCEL event ids are unique",
            id="repeated-event-id",
        ),
        pytest.param(
            lambda d: d["objects"].append({"id": "o1", "type": "items"}),
            BadExport,
            "bad.json objects[8]: the object 'o1' is of type 'items' here and 'orders' before; an OCEL object has "
            "one type",
            id="retyped-object",
        ),
        pytest.param(
            lambda d: d["events"][2].update(relationships={"objectId": "o1"}),
            BadExport,
            "bad.json events[2].relationships: expected a list of links, got dict",
            id="links-not-a-list",
        ),
        pytest.param(
            lambda d: d["events"][3].pop("id"),
            BadExport,
            "bad.json events[3]: an event without its id; every OCEL event has a unique id",
            id="event-without-id",
        ),
    ],
)
def test_a_broken_ocel_json_names_the_place(store, tmp_path, change, error, message):
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(error) as caught:
        ingest_file(store, path)
    assert str(caught.value) == message
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_an_unknown_object_type_lists_the_types(store):
    with pytest.raises(MissingColumn) as caught:
        ingest_file(store, ORDERS_JSON, IngestOptions(object_type="boxes"))
    assert str(caught.value) == (
        "orders.json: no object type 'boxes' for --object-type; the log has 'orders' (2 objects, 8 events), "
        "'items' (3 objects, 6 events), 'employees' (2 objects, 3 events), 'packages' (1 object, 2 events)"
    )


def test_object_type_on_a_plain_file_is_refused(store):
    with pytest.raises(IngestError) as caught:
        ingest_file(store, FILES / "app" / "tiny.csv", IngestOptions(object_type="orders"))
    assert str(caught.value) == (
        "tiny.csv: --object-type chooses the cases of an object-centric (OCEL) log, and this file is read as a "
        "plain table"
    )


def test_people_are_not_the_default_case(store, tmp_path):
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    # Every event now touches emp1: the employees touch the most events, and are still passed over.
    for event in doc["events"]:
        event["relationships"].append({"objectId": "emp1", "qualifier": "clerk"})
    path = tmp_path / "staffed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    summary = ingest_file(store, path)
    assert summary.cases == 2
    assert str(summary.preset_notes[1]) == (
        "'orders' is the case because its objects touch the most events (types of people, such as 'employees', "
        "are not taken unless asked for); to follow 'items' or 'packages' or 'employees' instead, pass "
        "--object-type items"
    )


def test_ocel_xml_with_a_doctype_is_refused(store, tmp_path):
    path = tmp_path / "evil.xml"
    text = ORDERS_XML.read_text(encoding="utf-8")
    path.write_text(
        text.replace("<log>", '<!DOCTYPE log [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<log>', 1),
        encoding="utf-8",
    )
    with pytest.raises(UnsafeInput) as caught:
        ingest_file(store, path)
    assert str(caught.value) == (
        "evil.xml: contains a DOCTYPE declaration; XML with DOCTYPE is refused because it can expand entities or "
        "read files"
    )


def test_broken_ocel_xml_names_the_line(store, tmp_path):
    path = tmp_path / "cut.xml"
    lines = ORDERS_XML.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:40]) + "\n<event id='e99'\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest_file(store, path)
    assert str(caught.value).startswith("cut.xml, line 4")
    assert "the XML is not well-formed" in str(caught.value)
    assert "expected an OCEL XML file" in str(caught.value)


def test_a_sqlite_database_that_is_not_ocel_is_still_refused(store, tmp_path):
    path = tmp_path / "crm.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (id INTEGER, name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(UnknownFormat) as caught:
        ingest_file(store, path)
    assert str(caught.value) == "crm.sqlite is not a text table: it is an SQLite database"


def test_cli_ingest_object_type_and_json(tmp_path):
    ws = tmp_path / "ws.duckdb"
    result = CliRunner().invoke(
        cli,
        ["-w", str(ws), "ingest", str(ORDERS_XML), "--object-type", "packages", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["preset"], out["cases"], out["events"]) == ("ocel", 1, 2)
    assert out["mapping"]["case"] == "packages"
    assert out["preset_notes"][1] == (
        "7 events touch no 'packages' object and are in no case: 'pick item' (3), 'place order' (2), "
        "'pay order' (1), 'payment reminder' (1)."
    )
    bad = CliRunner().invoke(
        cli, ["-w", str(ws), "ingest", str(ORDERS_JSON), "--name", "x", "--object-type", "boxes"]
    )
    assert bad.exit_code == 1
    assert "Error: orders.json: no object type 'boxes' for --object-type; the log has 'orders'" in bad.output
    assert "Traceback" not in bad.output


# --------------------------------------------------------------------------- invariants


@st.composite
def ocel_logs(draw):
    """Small OCEL 2.0 documents: orders, items and employees, each event touching any of them (or none)."""
    objects = [(f"o{k}", "orders") for k in range(draw(st.integers(1, 4)))]
    objects += [(f"i{k}", "items") for k in range(draw(st.integers(0, 5)))]
    objects += [(f"e{k}", "employees") for k in range(draw(st.integers(0, 2)))]
    events = []
    for k in range(draw(st.integers(1, 14))):
        touched = draw(st.lists(st.sampled_from([o for o, _ in objects]), max_size=4, unique=True))
        events.append(
            {
                "id": f"ev{k}",
                "type": draw(st.sampled_from(["place", "pick", "pack", "pay"])),
                "time": f"2026-02-{1 + draw(st.integers(0, 20)):02d}T{draw(st.integers(8, 17)):02d}:00:00Z",
                "relationships": [{"objectId": o, "qualifier": ""} for o in touched],
            }
        )
    types = [{"name": t, "attributes": []} for t in ("orders", "items", "employees")]
    doc = {
        "objectTypes": types,
        "eventTypes": [],
        "objects": [{"id": o, "type": t} for o, t in objects],
        "events": events,
    }
    return doc, dict(objects)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=ocel_logs(), object_type=st.sampled_from(["orders", "items"]))
def test_flattening_counts_add_up(tmp_path_factory, log, object_type):
    doc, type_of = log
    pairs = {(e["id"], r["objectId"]) for e in doc["events"] for r in e["relationships"]}
    mine = [(e, o) for e, o in pairs if type_of[o] == object_type]
    touched = {e for e, _ in mine}
    path = tmp_path_factory.mktemp("ocel") / "log.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with Store() as store:
        if object_type not in type_of.values():
            with pytest.raises(MissingColumn, match=f"no object type '{object_type}'"):
                ingest_file(store, path, IngestOptions(object_type=object_type))
            return
        if not mine:
            with pytest.raises(EmptyLog, match=f"no event touches an object of type '{object_type}'"):
                ingest_file(store, path, IngestOptions(object_type=object_type))
            return
        summary = ingest_file(store, path, IngestOptions(object_type=object_type))
    # One event per (event, object of the type) pair; one case per object touched.
    assert summary.events == len(mine)
    assert summary.cases == len({o for _, o in mine})
    notes = " ".join(str(n) for n in summary.preset_notes)
    left_out = len(doc["events"]) - len(touched)
    assert (f"{left_out:,} event" in notes and "in no case" in notes) == (left_out > 0)
    copies = len(mine) - len(touched)
    assert ("Convergence" in notes) == (copies > 0)
    if copies:
        assert f"({copies:,} cop{'y' if copies == 1 else 'ies'} in all)" in notes


def test_a_type_no_event_touches_has_no_case(store, tmp_path):
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    doc["objects"].append({"id": "inv1", "type": "invoices"})
    path = tmp_path / "invoiced.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(EmptyLog) as caught:
        ingest_file(store, path, IngestOptions(object_type="invoices"))
    assert str(caught.value) == (
        "invoiced.json: no event touches an object of type 'invoices', so it has no case; events touch 'orders' "
        "(8 events), 'items' (6 events), 'employees' (3 events), 'packages' (2 events); choose one of those with "
        "--object-type"
    )


def test_the_sample_order_management_log(store):
    from mining.samples import OCEL_SAMPLE

    summary = ingest_file(store, SAMPLE_LOGS / OCEL_SAMPLE)
    assert (summary.cases, summary.events, summary.activities, summary.rejected_rows) == (600, 3238, 5, 0)
    assert summary.quality == ()
    notes = [str(n) for n in summary.preset_notes]
    assert notes[0].startswith("OCEL 2.0 (JSON): 4,867 events and 2,637 objects of 6 types")
    assert notes[3] == (
        "Divergence: these activities repeat within a case for its objects of another type, one by one, which is "
        "not rework: 'pick item' in 399 cases, once per 'items' object."
    )
    items = ingest_file(store, SAMPLE_LOGS / OCEL_SAMPLE, IngestOptions(name="items", object_type="items"))
    assert (items.cases, items.events, items.variants) == (1338, 4014, 1)


def test_committed_ocel_sample_does_not_drift(tmp_path):
    from mining.samples import OCEL_SAMPLE
    from mining.samples.ocel import write_ocel

    fresh = write_ocel(tmp_path / OCEL_SAMPLE).read_bytes()
    assert fresh == (SAMPLE_LOGS / OCEL_SAMPLE).read_bytes(), f"sample_logs/{OCEL_SAMPLE} is stale"
    doc = json.loads(fresh)
    assert (len(doc["events"]), len(doc["objects"])) == (4867, 2637)
    assert len(fresh) <= 2_000_000


def test_the_upload_page_learns_the_object_types_from_the_file_alone(tmp_path):
    from mining.ingest.job import object_types_of

    types = (
        ("orders", 2, 8),
        ("items", 3, 6),
        ("employees", 2, 3),
        ("packages", 1, 2),
    )
    for source in (ORDERS_JSON, ORDERS_XML, _gzipped_xml(tmp_path), _spec_sqlite(tmp_path)):
        assert object_types_of(str(source), source.name) == (types, "orders")
    # Anything else is not read past its head: a CSV, a system's JSON, a broken OCEL file.
    assert object_types_of(str(FILES / "app" / "tiny.csv"), "tiny.csv") is None
    jira = FILES / "presets" / "jira" / "search_changelog.json"
    assert object_types_of(str(jira), jira.name) is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"objectTypes": [], "events": [{"id": "e1"}, {"id": "e1"}], "objects": []}')
    assert object_types_of(str(broken), broken.name) is None


def test_attributes_keep_their_names_whatever_they_are(store, tmp_path):
    doc = json.loads(ORDERS_JSON.read_text(encoding="utf-8"))
    doc["events"][0]["attributes"] += [
        {"name": "event", "value": "web-42"},
        {"name": "_note", "value": "rush"},
    ]
    doc["objects"][0]["attributes"].append(
        {"name": "object", "time": "1970-01-01T00:00:00Z", "value": "gift"}
    )
    path = tmp_path / "named.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    summary = ingest_file(store, path)
    assert attributes(store, summary.log_id, "event", "_note", "object")[:2] == [
        ("web-42", "rush", "gift"),
        (None, None, "gift"),
    ]


def test_rework_is_the_same_activity_on_the_same_object_not_divergence(store, tmp_path):
    """Picking an order's two items one by one is divergence; picking item i1 again is rework.  Before,
    every page counted both as rework (o1: 'pick item' twice), so a flattened log's rework was the
    number of its multi-item orders."""
    from mining.analysis.rework import rework
    from mining.monitor.periods import case_facts

    log = json.loads(ORDERS_JSON.read_text())
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(log))
    again = dict(log["events"][[e["id"] for e in log["events"]].index("e3")])
    log["events"].append({**again, "id": "e3b", "time": "2026-01-05T10:15:00Z"})
    repicked = tmp_path / "repicked.json"
    repicked.write_text(json.dumps(log))

    plain = ingest_file(store, clean, IngestOptions(name="clean"))
    r = rework(store, plain.log_id)
    assert (r.cases, r.cases_with_rework, r.self_loops, r.short_loops) == (2, 0, 0, 0)
    assert [
        (a.activity, a.cases_repeated, a.extra_executions) for a in r.activities if a.activity == "pick item"
    ] == [("pick item", 0, 0)]

    picked = ingest_file(store, repicked, IngestOptions(name="repicked"))
    r = rework(store, picked.log_id)
    assert (r.cases, r.cases_with_rework, r.self_loops, r.short_loops) == (2, 1, 0, 1)
    assert [
        (a.activity, a.cases_repeated, a.extra_executions) for a in r.activities if a.activity == "pick item"
    ] == [("pick item", 1, 1)]
    # Monitoring, Root causes and Compare read rework from the case facts: the same one case.
    facts = case_facts(store, picked.log_id)
    assert [c for c, bad in zip(facts.case_id, facts.rework, strict=True) if bad] == ["o1"]
    assert not case_facts(store, plain.log_id).rework.any()
