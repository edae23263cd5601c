"""Deterministic generator of realistic event logs for three business processes.

The generator is a vectorised discrete simulation.  It never loops over events
in Python: a case's path is drawn as a row of *columns* (one column per possible
activity occurrence: optional steps, loop iterations, deviations), every column
gets a per-case presence mask and a sort key, and one ``argsort`` per row turns
the keys into the order of the case's events (parallel branches interleave by
drawing the key of one branch between the keys of the other).  Timestamps are
then computed position by position (a Python loop over the *longest trace*,
about 30 steps, each step vectorised over all cases).

Time model, per event:

* ``ready = previous complete + wait`` with a log-normal wait per activity
  (the very first event is ready at the case's arrival);
* people work in office hours (Mon-Fri 08:00-18:00 Europe/Amsterdam; the
  warehouse Mon-Sat 06:00-22:00, carriers Mon-Sat 08:00-20:00): a task that
  becomes ready outside them is worked off during the next working day (more
  of it in the morning), and its processing time is counted in working time,
  so a task that does not fit into the day continues the next working day;
  about 3 % of tasks are done outside working hours anyway (overtime, on-call);
* systems, customers and the payment provider work around the clock;
* processing time is log-normal, scaled by the resource's personal speed;
* ``cost`` = hourly rate of the resource x processing hours, in EUR, 2 decimals.

Everything is computed in UTC seconds; Europe/Amsterdam local time is derived
with the EU daylight-saving rule (last Sunday of March / October, 01:00 UTC),
which is exact for every year since 1996.

Each process has a *process change* at :data:`CHANGE_DATES`: from that day on
the waiting time before the bottleneck activity (:data:`BOTTLENECKS`) is 40 %
shorter for every event that becomes ready after the change, and cases that
arrive after it have half the rework probability.  ``change=False`` keeps the
"before" behaviour for the whole year, for measuring false-positive rates.

Only ``numpy`` is imported at module level; ``polars`` and ``pyarrow`` are
imported by the functions that build and write tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    import pyarrow as pa

__all__ = [
    "ATTRIBUTES",
    "BOTTLENECKS",
    "CHANGE_DATES",
    "COLUMNS",
    "DEFAULT_CASES",
    "PROCESSES",
    "REWORK_ACTIVITIES",
    "SAMPLE_CASES",
    "SAMPLE_SEED",
    "SLA_DAYS",
    "WINDOW",
    "activities",
    "generate",
    "write_log",
]

PROCESSES = ("service_desk", "order_to_cash", "purchase_to_pay")

#: The fixed event-log columns, in order; the process's attribute columns follow.
COLUMNS = ("case_id", "activity", "start_timestamp", "timestamp", "resource", "cost")

#: Case attributes, repeated on every event of the case (after :data:`COLUMNS`).
ATTRIBUTES = {
    "service_desk": ("priority", "channel", "category"),
    "order_to_cash": ("channel", "region", "amount"),
    "purchase_to_pay": ("vendor", "plant", "amount"),
}

#: Local day (Europe/Amsterdam, 00:00) from which the process runs differently.
CHANGE_DATES = {
    "service_desk": dt.date(2025, 7, 1),
    "order_to_cash": dt.date(2025, 6, 2),
    "purchase_to_pay": dt.date(2025, 9, 1),
}

#: Cases arrive on local days in ``[WINDOW[0], WINDOW[1])``; they run to completion.
WINDOW = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))

#: The activity whose waiting time drops by 40 % at the change date.
BOTTLENECKS = {
    "service_desk": "Investigate",
    "order_to_cash": "Pick items",
    "purchase_to_pay": "Pay invoice",
}

#: Service level: case cycle time (first start to last complete) in calendar days.
SLA_DAYS = {"service_desk": 5, "order_to_cash": 5, "purchase_to_pay": 35}

#: Activities that only occur as rework (besides repeated activities).
REWORK_ACTIVITIES = {
    "service_desk": ("Reopen",),
    "order_to_cash": ("Re-pack", "Correct address"),
    "purchase_to_pay": ("Resolve price difference", "Change purchase order"),
}

#: Number of cases when neither ``cases`` nor ``events`` is given.
DEFAULT_CASES = 2000
#: Size and seed of the committed sample logs in ``sample_logs/``.
SAMPLE_CASES = {"service_desk": 2400, "order_to_cash": 2500, "purchase_to_pay": 1850}
SAMPLE_SEED = 0

_BOTTLENECK_FACTOR = 0.6  # waiting time before the bottleneck after the change
_REWORK_FACTOR = 0.5  # rework probabilities after the change
_OFF_HOURS_SHARE = 0.03  # office tasks that are done outside office hours anyway
_OPEN, _CLOSE = 8 * 3600, 18 * 3600  # office hours, used for arrivals

_S, _M, _H, _D = 1, 60, 3600, 86400


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class _Calendar:
    """Working time: ``days`` working days from Monday, ``open``-``close`` local time."""

    open: int
    close: int
    days: int


#: Working calendars of people; pools without a calendar work around the clock.
_CALENDARS = {
    "office": _Calendar(8 * _H, 18 * _H, 5),
    "warehouse": _Calendar(6 * _H, 22 * _H, 6),  # two shifts, Monday to Saturday
    "carrier": _Calendar(8 * _H, 20 * _H, 6),
}
_CALENDAR_NAMES = tuple(_CALENDARS)


@dataclass(frozen=True)
class _Pool:
    names: tuple[str, ...]
    rate: float  # EUR per working hour
    calendar: str | None  # key of _CALENDARS, or None: around the clock
    sticky: float  # probability that an event goes to the case's usual resource


@dataclass(frozen=True)
class _Act:
    name: str
    pool: str
    wait: tuple[float, float]  # median seconds (0: no wait), sigma of the log
    proc: tuple[float, float]  # median seconds, sigma of the log


@dataclass(frozen=True)
class _Arrivals:
    weekend_weight: float  # relative weight of a Saturday/Sunday against a weekday
    office_share: float  # share of arrivals inside office hours (rest: any time)


@dataclass(frozen=True)
class _Spec:
    name: str
    acts: tuple[_Act, ...]
    pools: dict[str, _Pool]
    arrivals: _Arrivals
    case_prefix: str
    case_first: int
    case_width: int

    @property
    def act_index(self) -> dict[str, int]:
        return {a.name: i for i, a in enumerate(self.acts)}


def _people(*names: str) -> tuple[str, ...]:
    return tuple(names)


_SERVICE_DESK = _Spec(
    name="service_desk",
    acts=(
        _Act("Ticket created", "agents", (0, 0), (4 * _M, 0.5)),
        _Act("Send acknowledgement", "system", (30 * _S, 0.6), (2 * _S, 0.3)),
        _Act("Triage", "agents", (40 * _M, 1.0), (7 * _M, 0.6)),
        _Act("Assign to group", "agents", (15 * _M, 0.8), (3 * _M, 0.5)),
        _Act("Investigate", "groups", (1.6 * _D, 0.8), (50 * _M, 0.8)),
        _Act("Request customer info", "groups", (20 * _M, 0.8), (6 * _M, 0.5)),
        _Act("Customer replied", "customer", (20 * _H, 1.0), (5 * _M, 0.5)),
        _Act("Resolve", "groups", (30 * _M, 0.9), (20 * _M, 0.7)),
        _Act("Reopen", "agents", (2.5 * _D, 0.7), (5 * _M, 0.5)),
        _Act("Close", "agents", (4 * _H, 0.8), (3 * _M, 0.5)),
    ),
    pools={
        "agents": _Pool(
            _people(
                "Anna de Vries",
                "Bram Jansen",
                "Chantal Bakker",
                "Daan Visser",
                "Emma Smit",
                "Fatima El Amrani",
                "Gijs Mulder",
                "Hanna de Boer",
                "Ivo Meijer",
                "Julia Bos",
            ),
            38.0,
            "office",
            0.6,
        ),
        "groups": _Pool(
            (
                "Application support",
                "Workplace services",
                "Identity & access",
                "Network operations",
                "Database team",
            ),
            62.0,
            "office",
            1.0,
        ),
        "system": _Pool(("ITSM system",), 0.0, None, 1.0),
        "customer": _Pool(("Customer",), 0.0, None, 1.0),
        "portal": _Pool(("Self-service portal",), 0.0, None, 1.0),
    },
    arrivals=_Arrivals(weekend_weight=0.06, office_share=0.9),
    case_prefix="INC",
    case_first=1000,
    case_width=7,
)

_ORDER_TO_CASH = _Spec(
    name="order_to_cash",
    acts=(
        _Act("Order placed", "sales", (0, 0), (4 * _M, 0.5)),
        _Act("Credit check", "finance", (3 * _H, 0.8), (10 * _M, 0.6)),
        _Act("Cancel order", "service", (2 * _H, 1.0), (5 * _M, 0.5)),
        _Act("Payment received", "psp", (90 * _S, 0.8), (3 * _M, 0.5)),
        _Act("Pick items", "pickers", (2.5 * _D, 0.4), (12 * _M, 0.6)),
        _Act("Pack", "packers", (60 * _M, 0.8), (6 * _M, 0.5)),
        _Act("Re-pack", "packers", (2 * _H, 0.8), (8 * _M, 0.5)),
        _Act("Ship", "shipping", (2 * _H, 0.7), (4 * _M, 0.5)),
        _Act("Correct address", "service", (5 * _H, 0.9), (8 * _M, 0.6)),
        _Act("Deliver", "carriers", (10 * _H, 0.3), (3 * _M, 0.5)),
        _Act("Invoice", "billing", (20 * _M, 1.0), (2 * _S, 0.3)),
        _Act("Return requested", "service", (3 * _D, 0.8), (6 * _M, 0.5)),
        _Act("Refund", "finance", (1.5 * _D, 0.7), (8 * _M, 0.5)),
    ),
    pools={
        "webshop": _Pool(("Webshop",), 0.0, None, 1.0),
        "marketplace": _Pool(("Marketplace API",), 0.0, None, 1.0),
        "sales": _Pool(_people("Kees van Dijk", "Lotte Hendriks", "Mohamed Yilmaz"), 42.0, "office", 0.9),
        "finance": _Pool(_people("Nina Dekker", "Olaf Peters", "Priya Ramdin"), 48.0, "office", 0.5),
        "psp": _Pool(("Payment provider",), 0.0, None, 1.0),
        "pickers": _Pool(
            _people(
                "Quinten Brouwer",
                "Roos de Graaf",
                "Sem van Leeuwen",
                "Tess Kok",
                "Umut Demir",
                "Vera Willems",
                "Wouter Jacobs",
                "Xander Vos",
            ),
            28.0,
            "warehouse",
            0.0,
        ),
        "packers": _Pool(
            _people("Yara Hoekstra", "Zeynep Kaya", "Arjen Post", "Bo Kuipers", "Cas Verhoeven"),
            28.0,
            "warehouse",
            0.7,
        ),
        "shipping": _Pool(_people("Dirk Schouten", "Eva Prins", "Floor Huisman"), 32.0, "warehouse", 0.9),
        "carriers": _Pool(("PostNL", "DHL Parcel", "DPD", "bpost"), 36.0, "carrier", 1.0),
        "billing": _Pool(("Billing system",), 0.0, None, 1.0),
        "service": _Pool(
            _people("Gert Smits", "Ilse Wouters", "Jasper Claes", "Karin Maas"), 36.0, "office", 0.8
        ),
    },
    arrivals=_Arrivals(weekend_weight=0.35, office_share=0.7),
    case_prefix="SO-",
    case_first=4821,
    case_width=6,
)

_PURCHASE_TO_PAY = _Spec(
    name="purchase_to_pay",
    acts=(
        _Act("Create purchase requisition", "requesters", (0, 0), (15 * _M, 0.6)),
        _Act("Approve requisition", "managers", (16 * _H, 0.8), (5 * _M, 0.6)),
        _Act("Select vendor", "buyers", (6 * _H, 0.8), (30 * _M, 0.7)),
        _Act("Create purchase order", "buyers", (4 * _H, 0.8), (15 * _M, 0.5)),
        _Act("Approve purchase order", "approvers", (16 * _H, 0.8), (5 * _M, 0.5)),
        _Act("Change purchase order", "buyers", (1 * _D, 0.8), (10 * _M, 0.5)),
        _Act("Receive goods", "receiving", (2 * _D, 0.5), (20 * _M, 0.6)),
        _Act("Receive invoice", "payables", (20 * _H, 0.8), (6 * _M, 0.5)),
        _Act("Three-way match", "payables", (4 * _H, 0.8), (8 * _M, 0.5)),
        _Act("Resolve price difference", "buyers", (1.5 * _D, 0.8), (25 * _M, 0.6)),
        _Act("Pay invoice", "payables", (20 * _D, 0.35), (3 * _M, 0.5)),
    ),
    pools={
        "requesters": _Pool(
            _people(
                "Lars Vermeulen",
                "Mila Bosman",
                "Niels Koster",
                "Olivia Dijkstra",
                "Pieter Groen",
                "Rachid Bouzid",
                "Sanne Hermans",
                "Thijs van Wijk",
                "Ulla Janssens",
                "Victor Lambrecht",
                "Wendy Mertens",
                "Youssef Amrani",
            ),
            45.0,
            "office",
            1.0,
        ),
        "managers": _Pool(
            _people("Anke Verbeek", "Bart Maes", "Carla Timmermans", "Diederik Sluis", "Els Peeters"),
            75.0,
            "office",
            0.95,
        ),
        "buyers": _Pool(
            _people("Frank Leclercq", "Greet Hofman", "Hugo Stevens", "Inge Claessens"), 52.0, "office", 0.9
        ),
        "approvers": _Pool(_people("Jan-Willem Roos", "Kim Aerts"), 85.0, "office", 0.7),
        "receiving": _Pool(
            _people("Luuk Baars", "Merel Kramer", "Noah Bosch", "Otto Kempen", "Puck Haan"),
            30.0,
            "office",
            0.3,
        ),
        "payables": _Pool(
            _people("Quirine Lammers", "Ruben Coenen", "Saskia Lenders", "Tom Wuyts"), 40.0, "office", 0.8
        ),
    },
    arrivals=_Arrivals(weekend_weight=0.01, office_share=0.97),
    case_prefix="",
    case_first=4500000000,
    case_width=10,
)

_SPECS = {s.name: s for s in (_SERVICE_DESK, _ORDER_TO_CASH, _PURCHASE_TO_PAY)}

_VENDORS = (
    "Acme Supplies",
    "Benelux Office",
    "Canal Logistics",
    "Delta Lab",
    "Elbe Packaging",
    "Flevo Components",
    "Grote Markt Services",
    "Hansa Chemie",
    "IJssel Metaal",
    "Jura Electronics",
    "Kempen IT",
    "Limburg Safety",
)
_PLANTS = ("1000 Amsterdam", "2000 Rotterdam", "3000 Eindhoven")


def activities(process: str) -> tuple[str, ...]:
    """Every activity name the generator can produce for ``process``."""
    return tuple(a.name for a in _spec(process).acts)


def _spec(process: str) -> _Spec:
    try:
        return _SPECS[process]
    except KeyError:
        raise ValueError(f"unknown process {process!r}; expected one of {', '.join(PROCESSES)}") from None


# --------------------------------------------------------------- local time (EU rule)


def _epoch(d: dt.datetime) -> int:
    return int(d.replace(tzinfo=dt.UTC).timestamp())


def _last_sunday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 31)
    return d - dt.timedelta(days=(d.weekday() - 6) % 7)


def _dst_tables() -> tuple[np.ndarray, np.ndarray]:
    """Summer-time transitions as UTC and as local-standard-time seconds."""
    utc = []
    for y in range(1996, 2101):
        for m in (3, 10):
            d = _last_sunday(y, m)
            utc.append(_epoch(dt.datetime(d.year, d.month, d.day, 1)))
    t = np.asarray(utc, dtype=np.int64)
    # Local wall clock at the transitions: 02:00 CET (spring), 03:00 CEST (autumn).
    local = t + np.where(np.arange(t.size) % 2 == 0, 3600, 7200)
    return t, local


_DST_UTC, _DST_LOCAL = _dst_tables()


def _offset_of_utc(t: np.ndarray) -> np.ndarray:
    """UTC offset in seconds (3600 or 7200) of Europe/Amsterdam at UTC instants."""
    return 3600 + 3600 * (np.searchsorted(_DST_UTC, t, side="right") & 1)


def _offset_of_local(t: np.ndarray) -> np.ndarray:
    """UTC offset of local wall-clock seconds (unambiguous in office hours)."""
    return 3600 + 3600 * (np.searchsorted(_DST_LOCAL, t, side="right") & 1)


def _local_midnight_utc(d: dt.date) -> int:
    local = _epoch(dt.datetime(d.year, d.month, d.day))
    return int(local - _offset_of_local(np.array([local]))[0])


def _weekday(day: np.ndarray) -> np.ndarray:
    return (day + 3) % 7  # 1970-01-01 was a Thursday


def _next_day(cal: _Calendar) -> np.ndarray:
    """Days to add to a weekday (Mon=0) to reach the next working day."""
    return np.array([1 if wd + 1 < cal.days else 7 - wd for wd in range(7)], dtype=np.int64)


def _next_open(local: np.ndarray, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """(moment, moved): ``local`` if in working time, else the next opening time."""
    day = local // _D
    tod = local - day * _D
    wd = _weekday(day)
    workday = wd < cal.days
    inside = workday & (tod >= cal.open) & (tod < cal.close)
    same_day = workday & (tod < cal.open)
    days = np.where(same_day, 0, _next_day(cal)[wd])
    return np.where(inside, local, (day + days) * _D + cal.open), ~inside


def _add_working_time(local: np.ndarray, work: np.ndarray, cal: _Calendar) -> np.ndarray:
    """``local`` (inside working time) plus ``work`` seconds of working time."""
    out = local.copy()
    idx = np.arange(local.size)
    cur, rem = local, work.astype(np.int64)
    step = _next_day(cal)
    while idx.size:
        day = cur // _D
        avail = cal.close - (cur - day * _D)
        fits = rem <= avail
        out[idx[fits]] = cur[fits] + rem[fits]
        spill = ~fits
        idx, day, rem = idx[spill], day[spill], rem[spill] - avail[spill]
        cur = (day + step[_weekday(day)]) * _D + cal.open
    return out


# -------------------------------------------------------------------- case paths


class _Builder:
    """Collects the possible event columns of one process for ``n`` cases."""

    def __init__(self, spec: _Spec, n: int, rng: np.random.Generator) -> None:
        self.spec, self.n, self.rng = spec, n, rng
        self._acts = spec.act_index
        self._pools = {p: i for i, p in enumerate(spec.pools)}
        self.cols: list[dict[str, Any]] = []
        self.attrs: dict[str, tuple[np.ndarray, Sequence[str] | None]] = {}
        self.primary: dict[str, np.ndarray] = {}  # pool -> per-case resource index
        self.case_numbers: np.ndarray | None = None

    def pool(self, name: str) -> int:
        return self._pools[name]

    def add(
        self,
        activity: str,
        mask: np.ndarray | bool = True,
        *,
        pool: str | np.ndarray | None = None,
        alt: np.ndarray | bool = False,
        wait: np.ndarray | float = 1.0,
        proc: np.ndarray | float = 1.0,
    ) -> int:
        act = self._acts[activity]
        if pool is None:
            pool = self.spec.acts[act].pool
        self.cols.append(
            {
                "act": act,
                "mask": mask,
                "key": float(len(self.cols)),
                "pool": self._pools[pool] if isinstance(pool, str) else pool,
                "alt": alt,
                "wait": wait,
                "proc": proc,
            }
        )
        return len(self.cols) - 1

    def interleave(self, col: int, among: Sequence[int], weights: Sequence[float]) -> None:
        """Place ``col`` before ``among[i]`` (or after the last) with the given weights."""
        w = np.asarray(weights, dtype=float)
        slot = self.rng.choice(len(w), size=self.n, p=w / w.sum())
        slots = np.array([self.cols[c]["key"] - 0.5 for c in among] + [self.cols[among[-1]]["key"] + 0.5])
        self.cols[col]["key"] = slots[slot]

    def swap(self, a: int, b: int, rows: np.ndarray) -> None:
        """Exchange the order of columns ``a`` and ``b`` in the selected cases."""
        ka = np.broadcast_to(np.asarray(self.cols[a]["key"], dtype=float), (self.n,)).copy()
        kb = np.broadcast_to(np.asarray(self.cols[b]["key"], dtype=float), (self.n,)).copy()
        ka[rows], kb[rows] = kb[rows], ka[rows].copy()
        self.cols[a]["key"], self.cols[b]["key"] = ka, kb

    def categorical(self, name: str, labels: Sequence[str], p: Sequence[float]) -> np.ndarray:
        w = np.asarray(p, dtype=float)
        codes = self.rng.choice(len(labels), size=self.n, p=w / w.sum()).astype(np.int16)
        self.attrs[name] = (codes, tuple(labels))
        return codes

    def money(self, name: str, cents: np.ndarray) -> None:
        self.attrs[name] = (cents.astype(np.int64), None)

    def chance(self, p: np.ndarray | float) -> np.ndarray:
        return self.rng.random(self.n) < p


def _build_service_desk(b: _Builder, after: np.ndarray) -> None:
    n, rng = b.n, b.rng
    rw = np.where(after, _REWORK_FACTOR, 1.0)
    prio = b.categorical("priority", ("P1", "P2", "P3", "P4"), (0.05, 0.15, 0.5, 0.3))
    chan = b.categorical("channel", ("Email", "Phone", "Portal", "Chat"), (0.35, 0.25, 0.3, 0.1))
    cat = b.categorical("category", ("Software", "Hardware", "Access", "Network"), (0.4, 0.25, 0.2, 0.15))
    # The responsible 2nd-line group follows the category.
    group = np.select(
        [cat == 0, cat == 1, cat == 2],
        [np.where(rng.random(n) < 0.75, 0, 4), 1, 2],
        3,
    )
    b.primary["groups"] = group
    queue = np.array([0.15, 0.5, 1.0, 1.5])[prio]  # priority drives the 2nd-line queue

    portal = chan == 2
    b.add(
        "Ticket created",
        pool=np.where(portal, b.pool("portal"), b.pool("agents")),
        proc=np.where(portal, 0.01, 1.0),
    )
    ack = b.add("Send acknowledgement")
    skip_triage = b.chance(0.03)  # deviation: skipped triage
    triage = b.add("Triage", ~skip_triage)
    b.interleave(ack, [triage], (0.85, 0.15))
    unsolicited = b.chance(0.02)  # deviation: a reply nobody asked for
    b.add("Customer replied", unsolicited)

    first_line = b.chance(np.where(cat == 2, 0.5, 0.3))
    esc = ~first_line
    assign = b.add("Assign to group", esc)
    b.swap(triage, assign, esc & ~skip_triage & b.chance(0.02))  # deviation: assigned before triage

    # Wrong group first (misroute) or ping-pong A -> B -> A between two groups.
    wrong = esc & b.chance(0.08 * rw)
    ping = wrong & b.chance(0.5)
    misroute = wrong & ~ping
    b.add("Investigate", esc, alt=misroute, wait=queue)
    b.add("Assign to group", wrong, pool="groups", alt=misroute)
    b.add("Investigate", wrong, alt=ping, wait=queue)
    b.add("Assign to group", ping, pool="groups", alt=True)
    b.add("Investigate", ping, wait=queue)

    # Documented loop: ask the customer for information, then investigate again.
    u = rng.random(n)
    info = (u < 0.15 * rw).astype(np.int8) + (u < 0.03 * rw)
    for r in range(2):
        m = esc & (info > r)
        b.add("Request customer info", m)
        b.add("Customer replied", m)
        b.add("Investigate", m, wait=0.15)

    skip_resolve = b.chance(0.01)  # deviation: closed without a resolution
    b.add("Resolve", first_line & ~skip_resolve, pool="agents")
    b.add("Resolve", esc & ~skip_resolve)

    reopen = b.chance(0.07 * rw)  # rework, not in the documented model
    b.add("Reopen", reopen)
    b.add("Assign to group", reopen & first_line)
    b.add("Investigate", reopen, wait=0.3 * queue)
    b.add("Resolve", reopen)
    b.add("Close")


def _build_order_to_cash(b: _Builder, after: np.ndarray) -> None:
    n, rng = b.n, b.rng
    rw = np.where(after, _REWORK_FACTOR, 1.0)
    chan = b.categorical("channel", ("Webshop", "Marketplace", "Phone"), (0.7, 0.2, 0.1))
    region = b.categorical("region", ("NL", "BE", "DE"), (0.6, 0.2, 0.2))
    cents = np.rint(np.exp(np.log(7500) + 0.9 * rng.standard_normal(n)) * np.where(chan == 2, 3.0, 1.0))
    cents = np.maximum(cents, 495)
    b.money("amount", cents)
    carrier_p = np.array([[0.8, 0.15, 0.05, 0.0], [0.2, 0.1, 0.2, 0.5], [0.0, 0.7, 0.3, 0.0]])
    cum = carrier_p.cumsum(axis=1)[region]
    b.primary["carriers"] = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 3)

    phone = chan == 2
    system = ~phone
    b.add(
        "Order placed",
        pool=np.select([chan == 0, chan == 1], [b.pool("webshop"), b.pool("marketplace")], b.pool("sales")),
        proc=np.where(system, 0.02, 1.0),
    )
    credit = phone | (cents > 100_000)
    skip_credit = credit & b.chance(0.03)  # deviation: large order without a credit check
    b.add("Credit check", credit & ~skip_credit)
    cancel = b.chance(np.where(credit, 0.12, 0.02))
    b.add("Cancel order", cancel)
    go = ~cancel
    # Card payments are confirmed within minutes by the provider, bank transfers take days.
    b.add("Payment received", go & system, pool="psp", proc=0.02)
    pay_bank = b.add("Payment received", go & phone, pool="finance", wait=1700.0)
    b.add("Credit check", go & ~credit & b.chance(0.015))  # deviation: late credit check

    pick = b.add("Pick items", go)
    skip_pack = b.chance(0.015)  # deviation: shipped without the packing step
    pack = b.add("Pack", go & ~skip_pack)
    repack = go & b.chance(0.10 * rw)  # rework: damaged / wrong box
    b.add("Re-pack", repack)
    b.add("Re-pack", repack & b.chance(0.15))
    # Rework with ping-pong: the carrier rejects the label, customer service corrects
    # the address, the same shipping clerk ships again.
    readdress = go & b.chance(0.06 * rw)
    ship1 = b.add("Ship", readdress)
    b.add("Correct address", readdress)
    ship = b.add("Ship", go)
    deliver = b.add("Deliver", go)
    invoice = b.add("Invoice", go)
    b.interleave(invoice, [pick, pack, ship1, ship, deliver], (0.6, 0.2, 0.0, 0.1, 0.05, 0.05))
    early = phone & go & b.chance(0.3)  # deviation: invoice before the bank transfer
    b.swap(invoice, pay_bank, early)

    ret = go & b.chance(0.07)
    b.add("Return requested", ret)
    b.add("Refund", ret)


def _build_purchase_to_pay(b: _Builder, after: np.ndarray) -> None:
    n, rng = b.n, b.rng
    rw = np.where(after, _REWORK_FACTOR, 1.0)
    # Items of one purchase order share the order number, vendor, plant and arrival.
    po = b.case_numbers
    assert po is not None
    first = np.ones(n, dtype=bool)
    first[1:] = po[1:] != po[:-1]
    head = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    zipf = 1.0 / np.arange(1, len(_VENDORS) + 1) ** 0.9
    vendor = b.categorical("vendor", _VENDORS, zipf)[head]
    plant = b.categorical("plant", _PLANTS, (0.5, 0.3, 0.2))[head]
    b.attrs["vendor"] = (vendor, _VENDORS)
    b.attrs["plant"] = (plant, _PLANTS)
    cents = np.rint(np.exp(np.log(90_000) + 1.2 * rng.standard_normal(n))).clip(1_000, 25_000_000)
    b.money("amount", cents)
    b.primary["requesters"] = rng.integers(0, len(b.spec.pools["requesters"].names), n)[head]
    b.primary["buyers"] = (vendor % 4).astype(np.int64)  # buyers own vendor portfolios
    b.primary["receiving"] = np.array([0, 2, 4])[plant] + ((rng.random(n) < 0.5) & (plant < 2))
    lead = np.linspace(0.7, 1.6, len(_VENDORS))[(vendor * 5) % len(_VENDORS)]
    sloppy = np.linspace(0.5, 1.8, len(_VENDORS))[(vendor * 7) % len(_VENDORS)]

    b.add("Create purchase requisition")
    skip_req = b.chance(0.03)  # deviation: requisition never approved
    appr_req = b.add("Approve requisition", ~skip_req)
    select = b.add("Select vendor")
    b.interleave(select, [appr_req], (0.35, 0.65))
    create_po = b.add("Create purchase order")
    b.swap(appr_req, create_po, ~skip_req & b.chance(0.03))  # deviation: PO before approval
    skip_po = b.chance(np.where(cents < 20_000, 0.15, 0.03))  # deviation: unapproved PO
    b.add("Approve purchase order", ~skip_po)
    change = b.chance(0.04 * rw)  # rework: the PO is changed and approved again
    b.add("Change purchase order", change)
    b.add("Approve purchase order", change)
    goods = b.add("Receive goods", wait=lead)
    inv = b.add("Receive invoice")
    b.swap(goods, inv, b.chance(0.08))  # deviation: invoice before goods receipt
    b.add("Three-way match")
    # Rework with ping-pong between accounts payable and the buyer.
    u = rng.random(n)
    p = 0.15 * sloppy * rw
    diff = (u < p).astype(np.int8) + (u < 0.3 * p)
    for r in range(2):
        b.add("Resolve price difference", diff > r)
        b.add("Three-way match", diff > r, wait=0.5)
    b.add("Pay invoice")


_BUILDERS = {
    "service_desk": _build_service_desk,
    "order_to_cash": _build_order_to_cash,
    "purchase_to_pay": _build_purchase_to_pay,
}


# ------------------------------------------------------------------- simulation


@dataclass
class _Cases:
    """Everything about ``n`` cases except timestamps."""

    n: int
    arrival: np.ndarray  # int64 UTC seconds, ascending
    number: np.ndarray  # int64 case number (ascending with arrival)
    item: np.ndarray | None  # purchase-order item number (P2P only)
    lens: np.ndarray  # events per case
    act: np.ndarray  # per event (case-major), int16
    pool: np.ndarray  # per event, int16
    alt: np.ndarray  # per event, bool
    wait: np.ndarray  # per event wait multiplier, float32
    proc: np.ndarray  # per event processing multiplier, float32
    attrs: dict[str, tuple[np.ndarray, Sequence[str] | None]]
    primary: dict[str, np.ndarray]
    rng: np.random.Generator


def _arrivals(spec: _Spec, m: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted local (wall-clock) arrival seconds: weekdays, mostly office hours."""
    first = (WINDOW[0] - dt.date(1970, 1, 1)).days
    ndays = (WINDOW[1] - WINDOW[0]).days
    days = np.arange(first, first + ndays)
    w = np.where(_weekday(days) < 5, 1.0, spec.arrivals.weekend_weight)
    day = days[np.searchsorted(np.cumsum(w) / w.sum(), rng.random(m), side="right").clip(0, ndays - 1)]
    office = rng.random(m) < spec.arrivals.office_share
    tod = np.where(office, _OPEN + (_CLOSE - _OPEN) * rng.beta(2.0, 2.6, m), _D * rng.random(m))
    return np.sort(day * _D + tod.astype(np.int64))


