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
``timestamp`` order.  ``python -m mining.samples`` regenerates ``sample_logs/``.
"""

from __future__ import annotations

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
    "MODELS",
    "PROCESSES",
    "REWORK_ACTIVITIES",
    "SAMPLE_CASES",
    "SAMPLE_SEED",
    "SLA_DAYS",
    "WINDOW",
    "activities",
    "generate",
    "model_xml",
    "write_log",
    "write_model",
    "write_samples",
]


def write_samples(folder: str | Path) -> list[Path]:
    """(Re)write the committed sample set: ``<process>.csv`` and ``<process>.bpmn`` each.

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
    return written
