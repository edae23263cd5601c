"""Realistic, deterministic sample event logs and their documented BPMN models.

Three business processes, each with rework, ping-pong hand-offs, deviations from
the documented model, office-hour working calendars, a bottleneck that breaks an
SLA, and a process change at a known date (:data:`CHANGE_DATES`)::

    from mining.samples import generate, write_log, write_model
    table = generate("service_desk", cases=2000, seed=0)          # pyarrow.Table, all text
    write_log("order_to_cash", "o2c.parquet", events=1_000_000)   # CSV or Parquet by suffix
    write_model("purchase_to_pay", "p2p.bpmn")                    # BPMN 2.0 with diagram

Output columns: ``case_id, activity, start_timestamp, timestamp, resource, cost``
followed by the process's attributes (:data:`ATTRIBUTES`), all text; timestamps
are ISO 8601 in Europe/Amsterdam local time with the UTC offset; rows are in
``timestamp`` order.  ``python -m mining.samples`` regenerates ``sample_logs/``,
including ``samples.json``: the change date and SLA of each sample log
(:func:`sample_facts`), which the app reads instead of importing this package.
"""

from __future__ import annotations

import json
from pathlib import Path

from mining.samples.bpmn import MODELS, model_xml, write_model
from mining.samples.generator import (
    ATTRIBUTES,
    BOTTLENECKS,
    CHANGE_DATES,
    COLUMNS,
    DEFAULT_CASES,
    PROCESSES,
    REWORK_ACTIVITIES,
    SAMPLE_CASES,
    SAMPLE_SEED,
    SLA_DAYS,
    WINDOW,
    activities,
    generate,
    write_log,
)

__all__ = [
    "ATTRIBUTES",
    "BOTTLENECKS",
    "CHANGE_DATES",
    "COLUMNS",
    "DEFAULT_CASES",
    "FACTS_FILE",
    "MODELS",
    "OCEL_SAMPLE",
    "PROCESSES",
    "REWORK_ACTIVITIES",
    "SAMPLE_CASES",
    "SAMPLE_SEED",
    "SLA_DAYS",
    "WINDOW",
    "activities",
    "generate",
    "model_xml",
    "sample_facts",
    "write_facts",
    "write_log",
    "write_model",
    "write_samples",
]

#: The file, beside the sample logs, that states what the generator made true of each.
FACTS_FILE = "samples.json"
#: The object-centric sample log (OCEL 2.0 JSON), beside the others.
OCEL_SAMPLE = "order_management.jsonocel"


def sample_facts() -> dict[str, dict[str, str | int]]:
    """Per sample log (its name): the documented change date (ISO) and SLA in calendar days.

    Written from :data:`CHANGE_DATES` and :data:`SLA_DAYS`, the constants the logs are generated from.
    """
    return {p: {"change_date": CHANGE_DATES[p].isoformat(), "sla_days": SLA_DAYS[p]} for p in PROCESSES}


def write_facts(folder: str | Path) -> Path:
    """Write :func:`sample_facts` to ``folder/samples.json`` (stable bytes); returns the path."""
    path = Path(folder) / FACTS_FILE
    path.write_text(json.dumps(sample_facts(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_samples(folder: str | Path) -> list[Path]:
    """(Re)write the committed sample set: ``<process>.csv`` and ``<process>.bpmn`` each, ``samples.json``,
    and the object-centric ``order_management.jsonocel`` (:mod:`mining.samples.ocel`).

    Sizes and seed are :data:`SAMPLE_CASES` and :data:`SAMPLE_SEED`; the files are
    byte-for-byte reproducible.  Returns the written paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for process in PROCESSES:
        written.append(
            write_log(process, folder / f"{process}.csv", cases=SAMPLE_CASES[process], seed=SAMPLE_SEED)
        )
        written.append(write_model(process, folder / f"{process}.bpmn"))
    written.append(write_facts(folder))
    from mining.samples.ocel import write_ocel

    written.append(write_ocel(folder / OCEL_SAMPLE))
    return written
