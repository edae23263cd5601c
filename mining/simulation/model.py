"""The simulation model: what the engine needs to play a process forward, as plain frozen records.

Time inside a model is seconds; the week is 168 hours, Monday 00:00 first,
in the log's time zone.  The model is built by
:func:`mining.simulation.calibrate.calibrate` and changed by scenarios
(:mod:`mining.simulation.scenarios`); the engine never reads the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["END", "HOURS_PER_WEEK", "ActivityModel", "Observed", "Pool", "SimModel", "local_hour"]

#: The routing target that ends a case.
END = ""
HOURS_PER_WEEK = 168


def local_hour(epoch: float, timezone: str) -> int:
    """The hour of the week (0 = Monday 00:00) of an instant in ``timezone``."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    t = dt.datetime.fromtimestamp(epoch, ZoneInfo(timezone))
    return t.weekday() * 24 + t.hour


@dataclass(frozen=True)
class Pool:
    """People who share work: a role.

    ``capacity`` people work in the ``hours`` of the week that are true
    (168 flags, Monday 00:00 first); ``resources`` are the people the log
    names (more than ``capacity`` when not all work every week).
    """

    name: str
    activities: tuple[str, ...]
    resources: tuple[str, ...]
    capacity: int
    hours: tuple[bool, ...]

    @property
    def round_the_clock(self) -> bool:
        return all(self.hours)


@dataclass(frozen=True)
class ActivityModel:
    """One activity: who does it (``pool``; ``None`` needs nobody) and how long it takes.

    ``durations`` are processing times in seconds drawn from the log (the
    engine resamples them); ``delays`` the waiting before it that no busy
    person explains (a customer's reply, a batch, a priority): working
    seconds of its pool, resampled too; ``count`` is how often the log has
    the activity.
    """

    name: str
    pool: str | None
    durations: tuple[float, ...]
    count: int
    delays: tuple[float, ...] = (0.0,)

    @property
    def mean_duration(self) -> float:
        return sum(self.durations) / len(self.durations) if self.durations else 0.0


@dataclass(frozen=True)
class Observed:
    """What the log itself shows over the calibration period, to validate against."""

    cases: int
    period_days: float
    cycle_times: tuple[float, ...]
    waits: tuple[float, ...]
    activity_counts: tuple[tuple[str, int], ...]

    @property
    def wait_mean(self) -> float:
        return sum(self.waits) / len(self.waits) if self.waits else 0.0


@dataclass(frozen=True)
class SimModel:
    """A process ready to simulate.

    ``arrivals`` are expected case starts per hour of the week (168 values);
    ``start`` the first activity's probabilities; ``routing`` for each
    activity the probabilities of what follows (:data:`END` ends the case),
    rework loops included.  ``timing`` says where processing times came from
    (``start_timestamp``, ``lifecycle``, ``estimated`` or ``none``) and
    ``notes`` what was assumed.
    """

    log: str
    timezone: str
    period_start: float
    arrivals: tuple[float, ...]
    arrival_pattern: str  # "steady", "weekly" (per hour of the week) or "weekday" (dates only: per day)
    start: tuple[tuple[str, float], ...]
    routing: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    activities: tuple[ActivityModel, ...]
    pools: tuple[Pool, ...]
    timing: str
    observed: Observed
    notes: tuple[str, ...] = field(default=())
    reasons: tuple[str, ...] = field(default=())

    @property
    def cases_per_day(self) -> float:
        return sum(self.arrivals) * 24 / HOURS_PER_WEEK

    def activity(self, name: str) -> ActivityModel:
        for a in self.activities:
            if a.name == name:
                return a
        raise KeyError(name)

    def pool(self, name: str) -> Pool:
        for p in self.pools:
            if p.name == name:
                return p
        raise KeyError(name)

    def next_of(self, activity: str) -> dict[str, float]:
        for name, targets in self.routing:
            if name == activity:
                return dict(targets)
        return {END: 1.0}
