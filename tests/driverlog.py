"""A generator of logs with planted drivers, for the driver finder's tests and bench/drivers.py.

Each case runs Receive, Triage, Work, Close (resources drawn at random) and
carries case attributes written on every event:

* ``channel`` (Web, Phone, Email, Partner): **Partner** cases take ``slow``
  times longer (a true driver);
* ``product`` (P1..P5): **P4** cases take ``slow`` times longer (a true driver);
* ``priority`` (low, high): a **bystander** that rides with the channel, high in
  85 % of Partner cases and 5 % of the others, with no effect of its own;
* ``closure`` (on time, late): a **leaked** field, written only on the Close
  event, saying whether the case took longer than the planted median;
* ``noise01`` .. ``noise20``: 2 to 6 values each, no effect.

With ``slow=1`` nothing matters: a null log.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

__all__ = ["BYSTANDER", "DRIVERS", "LEAKED", "NOISE", "write_driver_log"]

DRIVERS = (("channel", "Partner"), ("product", "P4"))
BYSTANDER = ("priority", "high")
LEAKED = "closure"
NOISE = tuple(f"noise{i:02d}" for i in range(1, 21))
ACTIVITIES = ("Receive", "Triage", "Work", "Close")
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def write_driver_log(path: Path, *, seed: int, cases: int = 1500, slow: float = 2.0, noise: int = 20) -> Path:
    """Write a CSV event log with planted drivers (``slow=1``: none) to ``path``; return it."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["Web", "Phone", "Email", "Partner"], size=cases, p=[0.35, 0.25, 0.2, 0.2])
    product = rng.choice(["P1", "P2", "P3", "P4", "P5"], size=cases, p=[0.25, 0.2, 0.2, 0.15, 0.2])
    partner = channel == "Partner"
    priority = np.where(rng.random(cases) < np.where(partner, 0.85, 0.05), "high", "low")
    levels = [int(rng.integers(2, 7)) for _ in range(noise)]
    noise_values = [rng.integers(0, k, size=cases) for k in levels]
    factor = np.where(partner, slow, 1.0) * np.where(product == "P4", slow, 1.0)
    starts = rng.uniform(0, 365 * 86_400, size=cases)
    # Step times in hours: lognormal around 8 h, stretched for the planted drivers.
    steps = rng.lognormal(mean=np.log(8.0), sigma=0.6, size=(cases, len(ACTIVITIES) - 1)) * factor[:, None]
    totals = steps.sum(axis=1)
    median = float(np.median(totals))
    header = [
        "case",
        "activity",
        "timestamp",
        "resource",
        "channel",
        "product",
        "priority",
        LEAKED,
        *(f"noise{i:02d}" for i in range(1, noise + 1)),  # NOISE for the default 20
    ]
    resources = [f"r{i}" for i in range(12)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(cases):
            t = T0 + dt.timedelta(seconds=float(starts[i]))
            for k, activity in enumerate(ACTIVITIES):
                if k:
                    t += dt.timedelta(hours=float(steps[i, k - 1]))
                closure = ("late" if totals[i] > median else "on time") if activity == "Close" else ""
                writer.writerow(
                    [
                        f"c{i:05d}",
                        activity,
                        t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        resources[int(rng.integers(0, len(resources)))],
                        channel[i],
                        product[i],
                        priority[i],
                        closure,
                        *(f"v{int(v[i])}" for v in noise_values),
                    ]
                )
    return path
