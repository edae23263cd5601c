"""Our SQL measures against pm4py on the same real logs, compared exactly.

pm4py reads each file on its own path (XES with its pure-Python ``iterparse``
parser, CSV with pandas + ``format_dataframe``); we ingest the same file into
a fresh workspace.  Both sort each case by timestamp with ties in file order,
so the DFG (edge, start and end counts), the variants and the sorted case
durations must agree exactly (durations within 1e-6 s, the rounding of
``epoch()`` differences); transition-time means and medians are compared too.

One trap on pm4py's side: pandas turns the text ``NA`` into a missing value
by default, and the Sepsis log has a real case called ``NA`` (24 events) that
``format_dataframe`` would then drop.  The reference read keeps every string
as written (``keep_default_na=False``), as our ingest does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mining.analysis.dfg import DFG, dfg
from mining.analysis.durations import all_case_durations
from mining.analysis.variants import VariantTable, variants
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store

os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"


@dataclass(frozen=True)
class Source:
    file: str
    events: int
    cases: int
    # CSV only: the columns, and the timestamp format when not ISO 8601.
    csv_roles: tuple[str, str, str] | None = None
    ts_format: str = "ISO8601"


SOURCES = [
    pytest.param(Source("running-example.xes", 42, 6), id="running-example"),
    pytest.param(Source("receipt_coselog.xes.gz", 8_577, 1_434), id="receipt"),
    pytest.param(Source("helpdesk.xes.gz", 21_348, 4_580), id="helpdesk"),
    pytest.param(
        Source("sepsis.csv.gz", 15_214, 1_050, ("case:concept:name", "concept:name", "time:timestamp")),
        id="sepsis",
    ),
    pytest.param(
        Source("production_manufacturing.xes.gz", 9_906, 225), id="production", marks=pytest.mark.slow
    ),
    pytest.param(Source("bpic2013_incidents.xes.gz", 65_533, 7_554), id="bpic2013", marks=pytest.mark.slow),
    pytest.param(
        Source("road_traffic_fines.csv.gz", 561_470, 150_370, ("case_id", "activity", "timestamp")),
        id="road_traffic_fines",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        Source(
            "servicenow_incident_event_log_uci_ids_stripped.csv.gz",
            141_712,
            24_918,
            ("number", "ident_state", "sys_updated_at"),
            "%d/%m/%Y %H:%M",
        ),
        id="servicenow",
        marks=pytest.mark.slow,
    ),
]


@dataclass(frozen=True)
class Both:
    source: Source
    ours_dfg: DFG
    ours_variants: VariantTable
    ours_durations: tuple[float, ...]
    pm_dfg: dict[tuple[str, str], int]
    pm_start: dict[str, int]
    pm_end: dict[str, int]
    pm_perf: dict[tuple[str, str], dict[str, Any]]
    pm_variants: dict[tuple[str, ...], int]
    pm_durations: list[float]
    pm_events: int


def pm4py_frame(src: Source, path: Path) -> pd.DataFrame:
    import pm4py

    if src.csv_roles is None:
        return pm4py.read_xes(str(path), variant="iterparse")
    case, activity, ts = src.csv_roles
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw[ts] = pd.to_datetime(raw[ts], utc=True, format=src.ts_format)
    return pm4py.format_dataframe(raw, case_id=case, activity_key=activity, timestamp_key=ts)


@pytest.fixture(scope="module", params=SOURCES)
def both(request, shared_logs) -> Both:
    import pm4py

    src: Source = request.param
    path = shared_logs / src.file
    frame = pm4py_frame(src, path)
    pm_dfg, pm_start, pm_end = pm4py.discover_dfg(frame)
    pm_perf, _, _ = pm4py.discover_performance_dfg(frame)
    roles = {}
    if src.csv_roles is not None:
        roles = dict(zip(("case", "activity", "timestamp"), src.csv_roles, strict=True))
    with Store() as store:
        log = ingest_file(store, path, IngestOptions(roles=roles)).log_id
        return Both(
            source=src,
            ours_dfg=dfg(store, log),
            ours_variants=variants(store, log),
            ours_durations=all_case_durations(store, log),
            pm_dfg=dict(pm_dfg),
            pm_start=dict(pm_start),
            pm_end=dict(pm_end),
            pm_perf=dict(pm_perf),
            pm_variants=dict(pm4py.get_variants(frame)),
            pm_durations=list(pm4py.get_all_case_durations(frame)),
            pm_events=len(frame),
        )


def test_both_sides_read_the_whole_log(both):
    assert both.pm_events == both.ours_dfg.events == both.source.events
    assert len(both.pm_durations) == both.ours_dfg.cases == both.source.cases


def test_dfg_edges_and_start_end_match_pm4py(both):
    ours = {(e.source, e.target): e.count for e in both.ours_dfg.edges}
    assert ours == both.pm_dfg
    assert dict(both.ours_dfg.start) == both.pm_start
    assert dict(both.ours_dfg.end) == both.pm_end


def test_transition_times_match_pm4py(both):
    assert {(e.source, e.target) for e in both.ours_dfg.edges} == set(both.pm_perf)
    for e in both.ours_dfg.edges:
        ref = both.pm_perf[e.source, e.target]
        assert e.mean_seconds == pytest.approx(float(ref["mean"]), rel=1e-9, abs=1e-6), (e.source, e.target)
        assert e.median_seconds == pytest.approx(float(ref["median"]), rel=1e-9, abs=1e-6), (
            e.source,
            e.target,
        )


def test_variants_match_pm4py(both):
    ours = {v.activities: v.cases for v in both.ours_variants.variants}
    assert ours == both.pm_variants
    assert both.ours_variants.total_variants == len(both.pm_variants)
    assert both.ours_variants.total_cases == sum(both.pm_variants.values())


def test_case_durations_match_pm4py(both):
    assert len(both.ours_durations) == len(both.pm_durations)
    assert list(both.ours_durations) == pytest.approx(sorted(both.pm_durations), rel=0, abs=1e-6)


def test_sepsis_has_a_real_case_called_na(shared_logs):
    """Pins the reason for ``keep_default_na=False`` above."""
    sepsis = shared_logs / "sepsis.csv.gz"
    raw = pd.read_csv(sepsis, dtype=str, keep_default_na=False)
    assert (raw["case:concept:name"] == "NA").sum() == 24
    assert pd.read_csv(sepsis, dtype=str)["case:concept:name"].isna().sum() == 24
