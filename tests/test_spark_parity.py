"""The same measures on DuckDB and on Spark (over the Parquet export) give equal records.

One SparkSession (``local[2]``) for the whole run.  Three logs are ingested
into DuckDB (Sepsis, from ``../shared``, only when it is there: its cases are
skipped otherwise and the other two logs are still compared), exported with :func:`mining.export.export_parquet` and read by
one :class:`mining.spark.SparkStore`; each measure must return an equal
record on both backends (floats within 1e-9 relative).  A second part checks
that every SQL statement the measures produce translates to Spark SQL, and
that each dialect rewrite means on Spark what the DuckDB construct means.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
from pathlib import Path

import pytest

from mining.analysis.calendar import Calendar
from mining.analysis.dfg import dfg
from mining.analysis.durations import all_case_durations, case_durations
from mining.analysis.filters import Filter
from mining.analysis.heatmaps import load_heatmap, resource_heatmap, transition_wait_heatmap
from mining.analysis.performance import activity_times, transition_times
from mining.analysis.rework import rework
from mining.analysis.throughput import throughput, work_in_progress
from mining.analysis.variants import cases_of_variant, events_of_case, variants
from mining.export import export_parquet, parquet_tables
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# Lifecycle start/complete pairs, ties (same instant in a case, ordered by row),
# repeats (self-loop, short loop), ping-pong between resources, a missing
# resource, sub-second times, a one-event case, two cases of the same variant,
# and a span over a month end and the Amsterdam DST change (31 March 2024).
TINY = FILES / "spark" / "tiny.csv"
TINY_ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "lifecycle": "lifecycle",
    "resource": "resource",
    "start_timestamp": None,
    "cost": None,
}

#: Per log: a time window plus top variants (the filter the app uses most).
WINDOWS = {
    "tiny": Filter(
        start=at("2024-03-30T00:00:00+00:00"), end=at("2024-04-04T00:00:00+00:00"), variant_top_k=3
    ),
    "service_desk": Filter(
        start=at("2025-02-01T00:00:00+01:00"),
        end=at("2025-05-01T00:00:00+02:00"),
        window="started",
        variant_top_k=5,
    ),
    "sepsis": Filter(
        start=at("2014-03-01T00:00:00+00:00"), end=at("2014-09-01T00:00:00+00:00"), variant_top_k=40
    ),
}
#: Filters that project events away (successors recomputed with LEAD, traces with an ordered list).
PROJECTIONS = {
    "tiny": Filter(activities_remove=("Check",)),
    "service_desk": Filter(
        activities_keep=("Ticket created", "Triage", "Investigate", "Resolve", "Reopen", "Close"),
        attributes=(("priority", ("P1", "P2")),),
        resources=("Hanna de Boer", "ITSM system"),
    ),
}

#: The filter bar's conditions on paths and values: endpoints, followers, cases through, numeric ranges.
CONDITIONS = {
    "service_desk": Filter(
        starts_with=("Ticket created",),
        ends_with=("Close", "Resolve"),
        follows=(("Triage", "Resolve", False),),
        with_activities=("Investigate",),
    ),
    "sepsis": Filter(
        follows=(("ER Registration", "ER Triage", True),),
        attribute_ranges=(("Age", 50.0, 80.0),),
        min_duration_s=3600.0,
    ),
}


# -- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    pytest.importorskip("sqlglot")
    from mining.spark import local_session

    session = local_session("mining-tests", small_data=True)
    yield session
    session.stop()


def sepsis_path(request) -> Path:
    """The Sepsis log in ``../shared``; skips the test (the fixture's reason) when it is absent."""
    return request.getfixturevalue("shared_logs") / "sepsis.csv.gz"


def needs(request, log: str) -> None:
    """Skip a case on the Sepsis log when ``../shared`` does not hold it."""
    if log == "sepsis":
        sepsis_path(request)


@pytest.fixture(scope="module")
def duck(request):
    """A DuckDB workspace with the logs; ``logs`` maps a short name to its log id.

    Sepsis is left out when ``../shared`` does not hold it (the tests that name it skip).
    """
    store = Store()
    logs = {
        "tiny": ingest_file(store, TINY, IngestOptions(name="tiny", roles=TINY_ROLES)).log_id,
        "service_desk": ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id,
    }
    with contextlib.suppress(pytest.skip.Exception):
        logs["sepsis"] = ingest_file(store, sepsis_path(request)).log_id
    yield store, logs
    store.close()


@pytest.fixture(scope="module")
def both(spark, duck, tmp_path_factory):
    """(duckdb store, spark store, log ids): one Parquet folder per log, all read by one SparkStore."""
    from mining.spark import SparkStore

    store, logs = duck
    base = tmp_path_factory.mktemp("parquet")
    folders = [export_parquet(store, log_id, base / name).folder for name, log_id in logs.items()]
    with SparkStore(spark, folders, cache=True) as sp:
        yield store, sp, logs


# -- comparing records -----------------------------------------------------------


def assert_same(a, b, where="result"):
    """Equal records, floats within 1e-9 relative (and 1e-9 absolute near zero)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict), f"{where}: {b!r} is not a dict"
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {a!r} vs {b!r}"
    else:
        assert type(a) is type(b) and a == b, (
            f"{where}: {a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
        )


def same_on_both(both, measure, log, *args, **kw):
    duck_store, spark_store, logs = both
    expected = measure(duck_store, logs[log], *args, **kw)
    got = measure(spark_store, logs[log], *args, **kw)
    assert_same(expected, got, measure.__name__)
    return expected


# -- parity ------------------------------------------------------------------------

MEASURES = {
    "dfg": dfg,
    "variants": variants,
    "case_durations": case_durations,
    "load_heatmap": load_heatmap,
    "throughput": throughput,
    "rework": rework,
    "activity_times": activity_times,
}
LOGS = ("tiny", "service_desk", "sepsis")


@pytest.mark.parametrize("measure", list(MEASURES))
@pytest.mark.parametrize("log", LOGS)
@pytest.mark.parametrize("filtered", [False, True], ids=["all", "window+top"])
def test_measure_is_equal_on_spark(request, both, measure, log, filtered):
    needs(request, log)
    result = same_on_both(both, MEASURES[measure], log, WINDOWS[log] if filtered else None)
    assert result is not None


@pytest.mark.parametrize("measure", ["dfg", "variants", "case_durations", "rework", "activity_times"])
@pytest.mark.parametrize("log", list(PROJECTIONS))
def test_projected_measure_is_equal_on_spark(request, both, measure, log):
    needs(request, log)
    same_on_both(both, MEASURES[measure], log, PROJECTIONS[log])


@pytest.mark.parametrize("measure", ["dfg", "variants", "case_durations", "throughput"])
@pytest.mark.parametrize("log", list(CONDITIONS))
def test_the_filter_bars_conditions_are_equal_on_spark(request, both, measure, log):
    needs(request, log)
    same_on_both(both, MEASURES[measure], log, CONDITIONS[log])
    # The conditions must select: some cases kept, not all (else parity proves nothing).
    duck_store, _, logs = both
    kept = case_durations(duck_store, logs[log], CONDITIONS[log]).count
    assert 0 < kept < case_durations(duck_store, logs[log]).count


def test_the_tiny_log_exercises_what_it_should(both):
    """Guards the fixture: ties, repeats, ping-pong and lifecycle pairs are really there."""
    duck_store, _, logs = both
    r = rework(duck_store, logs["tiny"])
    assert r.self_loops and r.short_loops and r.ping_pong
    assert activity_times(duck_store, logs["tiny"]).source == "lifecycle"
    assert variants(duck_store, logs["tiny"], PROJECTIONS["tiny"]).total_variants >= 2


def test_other_measures_are_equal_on_spark(both):
    _, _, logs = both
    same_on_both(both, transition_wait_heatmap, "service_desk", WINDOWS["service_desk"], period="month")
    same_on_both(both, resource_heatmap, "service_desk", None, metric="processing")
    same_on_both(both, transition_times, "tiny")
    same_on_both(both, work_in_progress, "tiny", None, period="day")
    same_on_both(both, all_case_durations, "tiny", PROJECTIONS["tiny"])
    same_on_both(both, cases_of_variant, "tiny", 1, PROJECTIONS["tiny"])
    duck_store, spark_store, _ = both
    assert_same(
        events_of_case(duck_store, logs["tiny"], "c1"), events_of_case(spark_store, logs["tiny"], "c1")
    )


def test_cases_of_a_sepsis_variant_are_equal_on_spark(request, both):
    needs(request, "sepsis")
    found = same_on_both(both, cases_of_variant, "sepsis", 3, WINDOWS["sepsis"], limit=5)
    assert (len(found.cases), found.truncated) == (5, True)


def test_calendars_and_time_zones_are_equal_on_spark(both):
    """Business seconds and local time join a bucket table registered from Arrow on each backend."""
    same_on_both(both, activity_times, "service_desk", None, calendar=Calendar())
    same_on_both(both, load_heatmap, "tiny", None, timezone="Europe/Amsterdam")
    same_on_both(both, throughput, "tiny", None, period="week", timezone="Europe/Amsterdam")


# -- the Parquet export ------------------------------------------------------------


def test_export_keeps_every_table_in_the_stored_order(duck, tmp_path):
    store, logs = duck
    log_id = logs["tiny"]
    out = export_parquet(store, log_id, tmp_path / "tiny")
    assert set(out.tables) == set(parquet_tables(log_id))
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == sorted(f"{t}.parquet" for t in out.tables)
    for table, order in [("events", "case_no, ts, row_no"), ("cases", "case_no"), ("variants", "variant_id")]:
        expected = store.query(f"SELECT * FROM {table} WHERE log_id = ? ORDER BY {order}", [log_id])
        got = store.query("SELECT * FROM read_parquet(?)", [out.path(table)])
        assert got == expected, table
    assert out.tables["events"] == 20
    assert (
        store.query("SELECT * FROM read_parquet(?)", [out.path(f"attrs_{log_id}")]).rows
        == store.query(f"SELECT * FROM attrs_{log_id} ORDER BY row_no").rows
    )


def test_export_command_writes_the_folder(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    workspace = tmp_path / "w.duckdb"
    runner = CliRunner()
    res = runner.invoke(cli, ["-w", str(workspace), "ingest", str(SAMPLE_LOGS / "service_desk.csv")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli, ["-w", str(workspace), "export", "service_desk", "--parquet", str(tmp_path / "pq")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "pq" / "events.parquet").is_file()
    assert "16,649" in res.output
    res = runner.invoke(cli, ["-w", str(workspace), "export", "nope", "--parquet", str(tmp_path / "pq2")])
    assert res.exit_code == 1 and "Error" in res.output


# -- translation -------------------------------------------------------------------


class Recorder:
    """A store that remembers every statement passed to it."""

    def __init__(self, store):
        self.store = store
        self.statements: dict[str, object] = {}

    def query(self, sql, params=None):
        self.statements.setdefault(sql, params)
        return self.store.query(sql, params)

    def scalar(self, sql, params=None):
        self.statements.setdefault(sql, params)
        return self.store.scalar(sql, params)

    def arrow(self, sql, params=None):
        self.statements.setdefault(sql, params)
        return self.store.arrow(sql, params)

    def __getattr__(self, name):
        return getattr(self.store, name)


def every_statement(store, logs) -> dict[str, object]:
    rec = Recorder(store)
    # Every clause of the case selection at once; the projections and windows are per log.
    selection = Filter(
        variant_coverage=0.8,
        min_duration_s=1.0,
        max_duration_s=1e9,
        window="completed",
        variant_ids=(1, 2),
        resources=("ann", "Hanna de Boer", "A"),
    )
    for name, log_id in logs.items():
        projection = PROJECTIONS.get(name, Filter(activities_keep=("CRP", "Leucocytes", "ER Triage")))
        conditions = CONDITIONS.get(
            name, Filter(starts_with=("a",), follows=(("a", "b", True), ("b", "c", False)))
        )
        for flt in (None, selection, WINDOWS[name], projection, conditions):
            for measure in (
                dfg,
                variants,
                case_durations,
                all_case_durations,
                load_heatmap,
                transition_wait_heatmap,
                resource_heatmap,
                throughput,
                rework,
                activity_times,
                transition_times,
            ):
                measure(rec, log_id, flt)
            cases_of_variant(rec, log_id, 1, flt)
        activity_times(rec, log_id, calendar=Calendar())
        resource_heatmap(rec, log_id, calendar=Calendar(), metric="processing")
        load_heatmap(rec, log_id, timezone="Europe/Amsterdam")
        transition_wait_heatmap(rec, log_id, period="month", timezone="America/New_York")
        throughput(rec, log_id, period="month")
        work_in_progress(rec, log_id, period="day")
        variants(rec, log_id, top=3)
    return rec.statements


def test_every_statement_of_the_measures_translates_to_spark(duck):
    pytest.importorskip("sqlglot")
    import sqlglot
    from sqlglot import ErrorLevel

    from mining.spark import to_spark_sql

    store, logs = duck
    statements = every_statement(store, logs)
    assert len(statements) > 50
    for sql in statements:
        sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
        out = to_spark_sql(sql)
        assert "$" not in out and "UNIX_TIMESTAMP" not in out and "COLLECT_LIST(activity)" not in out, out


def test_refused_constructs_raise_a_clear_error():
    pytest.importorskip("sqlglot")
    from mining.spark import UnsupportedConstruct, to_spark_sql

    for sql in (
        "SELECT quantile_disc(x, 0.5) FROM t",
        "SELECT time_bucket(INTERVAL 1 DAY, ts) FROM t",
        "SELECT l[1:2] FROM t",
        "SELECT array_agg(a ORDER BY b DESC) FROM t",
        "SELECT date_diff('week', a, b) FROM t",
        "SELECT date_part('millisecond', ts) FROM t",
    ):
        with pytest.raises(UnsupportedConstruct):
            to_spark_sql(sql)


# Each probe is one DuckDB expression over the table below; the rewrite must give the same value on Spark.
PROBES = {
    "dayofweek": "dayofweek(ts)",
    "isodow": "isodow(ts)",
    "date_part_dow": "date_part('dow', ts)",
    "extract_isodow": "extract(isodow FROM ts)",
    "date_part_second": "date_part('second', ts)",
    "epoch": "epoch(ts)",
    "extract_epoch": "extract(epoch FROM ts)",
    "date_trunc_month": "CAST(date_trunc('month', ts) AS DATE)",
    "date_trunc_week": "date_trunc('week', ts)",
    "date_plus_days": "DATE '1970-01-01' + CAST(floor(epoch(ts) / 86400) AS INTEGER)",
    "date_diff_hour": "date_diff('hour', ts, ts2)",
    "date_diff_second": "date_diff('second', ts, ts2)",
    "date_diff_day": "date_diff('day', ts, ts2)",
    "date_diff_month": "date_diff('month', ts, ts2)",
    "floor_div": "floor(x / 3)",
    "least_null": "least(x, NULL)",
    "string_concat": "s || '-' || s",
    "list_contains": "list_contains($vals, s)",
    "window_lead": "lead(s) OVER (PARTITION BY g ORDER BY ts, id)",
}
AGGREGATES = {
    "median": "median(x)",
    "quantile_cont": "quantile_cont(x, 0.9)",
    "ordered_list": "array_agg(s ORDER BY ts, id)",
    "ordered_list_nulls": "list(y ORDER BY y, id)",
    "ordered_string_agg": "string_agg(s, '|' ORDER BY ts, id)",
    "count_distinct": "count(DISTINCT s)",
    "filter_clause": "min(x) FILTER (WHERE x > $lo)",
}


def probe_table():
    import pyarrow as pa

    ts = [
        at("2024-03-31T00:30:00.123456+00:00"),
        at("2024-03-31T00:30:00.123456+00:00"),
        at("2024-01-01T23:59:59.999999+00:00"),
        at("2023-12-31T12:00:00+00:00"),
        at("2024-02-29T08:00:00+00:00"),
        at("2024-03-04T00:00:00+00:00"),
    ]
    return pa.table(
        {
            "id": pa.array(range(6), pa.int64()),
            "g": pa.array([1, 1, 1, 2, 2, 2], pa.int64()),
            "s": pa.array(["b", "a", "é", None, "c", "it's"]),
            "x": pa.array([1.5, -2.0, 7.25, None, 3.0, 10.0]),
            "y": pa.array([None, 2, 1, None, 5, 1], pa.int64()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "ts2": pa.array(
                [
                    t + dt.timedelta(hours=h, microseconds=1)
                    for t, h in zip(ts, [0, 25, 1, 800, 0.5, 2000], strict=True)
                ],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def test_each_rewrite_means_the_same_on_spark(both):
    duck_store, spark_store, _ = both
    table = probe_table()
    params = {"vals": ["a", "it's", "é"], "lo": 1.0}
    duck_store.register("probe", table)
    spark_store.register("probe", table)
    try:
        rows = ", ".join(f"{expr} AS {name}" for name, expr in PROBES.items())
        sql = f"SELECT id, {rows} FROM probe ORDER BY id"
        assert_same(
            duck_store.query(sql, {"vals": params["vals"]}),
            spark_store.query(sql, {"vals": params["vals"]}),
            "row probes",
        )
        params = {"lo": 1.0}
        aggs = ", ".join(f"{expr} AS {name}" for name, expr in AGGREGATES.items())
        sql = f"SELECT g, {aggs} FROM probe GROUP BY g ORDER BY g"
        assert_same(duck_store.query(sql, params), spark_store.query(sql, params), "aggregate probes")
        sql = "SELECT DISTINCT ON (g) g, s FROM probe ORDER BY g, ts, id"
        assert_same(duck_store.query(sql), spark_store.query(sql), "distinct on")
        sql = (
            "WITH c AS (SELECT max(id) AS x FROM probe) "  # nested WITH reusing a name: hoisted and renamed
            "SELECT c.x, t.x AS y FROM c CROSS JOIN (WITH c AS (SELECT min(id) AS x FROM probe) SELECT c.x FROM c) t"
        )
        assert_same(duck_store.query(sql), spark_store.query(sql), "nested with")
        sql = f"SELECT {aggs} FROM probe WHERE id < 0"  # a global aggregate over no rows
        assert_same(duck_store.query(sql, params), spark_store.query(sql, params), "empty aggregate")
    finally:
        duck_store.unregister("probe")
        spark_store.unregister("probe")


def test_parameter_values_bind_like_duckdb(both):
    duck_store, spark_store, logs = both
    sql = (
        "SELECT count(*) AS n, min(ts) AS first, max(activity) AS last_name, $label AS label, $k + 1 AS k "
        "FROM events WHERE log_id = $log AND ts >= $since AND list_contains($acts, activity) "
        "AND coalesce(resource, '') <> $nobody"
    )
    params = {
        "log": logs["tiny"],
        "since": dt.datetime(2024, 3, 29, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "acts": ["Check", "Décision"],
        "nobody": "o'hara \\ x",
        "label": "naïve 'quoted'",
        "k": 2**40,
    }
    expected = duck_store.query(sql, params)
    assert expected.rows[0][0] > 0
    assert_same(expected, spark_store.query(sql, params))
    naive = dict(
        params, since=dt.datetime(2024, 3, 29, 9, 30)
    )  # naive means UTC, as on the DuckDB connection
    assert_same(duck_store.query(sql, naive), spark_store.query(sql, naive))
    positional = "SELECT count(*) FROM cases WHERE log_id = ? AND duration_s > ?"
    assert spark_store.scalar(positional, [logs["tiny"], 0.5]) == duck_store.scalar(
        positional, [logs["tiny"], 0.5]
    )
    # The month rewrite repeats its arguments: a ? inside must still bind once, in text order.
    repeated = "SELECT date_diff('month', ?, max(ts)) AS months, ? AS tag FROM events WHERE log_id = ?"
    values = [dt.datetime(2023, 11, 30, 23, 0, tzinfo=UTC), "x?", logs["tiny"]]
    assert_same(duck_store.query(repeated, values), spark_store.query(repeated, values))


def test_spark_stays_optional():
    """`import mining.spark` loads neither pyspark nor sqlglot, and no measure imports them."""
    import ast
    import subprocess
    import sys

    code = "import sys, mining.spark; print(sorted(m for m in ('pyspark', 'sqlglot') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    for path in sorted((ROOT / "mining" / "analysis").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            assert not any(n.split(".")[0] in {"pyspark", "sqlglot"} for n in names), path.name


def test_drivers_are_equal_on_spark(both):
    # The driver finder reads the monitor's case facts, once written with an ordered and a filtered
    # aggregate that Spark's SQL refuses (first(x ORDER BY ...), any_value(x) FILTER (...)).
    from mining.drivers import find_drivers

    found = same_on_both(both, find_drivers, "service_desk", "duration")
    assert found.drivers  # the sample's priorities and categories drive its cycle time
