"""Monitoring: KPIs per period, before/after a change, control charts, alerts.

* :mod:`~mining.monitor.periods`: the facts of every case and the KPIs per day, week or month;
* :mod:`~mining.monitor.compare`: before and after a change date, with intervals, tests and the case mix;
* :mod:`~mining.monitor.spc`: control charts, Nelson rules and capability;
* :mod:`~mining.monitor.lean`: the Lean view (value stream and waste);
* :mod:`~mining.monitor.run`: one run of all of it, its alerts, and the stored record;
* :mod:`~mining.monitor.html`: the run as one self-contained HTML file.

The names below are the entry points the CLI and the app use.
"""

from __future__ import annotations

from mining.monitor.compare import Comparison, MapComparison, compare, compare_maps
from mining.monitor.html import render_html, write_report
from mining.monitor.periods import CaseMeasure, PeriodSeries, kpis_per_period
from mining.monitor.run import Alert, MonitorOptions, MonitorRun, monitor, run_json, save_run, stored_runs

__all__ = [
    "Alert",
    "CaseMeasure",
    "Comparison",
    "MapComparison",
    "MonitorOptions",
    "MonitorRun",
    "PeriodSeries",
    "compare",
    "compare_maps",
    "kpis_per_period",
    "monitor",
    "render_html",
    "run_json",
    "save_run",
    "stored_runs",
    "write_report",
]
