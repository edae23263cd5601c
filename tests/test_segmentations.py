"""Which attribute the Compare page opens on: one that splits the cases into a few kinds.

The first column of a real export is as often a date (receipt's ``case:startdate``)
or a per-case label (Disco's ``case:variant``) as a team or a channel; each of
those made every case its own segment.
"""

from __future__ import annotations

import pytest

from mining.analysis.attributes import attribute_summaries, segmentations
from mining.ingest import ingest_file


def test_dates_ids_amounts_and_single_values_are_not_segmentations(store, tmp_path):
    rows = ["case,activity,timestamp,opened,ticket_no,amount,queue,tier,step_note,site"]
    for i in range(40):
        tier = ("Gold", "Silver", "Bronze")[i % 3]
        for k, act in enumerate(("Open", "Close")):
            rows.append(
                f"c{i},{act},2026-01-{1 + i % 28:02d} 0{k}:00,2026-01-{1 + i % 28:02d} 08:{i:02d},"
                f"T-{1000 + i},{100 + 7 * i},Q{i % 4},{tier},{'ok' if k else 'new'},HQ"
            )
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    log = ingest_file(store, tmp_path / "t.csv").log_id
    # queue and tier are the cases' kinds (case attributes, 4 and 3 values), in file order; step_note
    # varies within a case (event level), so it comes after them.  opened is a time, ticket_no an id
    # (40 values), amount a number with 40 values, site has one value: none of them.
    assert segmentations(attribute_summaries(store, log)) == ("queue", "tier", "step_note")


def test_case_attributes_with_few_values_come_first_on_a_real_log(store, shared_logs):
    log = ingest_file(store, shared_logs / "receipt_coselog.xes.gz").log_id
    found = segmentations(attribute_summaries(store, log))
    # case:startdate (546 dates), case:responsible (39 people) and case:enddate are left out;
    # case:department puts 1,390 of 1,434 cases (97 %) in General, so the channels come first.
    assert found == ("case:channel", "case:group", "case:department", "org:group")


def test_no_attribute_no_segmentation(store, tmp_path):
    (tmp_path / "t.csv").write_text("case,activity,timestamp\nc1,Open,2026-01-01 09:00\n")
    log = ingest_file(store, tmp_path / "t.csv").log_id
    assert segmentations(attribute_summaries(store, log)) == ()


@pytest.mark.parametrize("value", ["2026-01-05", "05.01.2026", "1/5/26", "09:15"])
def test_date_like_values_are_told(store, tmp_path, value):
    # Two values over seven cases, as a team would have: only their shape tells dates.
    rows = ["case,activity,timestamp,when"] + [
        f"c{i},Open,2026-01-0{1 + i % 5} 09:00,{value}" for i in range(6)
    ]
    rows.append(f"c9,Open,2026-01-01 09:00,{value.replace('1', '2')}")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    log = ingest_file(store, tmp_path / "t.csv").log_id
    [summary] = attribute_summaries(store, log)
    assert summary.distinct == 2
    assert segmentations((summary,)) == ()


def test_a_split_with_almost_every_case_in_one_segment_comes_after_the_others(store, tmp_path):
    # Road Traffic Fines opened on points, 146,822 of 150,370 cases (97.6 %) with 0 points.
    rows = ["case,activity,timestamp,points,channel"]
    for i in range(100):
        points = "2" if i < 3 else "0"  # 97 of 100 cases in one segment
        channel = ("Web", "Shop")[i % 2]
        rows += [f"c{i},Open,2026-01-01 0{k}:00,{points},{channel}" for k in range(1)]
        rows.append(f"c{i},Close,2026-01-02 08:00,{points},{channel}")
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    log = ingest_file(store, tmp_path / "p.csv").log_id
    assert segmentations(attribute_summaries(store, log)) == ("channel", "points")
