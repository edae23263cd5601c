"""The alert harness: monitoring run over the stationary and the shifted logs of :mod:`mining.samples.drift`.

A stationary log must raise no alert on its newest judged periods; a log where
Approve slows from a known week must raise a cycle-time alert by its end, as a
job run every Monday morning would see it: the export is cut at each Monday
10:00 after the shift, ingested afresh and monitored, until the export's end
(a Thursday afternoon).  ``tests/test_monitor_alert_rates.py`` runs a few
seeds; ``bench/monitoring.py`` the 20-seed rates.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mining.ingest import ingest_file
from mining.monitor.run import Alert, MonitorOptions, monitor
from mining.samples.drift import ORIGIN, export_end, write_drift_log
from mining.store import Store

__all__ = ["CYCLE_KPIS", "SHIFT_WEEK", "WEEKS", "Detection", "cron_cuts", "detect_shift", "stationary_alerts"]

#: Weeks in a log, and the week from which Approve slows in the shifted ones.
WEEKS = 30
SHIFT_WEEK = 20
#: The KPIs whose alert counts as a cycle-time alert.
CYCLE_KPIS = frozenset({"cycle_median_s", "cycle_p90_s", "cycle_median_business_s", "cycle_p90_business_s"})
OPTIONS = MonitorOptions(timezone="UTC", lean=False)


@dataclass(frozen=True)
class Detection:
    """When a shifted log's weekly runs first raised a cycle-time alert (``None``: never)."""

    seed: int
    runs: int
    first_alert: dt.datetime | None
    weeks_after_shift: float | None
    alerts: tuple[Alert, ...]


def _alerts(path: Path) -> tuple[Alert, ...]:
    with Store() as store:
        log = ingest_file(store, path).log_id
        return monitor(store, log, options=OPTIONS).alerts


def stationary_alerts(seed: int, folder: Path | None = None) -> tuple[Alert, ...]:
    """The alerts of one run over the stationary log of ``seed``, exported mid-week with open cases."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_drift_log(Path(folder or tmp) / f"stationary_{seed}.csv", seed, weeks=WEEKS)
        return _alerts(path)


def cron_cuts(shift_week: int = SHIFT_WEEK, weeks: int = WEEKS) -> list[dt.datetime]:
    """The instants a Monday-morning job exports at after the shift, then the export's end."""
    mondays = [ORIGIN + dt.timedelta(weeks=k, hours=10) for k in range(shift_week + 1, weeks + 1)]
    return [*mondays, export_end(weeks)]


def detect_shift(seed: int, shift_week: int = SHIFT_WEEK, weeks: int = WEEKS) -> Detection:
    """Run the weekly job over the shifted log of ``seed`` until a cycle-time alert, or to the end."""
    start = ORIGIN + dt.timedelta(weeks=shift_week)
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for cut in cron_cuts(shift_week, weeks):
            path = write_drift_log(
                Path(tmp) / f"shifted_{seed}.csv", seed, weeks=weeks, shift_week=shift_week, end=cut
            )
            runs += 1
            alerts = _alerts(path)
            hit = tuple(a for a in alerts if a.kpi in CYCLE_KPIS)
            if hit:
                return Detection(seed, runs, cut, (cut - start) / dt.timedelta(weeks=1), hit)
    return Detection(seed, runs, None, None, ())