def _cases(process: str, n: int, seed: int, change: bool) -> _Cases:
    spec = _spec(process)
    # ``change`` is not part of the seed: with and without the change, the same
    # seed gives the same cases, which differ only from the change date on.
    ss = np.random.SeedSequence([seed & 0xFFFFFFFF, PROCESSES.index(process), n])
    rng = np.random.default_rng(ss)
    if process == "purchase_to_pay":
        # Cases are purchase-order items: 4500001234-00010, -00020, ... share an order.
        sizes = rng.choice(np.array([1, 2, 3, 4]), size=n, p=(0.6, 0.25, 0.1, 0.05))
        groups = np.repeat(np.arange(n), sizes)[:n]
        starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
        within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        item: np.ndarray | None = (within + 1) * 10
        number = spec.case_first + 1234 + groups
        local = _arrivals(spec, int(groups[-1]) + 1, rng)[groups]
        local = np.maximum.accumulate(local + within * rng.integers(30, 240, n))
    else:
        item = None
        number = spec.case_first + np.arange(n, dtype=np.int64)
        local = _arrivals(spec, n, rng)
    arrival = local - _offset_of_local(local)
    after = arrival >= _local_midnight_utc(CHANGE_DATES[process]) if change else np.zeros(n, dtype=bool)

    b = _Builder(spec, n, rng)
    b.case_numbers = number
    _BUILDERS[process](b, after)

    ncol = len(b.cols)
    keys = np.empty((n, ncol), dtype=np.float32)
    acts = np.empty((n, ncol), dtype=np.int16)
    for j, c in enumerate(b.cols):
        mask = np.broadcast_to(np.asarray(c["mask"], dtype=bool), (n,))
        keys[:, j] = np.where(mask, c["key"], np.inf)
        acts[:, j] = np.where(mask, c["act"], -1)
    order = np.argsort(keys, axis=1, kind="stable")
    del keys
    col = order.astype(np.int16)
    del order
    acts = np.take_along_axis(acts, col.astype(np.intp), axis=1)
    valid = acts >= 0
    lens = valid.sum(axis=1)
    ev_case = np.repeat(np.arange(n), lens)
    ev_col = col[valid]
    ev_act = acts[valid]
    del acts, col, valid

    def per_event(field: str, dtype: Any) -> np.ndarray:
        values = [c[field] for c in b.cols]
        if all(np.ndim(v) == 0 for v in values):
            return np.asarray(values, dtype=dtype)[ev_col]
        out = np.empty(ev_col.size, dtype=dtype)
        for j, v in enumerate(values):
            sel = np.flatnonzero(ev_col == j)
            out[sel] = v if np.ndim(v) == 0 else np.asarray(v)[ev_case[sel]]
        return out

    return _Cases(
        n=n,
        arrival=arrival,
        number=number.astype(np.int64),
        item=item,
        lens=lens,
        act=ev_act,
        pool=per_event("pool", np.int16),
        alt=per_event("alt", bool),
        wait=per_event("wait", np.float32),
        proc=per_event("proc", np.float32),
        attrs=b.attrs,
        primary=b.primary,
        rng=rng,
    )


