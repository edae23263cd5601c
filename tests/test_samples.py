"""The sample-log generator: contract of the output, the built-in effects, the models."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from lxml import etree
from scipy.stats import mannwhitneyu

from mining.samples import (
    ATTRIBUTES,
    BOTTLENECKS,
    CHANGE_DATES,
    COLUMNS,
    FACTS_FILE,
    PROCESSES,
    REWORK_ACTIVITIES,
    SAMPLE_CASES,
    SAMPLE_SEED,
    SLA_DAYS,
    activities,
    generate,
    model_xml,
    write_facts,
    write_log,
    write_model,
)
from mining.samples.__main__ import main
from tests.bpmn_layout import check_bpmn
from tests.conftest import SAMPLE_LOGS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
FLOW_NODES = ("startEvent", "endEvent", "task", "exclusiveGateway", "parallelGateway")
CASE_ID = {
    "service_desk": r"INC\d{7}",
    "order_to_cash": r"SO-\d{6}",
    "purchase_to_pay": r"45\d{8}-\d{4}0",
}
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00")

pytestmark = pytest.mark.parametrize("process", PROCESSES)

_cache: dict[tuple[str, bool], pa.Table] = {}


def sample(process: str, change: bool = True) -> pa.Table:
    """The log at the committed sample size and seed (generated once per session)."""
    key = (process, change)
    if key not in _cache:
        _cache[key] = generate(process, cases=SAMPLE_CASES[process], seed=SAMPLE_SEED, change=change)
    return _cache[key]


def parsed(table: pa.Table) -> pl.DataFrame:
    """Events with UTC datetimes and their row number and position in the case."""
    ts = "%Y-%m-%dT%H:%M:%S%:z"
    return (
        pl.from_arrow(table)
        .with_row_index("row")
        .with_columns(
            pl.col("start_timestamp").str.to_datetime(ts, time_zone="UTC").alias("start"),
            pl.col("timestamp").str.to_datetime(ts, time_zone="UTC").alias("complete"),
        )
    )


def per_case(table: pa.Table, process: str) -> pl.DataFrame:
    return (
        parsed(table)
        .group_by("case_id")
        .agg(
            pl.col("start").min().alias("first_start"),
            ((pl.col("complete").max() - pl.col("start").min()).dt.total_seconds() / 86400).alias("days"),
            (pl.col("activity").n_unique() < pl.len()).alias("repeats"),
            pl.col("activity").is_in(list(REWORK_ACTIVITIES[process])).any().alias("rework_act"),
        )
    )


def change_instant(process: str) -> dt.datetime:
    """Midnight of the change date in Amsterdam (all change dates are in summer time)."""
    d = CHANGE_DATES[process]
    assert dt.date(d.year, 4, 1) <= d < dt.date(d.year, 10, 1)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def before_after(table: pa.Table, process: str) -> tuple[np.ndarray, np.ndarray]:
    cases = per_case(table, process)
    at = change_instant(process)
    before = cases.filter(pl.col("first_start") < at)["days"].to_numpy()
    after = cases.filter(pl.col("first_start") >= at)["days"].to_numpy()
    return before, after


# ------------------------------------------------------------------ determinism


def test_same_seed_same_table_other_seed_other_table(process):
    a = generate(process, cases=300, seed=7)
    b = generate(process, cases=300, seed=7)
    c = generate(process, cases=300, seed=8)
    assert a.equals(b)
    assert not a.equals(c)
    assert a.column("activity").to_pylist() != c.column("activity").to_pylist()


# ----------------------------------------------------------------- output format


def test_columns_in_order_all_text(process):
    table = sample(process)
    assert table.column_names == [*COLUMNS, *ATTRIBUTES[process]]
    assert len(ATTRIBUTES[process]) in (2, 3)
    assert all(t == pa.string() for t in table.schema.types)
    assert table.num_rows > 10_000
    for name in table.column_names:
        assert table.column(name).null_count == 0


def test_case_ids_zero_padded_text(process):
    ids = pl.Series(sample(process).column("case_id").to_pylist()).unique()
    assert ids.str.contains(f"^{CASE_ID[process]}$").all()
    assert ids.n_unique() == SAMPLE_CASES[process]
    # leading zeros survive: some id has a 0 right after its prefix / in its item number
    lead = {"service_desk": "INC00", "order_to_cash": "SO-00", "purchase_to_pay": "-000"}[process]
    assert ids.str.contains(lead, literal=True).any()


def test_csv_and_parquet_load_identically(process, tmp_path):
    csv = write_log(process, tmp_path / "log.csv", cases=200, seed=3)
    parquet = write_log(process, tmp_path / "log.parquet", cases=200, seed=3)
    expected = generate(process, cases=200, seed=3)
    names = expected.column_names
    as_text = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    from_csv = pacsv.read_csv(csv, convert_options=as_text)
    from_parquet = pq.read_table(parquet)
    assert from_csv.equals(expected)
    assert from_parquet.equals(expected)
    assert csv.read_text(encoding="utf-8").splitlines()[0] == ",".join(names)


def test_timestamps_iso_local_amsterdam(process):
    df = parsed(sample(process))
    for col in ("start_timestamp", "timestamp"):
        assert df[col].str.contains(f"^{STAMP.pattern}$").all()
    # the offset is Europe/Amsterdam's at that instant (+01:00 winter, +02:00 summer)
    again = df["complete"].dt.convert_time_zone("Europe/Amsterdam").dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
    assert (again == df["timestamp"]).all()
    offsets = set(df["timestamp"].str.slice(19).unique())
    assert offsets == {"+01:00", "+02:00"}


def test_cost_numeric_two_decimals(process):
    df = pl.from_arrow(sample(process))
    assert df["cost"].str.contains(r"^\d+\.\d{2}$").all()
    cost = df["cost"].cast(pl.Float64)
    assert cost.sum() > 0
    # people cost money, systems and customers do not
    assert (
        cost.filter(df["resource"].is_in(["Customer", "Webshop", "ITSM system", "Billing system"])) == 0
    ).all()


def test_rows_in_timestamp_order(process):
    df = parsed(sample(process))
    complete = df["complete"].to_numpy()
    assert (np.diff(complete) >= np.timedelta64(0)).all()
    ties = df.filter(pl.col("complete").is_duplicated())
    if ties.height:
        assert (ties.group_by("complete").agg(pl.col("case_id").is_sorted().alias("s"))["s"]).all()


def test_per_case_order_start_before_complete(process):
    df = parsed(sample(process)).sort("case_id", "row")
    assert (df["start"] <= df["complete"]).all()
    steps = df.with_columns(
        (pl.col("complete") - pl.col("complete").shift(1).over("case_id")).alias("gap"),
        (pl.col("start") - pl.col("complete").shift(1).over("case_id")).alias("wait"),
    ).drop_nulls("gap")
    assert (steps["gap"] > dt.timedelta(0)).all()  # strictly increasing complete times
    assert (steps["wait"] >= dt.timedelta(0)).all()  # waiting between complete and next start


def test_people_work_office_hours(process):
    df = parsed(sample(process))
    local = df["start"].dt.convert_time_zone("Europe/Amsterdam")
    office = {
        "service_desk": ["Triage", "Investigate", "Close"],
        "order_to_cash": ["Credit check", "Refund"],
        "purchase_to_pay": ["Approve purchase order", "Three-way match", "Pay invoice"],
    }[process]
    mask = df["activity"].is_in(office)
    hours, weekday = local.dt.hour().filter(mask), local.dt.weekday().filter(mask)
    inside = ((hours >= 8) & (hours < 18) & (weekday <= 5)).mean()
    assert 0.9 < inside < 1.0
    arrival = (
        df.group_by("case_id").agg(pl.col("start").min())["start"].dt.convert_time_zone("Europe/Amsterdam")
    )
    assert (arrival.dt.weekday() <= 5).mean() > 0.75


# ---------------------------------------------------------------------- sizes


@pytest.mark.parametrize("target", [3_000, 40_000])
def test_events_target_within_5_percent(process, target):
    rows = generate(process, events=target, seed=1).num_rows
    assert abs(rows - target) <= 0.05 * target


def test_cases_and_events_are_exclusive(process):
    with pytest.raises(ValueError, match="either"):
        generate(process, cases=10, events=100)


# ------------------------------------------------------------- built-in effects


def test_change_cuts_median_cycle_time(process):
    before, after = before_after(sample(process), process)
    assert len(before) > 300 and len(after) > 300
    assert np.median(after) <= 0.8 * np.median(before)
    assert mannwhitneyu(before, after).pvalue < 0.01


def test_no_change_no_significant_difference(process):
    before, after = before_after(sample(process, change=False), process)
    assert len(before) > 300 and len(after) > 300
    assert mannwhitneyu(before, after).pvalue >= 0.01
    assert abs(1 - np.median(after) / np.median(before)) < 0.1


def test_change_shortens_the_bottleneck_wait(process):
    df = parsed(sample(process)).sort("case_id", "row")
    df = df.with_columns((pl.col("start") - pl.col("complete").shift(1).over("case_id")).alias("wait"))
    at = change_instant(process)
    waits = df.filter(pl.col("activity") == BOTTLENECKS[process]).with_columns(
        (pl.col("start") - pl.col("wait") >= at).alias("after")
    )
    med = {a: waits.filter(pl.col("after") == a)["wait"].dt.total_seconds().median() for a in (False, True)}
    assert med[True] < 0.75 * med[False]


def test_rework_share(process):
    cases = per_case(sample(process), process)
    share = cases.filter(pl.col("repeats") | pl.col("rework_act")).height / cases.height
    assert 0.05 <= share <= 0.30
    at = change_instant(process)
    rework = pl.col("repeats") | pl.col("rework_act")
    before = cases.filter(pl.col("first_start") < at).select(rework.mean()).item()
    after = cases.filter(pl.col("first_start") >= at).select(rework.mean()).item()
    assert after < 0.75 * before


def test_some_cases_break_the_sla(process):
    cases = per_case(sample(process), process)
    breach = (cases["days"] > SLA_DAYS[process]).mean()
    assert 0.05 < breach < 0.4


def test_ping_pong_between_two_resources(process):
    # A -> B -> A hand-offs between people or groups within a case
    df = pl.from_arrow(sample(process)).with_row_index("row").sort("case_id", "row")
    people = df.filter(
        ~pl.col("resource").is_in(["Customer", "ITSM system", "Billing system", "Payment provider"])
    )
    seq = people.group_by("case_id", maintain_order=True).agg(pl.col("resource"))
    pingpong = 0
    for resources in seq["resource"].to_list():
        r = [x for i, x in enumerate(resources) if i == 0 or x != resources[i - 1]]
        pingpong += any(r[i] == r[i + 2] for i in range(len(r) - 2))
    assert pingpong >= 20


def test_resources_differ_in_speed(process):
    df = parsed(sample(process))
    work = df.with_columns(((pl.col("complete") - pl.col("start")).dt.total_seconds()).alias("s"))
    activity = {"service_desk": "Triage", "order_to_cash": "Pick items", "purchase_to_pay": "Receive goods"}[
        process
    ]
    med = work.filter(pl.col("activity") == activity).group_by("resource").agg(pl.col("s").median())["s"]
    assert med.len() >= 4
    assert med.max() > 1.3 * med.min()


# ----------------------------------------------------------------------- models


def test_bpmn_model(process, tmp_path):
    import pm4py

    path = write_model(process, tmp_path / f"{process}.bpmn")
    text = path.read_text(encoding="utf-8")
    assert "<!DOCTYPE" not in text
    root = etree.fromstring(text.encode())
    assert root.tag == f"{{{BPMN_NS}}}definitions"
    proc = root.find(f"{{{BPMN_NS}}}process")
    nodes = {tag: proc.findall(f"{{{BPMN_NS}}}{tag}") for tag in FLOW_NODES}
    assert len(nodes["startEvent"]) == 1 and nodes["endEvent"]
    assert len(nodes["parallelGateway"]) >= 2 and len(nodes["exclusiveGateway"]) >= 1
    node_ids = {n.get("id") for ns in nodes.values() for n in ns}
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{DI_NS}}}BPMNShape")}
    assert node_ids <= set(shapes)
    for node_id in node_ids:
        bounds = shapes[node_id].find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
        assert float(bounds.get("width")) > 0 and float(bounds.get("height")) > 0
    flows = proc.findall(f"{{{BPMN_NS}}}sequenceFlow")
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{DI_NS}}}BPMNEdge")}
    for flow in flows:
        assert flow.get("sourceRef") in node_ids and flow.get("targetRef") in node_ids
        assert len(edges[flow.get("id")].findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2

    bpmn = pm4py.read_bpmn(str(path))
    net, _, _ = pm4py.convert_to_petri_net(bpmn)
    tasks = {n.get("name") for n in nodes["task"]}
    assert {t.label for t in net.transitions if t.label} == tasks
    logged = set(pl.from_arrow(sample(process))["activity"].unique())
    assert tasks <= logged
    assert tasks <= set(activities(process))
    # the undocumented rework is not in the model, so conformance checking finds it
    assert not tasks & set(REWORK_ACTIVITIES[process]) - {"Resolve price difference"}


def test_bpmn_model_is_drawn_by_the_one_layout(process):
    # The package's one BPMN writer: nothing overlaps, flows are orthogonal and never cross a shape.
    root = check_bpmn(model_xml(process))
    documented = root.findall(f".//{{{BPMN_NS}}}task/{{{BPMN_NS}}}documentation")
    assert len(documented) == len(root.findall(f".//{{{BPMN_NS}}}task"))
    assert {f.get("name") for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")} >= {"yes", "no"}


def test_minority_of_cases_deviate_from_model(process, tmp_path):
    import pm4py

    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(write_model(process, tmp_path / "m.bpmn"))))
    df = parsed(sample(process)).sort("case_id", "row").select("case_id", "activity", "complete").to_pandas()
    df = pm4py.format_dataframe(df, case_id="case_id", activity_key="activity", timestamp_key="complete")
    diagnostics = pm4py.conformance_diagnostics_token_based_replay(df, net, im, fm)
    fitting = sum(d["trace_is_fit"] for d in diagnostics) / len(diagnostics)
    assert 0.6 < fitting < 0.97


# ------------------------------------------------------------ committed samples


def test_committed_samples_do_not_drift(process, tmp_path):
    assert main([str(tmp_path)]) == 0
    for name in (f"{process}.csv", f"{process}.bpmn", "samples.json"):
        fresh = (tmp_path / name).read_bytes()
        committed = (SAMPLE_LOGS / name).read_bytes()
        assert fresh == committed, f"sample_logs/{name} is stale: run python -m mining.samples"
    assert (SAMPLE_LOGS / f"{process}.csv").stat().st_size <= 2_500_000
    assert 1_800 <= SAMPLE_CASES[process] <= 4_000


def test_cli_writes_a_scaled_log(process, tmp_path, capsys):
    out = tmp_path / "scaled.parquet"
    assert main(["--process", process, "--events", "5000", "--seed", "2", "--out", str(out)]) == 0
    table = pq.read_table(out)
    assert table.equals(generate(process, events=5000, seed=2))
    assert str(out) in capsys.readouterr().out


def test_samples_json_states_the_generators_change_date_and_sla(process, tmp_path):
    facts = json.loads(write_facts(tmp_path).read_text(encoding="utf-8"))
    assert facts == json.loads((SAMPLE_LOGS / FACTS_FILE).read_text(encoding="utf-8"))
    assert sorted(facts) == sorted(PROCESSES)
    assert facts[process] == {"change_date": CHANGE_DATES[process].isoformat(), "sla_days": SLA_DAYS[process]}