def _plan(process: str, cases: int | None, events: int | None, seed: int, change: bool) -> _Cases:
    if cases is not None and events is not None:
        raise ValueError("give either cases or events, not both")
    if cases is None and events is None:
        cases = DEFAULT_CASES
    if cases is not None:
        if int(cases) < 1:
            raise ValueError("cases must be at least 1")
        return _cases(process, int(cases), seed, change)
    assert events is not None
    target = int(events)
    if target < 50:
        raise ValueError("events must be at least 50")
    pilot = _cases(process, 4000, seed, change)
    n = max(1, round(target / pilot.act.size * pilot.n))
    best: _Cases | None = None
    tried: set[int] = set()
    for _ in range(12):
        tried.add(n)
        c = _cases(process, n, seed, change)
        if best is None or abs(c.act.size - target) < abs(best.act.size - target):
            best = c
        if abs(c.act.size - target) <= 0.01 * target:
            break
        step = round(n * (target / c.act.size - 1))
        n = max(1, n + (step if step else (1 if c.act.size < target else -1)))
        if n in tried:
            break
    assert best is not None
    return best


@dataclass
class _Events:
    case: np.ndarray
    act: np.ndarray
    res: np.ndarray
    start: np.ndarray  # UTC seconds
    complete: np.ndarray  # UTC seconds
    cents: np.ndarray


def _simulate(process: str, c: _Cases, change: bool) -> tuple[_Events, list[str]]:
    spec = _spec(process)
    rng = c.rng
    pools = list(spec.pools.values())
    pool_keys = list(spec.pools)
    npool = len(pools)

    # Resources: fixed per process (speed, workload share), seeded by the process only.
    fixed = np.random.default_rng(20250101 + PROCESSES.index(process))
    res_names: list[str] = []
    res_offset = np.zeros(npool, dtype=np.int64)
    res_speed: list[np.ndarray] = []
    res_share: list[np.ndarray] = []
    for p, pool in enumerate(pools):
        res_offset[p] = len(res_names)
        res_names.extend(pool.names)
        k = len(pool.names)
        speed = np.exp(0.25 * fixed.standard_normal(k)) if pool.calendar else np.ones(k)
        res_speed.append(speed)
        res_share.append(fixed.dirichlet(np.full(k, 6.0)))
    speed_all = np.concatenate(res_speed)
    rate_all = np.concatenate([np.full(len(p.names), p.rate) for p in pools])
    # Calendar per pool: index into _CALENDAR_NAMES, -1 for around the clock.
    pool_cal = np.array([_CALENDAR_NAMES.index(p.calendar) if p.calendar else -1 for p in pools])

    # The case's usual resource per pool, and an alternative one (hand-offs).
    n = c.n
    usual = np.empty((npool, n), dtype=np.int64)
    other = np.empty((npool, n), dtype=np.int64)
    for p, pool in enumerate(pools):
        k = len(pool.names)
        cum = np.cumsum(res_share[p])
        draw = np.searchsorted(cum, rng.random(n) * cum[-1], side="right").clip(0, k - 1)
        if pool_keys[p] in c.primary:
            draw = np.asarray(c.primary[pool_keys[p]], dtype=np.int64)
        usual[p] = draw
        other[p] = (draw + 1 + rng.integers(0, max(k - 1, 1), n)) % k if k > 1 else draw

    E = c.act.size
    case = np.repeat(np.arange(n), c.lens)
    pool = c.pool.astype(np.intp)
    sticky = np.array([p.sticky for p in pools])[pool]
    any_draw = np.empty(E, dtype=np.int64)
    sizes = np.array([len(p.names) for p in pools])
    cum_all = [np.cumsum(s) for s in res_share]
    u = rng.random(E)
    for p in range(npool):
        sel = np.flatnonzero(pool == p)
        any_draw[sel] = np.searchsorted(cum_all[p], u[sel] * cum_all[p][-1], side="right").clip(
            0, sizes[p] - 1
        )
    keep = (rng.random(E) < sticky) | c.alt
    local_res = np.where(keep, np.where(c.alt, other[pool, case], usual[pool, case]), any_draw)
    res = (res_offset[pool] + local_res).astype(np.int32)
    del any_draw, local_res, keep, sticky

    # Waiting and processing times.
    act = c.act.astype(np.intp)
    wmed = np.array([a.wait[0] for a in spec.acts], dtype=float)
    wsig = np.array([a.wait[1] for a in spec.acts], dtype=float)
    pmed = np.array([a.proc[0] for a in spec.acts], dtype=float)
    psig = np.array([a.proc[1] for a in spec.acts], dtype=float)
    with np.errstate(divide="ignore"):
        wlog = np.log(wmed)
    wait = np.exp(wlog[act] + wsig[act] * rng.standard_normal(E)) * c.wait
    proc = np.exp(np.log(pmed)[act] + psig[act] * rng.standard_normal(E)) * c.proc * speed_all[res]
    proc = np.maximum(np.rint(proc), 1).astype(np.int64)
    u = rng.random(E)
    cal = np.where(u >= _OFF_HOURS_SHARE, pool_cal[pool], -1).astype(np.int8)
    # Work that piled up outside working time is worked off during the next working
    # day, more of it in the morning: start at opening + (0..90 % of the day) x v^1.5.
    jitter = (0.9 * ((u - _OFF_HOURS_SHARE).clip(0) / (1 - _OFF_HOURS_SHARE)) ** 1.5).astype(np.float32)
    bottleneck = np.zeros(len(spec.acts), dtype=bool)
    bottleneck[spec.act_index[BOTTLENECKS[process]]] = True
    change_at = _local_midnight_utc(CHANGE_DATES[process]) if change else None

    start = np.empty(E, dtype=np.int64)
    complete = np.empty(E, dtype=np.int64)
    first = np.cumsum(c.lens) - c.lens
    for k in range(int(c.lens.max(initial=0))):
        cs = np.flatnonzero(c.lens > k)
        ev = first[cs] + k
        prev = c.arrival[cs] if k == 0 else complete[ev - 1]
        w = wait[ev]
        if change_at is not None:
            w = np.where(bottleneck[act[ev]] & (prev >= change_at), w * _BOTTLENECK_FACTOR, w)
        ready = prev + w.astype(np.int64)
        s = ready.copy()
        e = ready + proc[ev]
        cal_k = cal[ev]
        for ci, name in enumerate(_CALENDAR_NAMES):
            o = np.flatnonzero(cal_k == ci)
            if not o.size:
                continue
            calendar = _CALENDARS[name]
            oe = ev[o]
            local = ready[o] + _offset_of_utc(ready[o])
            opened, moved = _next_open(local, calendar)
            delay = (jitter[oe] * (calendar.close - calendar.open)).astype(np.int64)
            opened, _ = _next_open(opened + np.where(moved, delay, 0), calendar)
            done = _add_working_time(opened, proc[oe], calendar)
            s[o] = opened - _offset_of_local(opened)
            e[o] = done - _offset_of_local(done)
        start[ev] = np.maximum(s, prev)
        complete[ev] = np.maximum(e, start[ev] + 1)

    cents = np.rint(rate_all[res] * proc / 36.0).astype(np.int64)
    return _Events(case=case, act=c.act, res=res, start=start, complete=complete, cents=cents), res_names


# ---------------------------------------------------------------------- tables


def _frame(process: str, cases: int | None, events: int | None, seed: int, change: bool) -> pl.DataFrame:
    import polars as pl

    spec = _spec(process)
    c = _plan(process, cases, events, seed, bool(change))
    ev, res_names = _simulate(process, c, bool(change))

    pos = np.arange(ev.case.size) - np.repeat(np.cumsum(c.lens) - c.lens, c.lens)
    order = np.lexsort((pos, ev.case, ev.complete))
    del pos
    case = ev.case[order]

    def stamp(t: np.ndarray) -> pl.Series:
        off = _offset_of_utc(t)
        text = pl.from_epoch(pl.Series(t + off), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S")
        return pl.select(
            pl.concat_str(
                [
                    pl.lit(text),
                    pl.when(pl.lit(off == 7200)).then(pl.lit("+02:00")).otherwise(pl.lit("+01:00")),
                ]
            )
        ).to_series()

    def money(cents: np.ndarray) -> pl.Series:
        s = pl.Series(cents)
        return pl.select(
            pl.concat_str(
                [
                    (pl.lit(s) // 100).cast(pl.String),
                    pl.lit("."),
                    (pl.lit(s) % 100).cast(pl.String).str.zfill(2),
                ]
            )
        ).to_series()

    def labels(codes: np.ndarray, names: Sequence[str]) -> pl.Series:
        return pl.Series(list(names), dtype=pl.String).gather(pl.Series(codes.astype(np.uint32)))

    width = max(spec.case_width, len(str(int(c.number.max(initial=0)))))
    num = pl.Series(c.number).cast(pl.String).str.zfill(width)
    if c.item is not None:
        ids = pl.select(
            pl.concat_str([pl.lit(num), pl.lit("-"), pl.lit(pl.Series(c.item).cast(pl.String).str.zfill(5))])
        )
    else:
        ids = pl.select(pl.concat_str([pl.lit(spec.case_prefix), pl.lit(num)]))
    case_ids = ids.to_series()

    cols: dict[str, pl.Series] = {
        "case_id": case_ids.gather(pl.Series(case.astype(np.uint32))),
        "activity": labels(ev.act[order], activities(process)),
        "start_timestamp": stamp(ev.start[order]),
        "timestamp": stamp(ev.complete[order]),
        "resource": labels(ev.res[order], res_names),
        "cost": money(ev.cents[order]),
    }
    for name in ATTRIBUTES[process]:
        values, names = c.attrs[name]
        per_event = values[case]
        cols[name] = money(per_event) if names is None else labels(per_event, names)
    return pl.DataFrame({k: v.alias(k) for k, v in cols.items()})


def generate(
    process: str,
    *,
    cases: int | None = None,
    events: int | None = None,
    seed: int = 0,
    change: bool = True,
) -> pa.Table:
    """Generate an event log as a ``pyarrow.Table`` of string columns.

    Give ``cases`` (a number of cases) or ``events`` (an approximate number of
    events; the result is within 1-2 % of it for any realistic size), not both;
    with neither, :data:`DEFAULT_CASES` cases.  The same arguments always give
    the same table.  Columns: :data:`COLUMNS` followed by ``ATTRIBUTES[process]``.
    """
    import pyarrow as pa

    table = _frame(process, cases, events, seed, change).to_arrow()
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def _format_of(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"cannot tell the format of {str(path)!r}: use a .csv or .parquet suffix, or fmt=")
    return fmt


def write_log(
    process: str,
    path: str | Path,
    *,
    cases: int | None = None,
    events: int | None = None,
    seed: int = 0,
    change: bool = True,
    fmt: str | None = None,
) -> Path:
    """Generate a log and write it as CSV or Parquet (by suffix, or ``fmt``).

    Both formats hold text only, so they load identically.  Returns the path.
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    frame = _frame(process, cases, events, seed, change)
    if fmt == "csv":
        frame.write_csv(path, include_header=True, line_terminator="\n", quote_style="necessary")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        del frame
        table = table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))
        pq.write_table(table, path, compression="zstd")
    return path
