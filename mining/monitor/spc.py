"""Statistical process control: I-MR and p control charts, Nelson rules, capability against an SLA.

Pure arithmetic over a series of per-period values (one KPI value per week,
say); no SQL and no store.  Points are numbered from 0, as in ``index``.

Charts
------
* **I-MR.**  The individuals (I) chart has its center at the mean of the
  baseline values and limits at ``center ± E2 · MR̄``, where ``MR̄`` is the
  average moving range (``|x_i - x_{i-1}|``) of the baseline and
  ``E2 = 3 / d2 = 3 / 1.128 = 2.6596`` (textbooks round it to 2.66; the
  unrounded constant keeps the limits exactly at 3 sigma with ``sigma = MR̄ / 1.128``,
  so "beyond a limit" and rule 1 always agree).  The moving-range (MR) chart
  has its center at ``MR̄``, ``UCL = 3.267 · MR̄`` (D4) and ``LCL = 0``; only
  rule 1 (a range above the UCL) is applied to it, because moving ranges are
  neither symmetric nor independent.
* **p.**  The share of defective units per period: ``p̄ = Σd / Σn`` over the
  baseline, and per point ``sigma_i = sqrt(p̄(1 - p̄) / n_i)`` with limits
  ``p̄ ± 3 sigma_i`` clipped to [0, 1].  Periods with ``n = 0`` have no value and
  no limits (``None``).

* **u.**  Events per unit of exposure (cases per working day): ``ū = Σc / Σn``
  over the baseline, and per point ``sigma_i = sqrt(ū / n_i)``; a holiday week
  has fewer working days, hence wider limits around the same rate.

``baseline`` is the number of leading points that set the limits (phase I);
the points after it are judged against those limits (phase II).  Instead,
``phases`` split the series into consecutive :class:`Phase` spans, each judged
against the limits that its own chosen points set (the periods before and
after a process change); runs and the CUSUM restart at each phase.  Rules run
over every point of a phase from its first baseline point on.  Points before
it are drawn against the phase's limits but not judged: limits set by later
periods say nothing about what was usual then (Road Traffic Fines' thin last
half-year would otherwise flag nearly every week of the twelve years before).
Missing points (``None`` or NaN: an empty period) are left
out of the limits and of the rules — a run passes over them — but keep their
index, so ``index`` always refers to the caller's series.  A moving range
spans consecutive *present* points.

Laney's correction (``laney=True`` for p- and u-charts): real counts vary more
between periods than the binomial or Poisson model allows (overdispersion), so
with hundreds of cases a period a classical p-chart flags almost every point.
The standardised values ``z_i = (x_i - center) / sigma_i`` of the baseline give
``sigma_z = MR̄(z) / 1.128``, and every ``sigma_i`` is multiplied by it; it is
never taken below 1 (the model's own variation is the least there can be).

CUSUM
-----
:func:`cusum` accumulates the standardised deviations of a chart's points from
their center, ``C+_i = max(0, C+_{i-1} + z_i - k)`` and
``C-_i = max(0, C-_{i-1} - z_i - k)`` with ``k = 0.5`` and decision interval
``h = 5`` (in sigma): about 465 points pass between false signals of an
in-control process, and a sustained shift of one sigma is signalled after
about 10 points, of two sigma after about 4, where rule 1 needs about 44 and 6.
After a signal both sums restart from 0.

Rules
-----
The eight Nelson rules, with zones measured in sigma from the center line::

    1  one point beyond 3 sigma (outside the control limits)
    2  nine points in a row on the same side of the center line
    3  six points in a row steadily increasing, or decreasing
       (six points, i.e. five increases in a row; a tie breaks the run)
    4  fourteen points in a row alternating up and down (thirteen changes)
    5  two of three points in a row beyond 2 sigma on the same side
    6  four of five points in a row beyond 1 sigma on the same side
    7  fifteen points in a row within 1 sigma of the center line (either side)
    8  eight points in a row beyond 1 sigma, on either side (Minitab's reading;
       Nelson's text also asks for points on both sides, which we do not)

The Western Electric rules are a subset (:data:`WESTERN_ELECTRIC` maps them):
WE 1 = Nelson 1, WE 2 = Nelson 5, WE 3 = Nelson 6, and WE 4 ("eight in a
row on one side") is Nelson 2 with eight points instead of nine.

"Beyond" and "within" are strict: a point on a zone line (to 1e-9 sigma) is
neither, and a point on the center line belongs to no side.  A signal is
reported at the point that completes its pattern.  A run is reported once,
where it first reaches the rule's length; while it goes on (a tenth point on
the same side) nothing new is reported, and a new signal needs the run to break
first.  For rules 5 and 6 a run is a chain of windows that satisfy the rule,
each overlapping the one before (2.5, 1.5, 2.5, 1.5, 2.5 sigma is one run of rule
5); for rule 1 each point beyond the limits is its own signal.

When the baseline has no variation (``MR̄ = 0``, or ``p̄`` of 0 or 1) there
is no sigma: the limits coincide with the center line and the zone rules (1, 5,
6, 7, 8) are not applied; rules 2, 3 and 4, which only compare points with
the center line and with each other, still are.  The chart's ``note`` says so.

Capability
----------
:func:`capability` compares values (such as case cycle times) with an SLA.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from mining.errors import MonitorError

__all__ = [
    "CUSUM_H",
    "CUSUM_K",
    "D2",
    "D4",
    "E2",
    "NELSON_RULES",
    "RULE_NAMES",
    "WESTERN_ELECTRIC",
    "Capability",
    "ControlChart",
    "Cusum",
    "Phase",
    "ShiftSignal",
    "Signal",
    "capability",
    "cusum",
    "imr_chart",
    "p_chart",
    "u_chart",
]

#: d2 for moving ranges of two points: sigma = MR̄ / d2.
D2 = 1.128
#: Limits of the individuals chart: center ± E2 · MR̄ (3 sigma).
E2 = 3 / D2
#: Upper limit of the moving-range chart: D4 · MR̄.
D4 = 3.267
NELSON_RULES = (1, 2, 3, 4, 5, 6, 7, 8)
#: Western Electric rule number -> the Nelson rule that tests it (WE 4 uses 8 points, Nelson 2 uses 9).
WESTERN_ELECTRIC = {1: 1, 2: 5, 3: 6, 4: 2}
RULE_NAMES = {
    1: "1 point beyond 3 sigma",
    2: "9 points in a row on one side of the center line",
    3: "6 points in a row steadily increasing or decreasing",
    4: "14 points in a row alternating up and down",
    5: "2 of 3 points beyond 2 sigma on one side",
    6: "4 of 5 points beyond 1 sigma on one side",
    7: "15 points in a row within 1 sigma",
    8: "8 points in a row beyond 1 sigma on either side",
}
#: CUSUM reference value and decision interval, in sigma.
CUSUM_K = 0.5
CUSUM_H = 5.0
_EPS = 1e-9  # in sigma: a point this close to a zone line is on it


@dataclass(frozen=True)
class Signal:
    """One firing of a rule: ``index`` completes the pattern formed by ``points``."""

    rule: int
    name: str
    index: int
    points: tuple[int, ...]
    description: str


@dataclass(frozen=True)
class Phase:
    """Points ``start`` to ``stop - 1``, judged against the limits that the points in ``baseline`` set.

    ``baseline`` holds indices of the whole series; they need not lie inside
    the phase (a new phase may be judged against the one before it).
    """

    start: int
    stop: int
    baseline: tuple[int, ...]
    label: str = ""


@dataclass(frozen=True)
class ControlChart:
    """A control chart: values, centers, per-point limits and the rules that fired.

    ``centers``/``ucl``/``lcl``/``sigma`` have one entry per point; limits are
    ``None`` only at a p- or u-chart period with no units.  ``center`` is the
    center of the last phase (the one the newest points are judged in).
    ``sigma`` is ``None`` for a phase whose baseline has no variation.
    ``labels`` is empty when none were given.
    """

    kind: str  # "I", "MR", "p" or "u"
    values: tuple[float | None, ...]
    center: float
    ucl: tuple[float | None, ...]
    lcl: tuple[float | None, ...]
    signals: tuple[Signal, ...]
    note: str
    baseline: int
    sigma: tuple[float | None, ...]
    labels: tuple[str, ...] = ()
    centers: tuple[float, ...] = ()
    phases: tuple[Phase, ...] = ()

    def fired(self, rule: int) -> tuple[int, ...]:
        """Indices where ``rule`` fired, in order."""
        return tuple(s.index for s in self.signals if s.rule == rule)

    def center_at(self, index: int) -> float:
        """The center line that point ``index`` is judged against."""
        return self.centers[index] if self.centers else self.center


@dataclass(frozen=True)
class ShiftSignal:
    """A CUSUM signal: the sum reached ``h`` at ``index``, accumulating since ``since``."""

    index: int
    since: int
    direction: str  # "up" or "down"
    statistic: float  # the sum at the signal, in sigma
    description: str


@dataclass(frozen=True)
class Cusum:
    """The upper and lower CUSUM of a chart's points, in sigma; ``None`` where a point is missing."""

    upper: tuple[float | None, ...]
    lower: tuple[float | None, ...]
    k: float
    h: float
    signals: tuple[ShiftSignal, ...]
    note: str

    def fired(self) -> tuple[int, ...]:
        return tuple(s.index for s in self.signals)


@dataclass(frozen=True)
class Capability:
    """How well values meet a specification (an SLA): indices, sigma levels and the observed defect rate.

    ``cp``/``pp`` need both limits; any index is ``None`` when its sigma is 0.
    ``sigma_level`` = 3 · Cpk (short-term, no 1.5 shift).  ``process_sigma`` is
    the long-term "Six Sigma table" figure: the normal quantile of the
    observed in-spec share plus 1.5 (``None`` with no defects or no value in
    spec).  ``expected_ppm`` is the normal model's out-of-spec parts per
    million with the overall sigma; ``defect_rate`` (``defects / n``) is the
    observed, model-free figure.
    """

    n: int
    mean: float
    sigma_within: float
    sigma_overall: float
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    sigma_level: float | None
    defect_rate: float
    note: str
    usl: float | None = None
    lsl: float | None = None
    defects: int = 0
    expected_ppm: float | None = None
    process_sigma: float | None = None


# -- charts -----------------------------------------------------------------


def imr_chart(
    values: Sequence[float | None],
    *,
    baseline: int | None = None,
    phases: Sequence[Phase] | None = None,
    labels: Sequence[str] | None = None,
    rules: Collection[int] = NELSON_RULES,
    fmt: Callable[[float], str] | None = None,
) -> tuple[ControlChart, ControlChart]:
    """The individuals chart and the moving-range chart of ``values``.

    ``baseline`` is the number of leading points that set the limits (all
    points when ``None``); ``phases`` replaces it with phases of their own
    (see the module docstring).  ``rules`` selects Nelson rules for the I
    chart; ``fmt`` writes a value in the descriptions and notes (``3d 04h``
    for durations; four significant digits by default).

    Examples
    --------
    The first five points set the limits (MR̄ = 1.5); the sixth is judged:

    >>> i, mr = imr_chart([10, 12, 11, 13, 12, 30], baseline=5)
    >>> i.center, round(i.ucl[0], 2), i.fired(1), mr.fired(1)
    (11.6, 15.59, (5,), (5,))
    """
    xs = _clean(values)
    n = len(xs)
    labels_t = _labels(labels, n)
    rules = _rule_set(rules)
    fmt = fmt or _num
    plan = _phases(phases, baseline, n)
    mrs = _moving_ranges(xs)
    centers: list[float] = [0.0] * n
    sigmas: list[float | None] = [None] * n
    mr_bars: list[float] = [0.0] * n
    signals: list[Signal] = []
    notes: list[str] = []
    for ph in plan:
        base_idx = [i for i in ph.baseline if xs[i] is not None]
        if len(base_idx) < 2:
            msg = (
                f"an I-MR chart needs at least 2 values in the baseline ({_points(ph.baseline)}); "
                f"found {len(base_idx)}"
            )
            raise MonitorError(msg)
        base = [xs[i] for i in base_idx]
        base_mrs = [abs(xs[b] - xs[a]) for a, b in itertools.pairwise(base_idx)]  # type: ignore[operator]
        mr_bar = math.fsum(base_mrs) / len(base_mrs)
        # Identical baseline values: take one of them as the center, exactly, so
        # "on the center line" holds for them (a float mean may be off by an ulp).
        center = base[0] if mr_bar == 0 else math.fsum(base) / len(base)  # type: ignore[arg-type]
        sigma = mr_bar / D2
        for i in range(ph.start, ph.stop):
            centers[i], sigmas[i], mr_bars[i] = center, (sigma if sigma > 0 else None), mr_bar
        note = (
            f"{_phase_words(ph, len(plan))}center = mean of the {len(base)} baseline values "
            f"({_points(ph.baseline)}); limits = center ± 2.66 times the average moving range "
            f"(MR̄ = {fmt(mr_bar)} over {len(base_mrs)} ranges), i.e. ± 3 sigma with sigma = MR̄ / 1.128."
        )
        if sigma == 0:
            note += (
                " The baseline has no variation (MR̄ = 0): there is no sigma, the limits coincide with "
                "the center line, and the zone rules (1, 5, 6, 7, 8) are not applied; rules 2-4 are."
            )
        notes.append(note)
        signals += _signals(
            [center] * n,
            [sigma] * n,
            _judged_values(xs, ph),
            rules,
            labels_t,
            fmt=fmt,
        )
    missing = n - sum(x is not None for x in xs)
    note = "Individuals chart: " + " ".join(notes)
    if len(plan) == 1 and plan[0].baseline != tuple(range(n)):
        judged = _judged_beyond_baseline(plan[0])
        if judged:
            note += f" {_cap(_points(judged))} {_are(judged)} judged against these limits."
    note += _history_words(plan, labels_t)
    if missing:
        note += f" {missing} missing point(s) are skipped."
    signals.sort(key=lambda s: (s.index, s.rule))
    n_base = len(plan[-1].baseline)
    i_chart = ControlChart(
        "I",
        tuple(xs),
        centers[-1],
        tuple(c + 3 * (s or 0.0) for c, s in zip(centers, sigmas, strict=True)),
        tuple(c - 3 * (s or 0.0) for c, s in zip(centers, sigmas, strict=True)),
        tuple(signals),
        note,
        n_base,
        tuple(sigmas),
        labels_t,
        tuple(centers),
        tuple(plan),
    )
    mr_ucl = [D4 * m for m in mr_bars]
    mr_note = (
        f"Moving-range chart: center = MR̄ = {fmt(mr_bars[-1])}, UCL = 3.267 times MR̄, LCL = 0; "
        "only rule 1 (a range above the UCL) is applied."
    )
    mr_signals = []
    judged_points = {i for ph in plan for i in range(_judged_from(ph), ph.stop)}
    if 1 in rules:
        previous = None  # the present point a range starts from
        for i, m in enumerate(mrs):
            start, previous = previous, (i if xs[i] is not None else previous)
            if start not in judged_points:
                continue  # a jump from a point before the baseline, as that point: drawn, not judged
            if m is not None and mr_bars[i] > 0 and (m - mr_ucl[i]) / mr_bars[i] > _EPS:
                mr_signals.append(
                    Signal(
                        1,
                        RULE_NAMES[1],
                        i,
                        (i,),
                        f"The jump into {_point(i, labels_t)} is larger than the moving-range limit: "
                        f"{fmt(m)} against {fmt(mr_ucl[i])}, an abrupt change.",
                    )
                )
    mr_chart = ControlChart(
        "MR",
        tuple(mrs),
        mr_bars[-1],
        tuple(mr_ucl),
        (0.0,) * n,
        tuple(mr_signals),
        mr_note,
        n_base,
        tuple(m * 0.853 / D2 if m > 0 else None for m in mr_bars),
        labels_t,
        tuple(mr_bars),
        tuple(plan),
    )
    return i_chart, mr_chart


def p_chart(
    defects: Sequence[int],
    sizes: Sequence[int],
    *,
    baseline: int | None = None,
    phases: Sequence[Phase] | None = None,
    labels: Sequence[str] | None = None,
    rules: Collection[int] = NELSON_RULES,
    laney: bool = False,
) -> ControlChart:
    """The p-chart of ``defects[i] / sizes[i]`` (e.g. reworked cases / cases per week).

    ``laney`` widens the limits by the overdispersion of the baseline (Laney's
    p'-chart, see the module docstring).

    Examples
    --------
    >>> c = p_chart([5, 10, 3], [100, 400, 100])
    >>> c.center, round(c.ucl[0], 4), round(c.ucl[1], 4)
    (0.03, 0.0812, 0.0556)
    """
    if len(defects) != len(sizes):
        msg = f"a p-chart needs one size per defect count; got {len(defects)} counts and {len(sizes)} sizes"
        raise MonitorError(msg)
    n = len(sizes)
    labels_t = _labels(labels, n)
    for i, (d, size) in enumerate(zip(defects, sizes, strict=True)):
        if size < 0 or d < 0 or d > size:
            msg = (
                f"p-chart {_point(i, labels_t)}: expected 0 <= defects <= size, got {d} defects out of {size}"
            )
            raise MonitorError(msg)
    return _rate_chart(
        "p",
        [int(d) for d in defects],
        [float(s) for s in sizes],
        baseline=baseline,
        phases=phases,
        labels_t=labels_t,
        rules=_rule_set(rules),
        laney=laney,
    )


def u_chart(
    counts: Sequence[int],
    exposures: Sequence[float],
    *,
    baseline: int | None = None,
    phases: Sequence[Phase] | None = None,
    labels: Sequence[str] | None = None,
    rules: Collection[int] = NELSON_RULES,
    laney: bool = True,
    unit: str = "per unit",
) -> ControlChart:
    """The u-chart of ``counts[i] / exposures[i]`` (e.g. cases started per working day of each week).

    A period with no exposure (no working day) has no value.  ``laney``
    (the default) widens the limits by the overdispersion of the baseline.

    Examples
    --------
    >>> c = u_chart([50, 30, 52], [5, 3, 5], baseline=2, laney=False)
    >>> c.center, c.values, round(c.ucl[1], 3)
    (10.0, (10.0, 10.0, 10.4), 15.477)
    """
    if len(counts) != len(exposures):
        msg = (
            f"a u-chart needs one exposure per count; got {len(counts)} counts and {len(exposures)} exposures"
        )
        raise MonitorError(msg)
    n = len(counts)
    labels_t = _labels(labels, n)
    for i, (c, e) in enumerate(zip(counts, exposures, strict=True)):
        if c < 0 or not e >= 0 or not math.isfinite(e):
            msg = (
                f"u-chart {_point(i, labels_t)}: expected a count >= 0 and an exposure >= 0, got {c} and {e}"
            )
            raise MonitorError(msg)
    return _rate_chart(
        "u",
        [int(c) for c in counts],
        [float(e) for e in exposures],
        baseline=baseline,
        phases=phases,
        labels_t=labels_t,
        rules=_rule_set(rules),
        laney=laney,
        unit=unit,
    )


def _rate_chart(
    kind: str,
    counts: list[int],
    sizes: list[float],
    *,
    baseline: int | None,
    phases: Sequence[Phase] | None,
    labels_t: tuple[str, ...],
    rules: frozenset[int],
    laney: bool,
    unit: str = "",
) -> ControlChart:
    """A p-chart (``kind="p"``, shares of units) or a u-chart (counts per unit of exposure)."""
    n = len(counts)
    plan = _phases(phases, baseline, n)
    values: list[float | None] = [c / s if s > 0 else None for c, s in zip(counts, sizes, strict=True)]
    centers: list[float] = [0.0] * n
    sigmas: list[float | None] = [None] * n
    ucl: list[float | None] = [None] * n
    lcl: list[float | None] = [None] * n
    signals: list[Signal] = []
    notes: list[str] = []
    fmt = _pct if kind == "p" else _num

    def model_sigma(center: float, size: float) -> float:
        return math.sqrt(center * (1 - center) / size) if kind == "p" else math.sqrt(center / size)

    for ph in plan:
        d_base = sum(counts[i] for i in ph.baseline)
        units = math.fsum(sizes[i] for i in ph.baseline)
        if units == 0:
            what = "units" if kind == "p" else "exposure"
            msg = f"a {kind}-chart needs {what} in the baseline ({_points(ph.baseline)}); every period there is empty"
            raise MonitorError(msg)
        center = d_base / units
        no_sigma = center == 0.0 or (kind == "p" and center == 1.0)
        factor = 1.0
        if laney and not no_sigma:
            z = [
                (values[i] - center) / model_sigma(center, sizes[i])  # type: ignore[operator]
                for i in ph.baseline
                if sizes[i] > 0
            ]
            if len(z) >= 2:
                factor = max(1.0, math.fsum(abs(b - a) for a, b in itertools.pairwise(z)) / (len(z) - 1) / D2)
        for i in range(ph.start, ph.stop):
            centers[i] = center
            if sizes[i] > 0:
                sd = factor * model_sigma(center, sizes[i])
                sigmas[i] = None if no_sigma else sd
                ucl[i] = min(1.0, center + 3 * sd) if kind == "p" else center + 3 * sd
                lcl[i] = max(0.0, center - 3 * sd)
        words = _phase_words(ph, len(plan))
        if kind == "p":
            note = (
                f"{words}center p̄ = {d_base} / {_count(units)} = {center:.6g} over the baseline "
                f"({_points(ph.baseline)}); limits per point = p̄ ± 3 sqrt(p̄(1 - p̄) / n)"
            )
        else:
            note = (
                f"{words}center ū = {d_base} / {_count(units)} = {center:.4g} {unit} over the baseline "
                f"({_points(ph.baseline)}); limits per point = ū ± 3 sqrt(ū / n), n the exposure"
            )
        note += f" times Laney's sigma_z = {factor:.3g}" if laney and not no_sigma else ""
        note += ", clipped to [0, 1]." if kind == "p" else ", never below 0."
        if no_sigma:
            state = "defective" if center else "good" if kind == "p" else "zero"
            note += (
                f" Every baseline unit is {state}: there is no sigma, the limits coincide with the center "
                "line, and the zone rules (1, 5, 6, 7, 8) are not applied."
                if kind == "p"
                else " The baseline count is zero: there is no sigma, and the zone rules are not applied."
            )
        notes.append(note)
        signals += _signals([center] * n, sigmas, _judged_values(values, ph), rules, labels_t, fmt=fmt)
    name = "p-chart" if kind == "p" else "u-chart"
    note = f"{name}: " + " ".join(notes)
    if len(plan) == 1 and plan[0].baseline != tuple(range(n)):
        judged = _judged_beyond_baseline(plan[0])
        if judged:
            target = "p̄" if kind == "p" else "ū"
            note += f" {_cap(_points(judged))} {_are(judged)} judged against {target}."
    note += _history_words(plan, labels_t)
    empty = sum(1 for s in sizes if s == 0)
    if empty:
        what = "without units" if kind == "p" else "without exposure (not judged, or no working day)"
        note += f" {empty} period(s) {what} are skipped."
    signals.sort(key=lambda s: (s.index, s.rule))
    return ControlChart(
        kind,
        tuple(values),
        centers[-1],
        tuple(ucl),
        tuple(lcl),
        tuple(signals),
        note,
        len(plan[-1].baseline),
        tuple(sigmas),
        labels_t,
        tuple(centers),
        tuple(plan),
    )


def cusum(
    chart: ControlChart,
    *,
    k: float = CUSUM_K,
    h: float = CUSUM_H,
    fmt: Callable[[float], str] | None = None,
) -> Cusum | None:
    """The tabular CUSUM of a chart's points against their centers (see the module docstring).

    Each phase starts the sums where its rules start, at its first baseline
    point (at its own start when the baseline lies before it); points without
    a sigma are skipped.
    ``None`` when no point has a sigma.

    Examples
    --------
    A shift of just over one sigma from point 20 on is signalled at point 27,
    where no point lies beyond the limits:

    >>> i, _ = imr_chart([10, 12] * 10 + [13.0] * 10, baseline=20)
    >>> cusum(i).fired(), i.fired(1)
    ((27,), ())
    """
    fmt = fmt or _num
    n = len(chart.values)
    plan = chart.phases or (Phase(0, n, tuple(range(chart.baseline))),)
    upper: list[float | None] = [None] * n
    lower: list[float | None] = [None] * n
    signals: list[ShiftSignal] = []
    any_sigma = False
    for ph in plan:
        start = _judged_from(ph)
        hi = lo = 0.0
        since_hi = since_lo = None
        for i in range(start, ph.stop):
            x, sd = chart.values[i], chart.sigma[i] if i < len(chart.sigma) else None
            if x is None or sd is None or sd <= 0:
                continue
            any_sigma = True
            center = chart.center_at(i)
            z = (x - center) / sd
            hi, lo = max(0.0, hi + z - k), max(0.0, lo - z - k)
            since_hi = (since_hi if since_hi is not None else i) if hi > 0 else None
            since_lo = (since_lo if since_lo is not None else i) if lo > 0 else None
            upper[i], lower[i] = hi, lo
            for stat, since, word in ((hi, since_hi, "up"), (lo, since_lo, "down")):
                if stat > h + _EPS:
                    first = since if since is not None else i
                    signals.append(
                        ShiftSignal(
                            i,
                            first,
                            word,
                            stat,
                            f"Since {_point(first, chart.labels)} the values have run "
                            f"{'above' if word == 'up' else 'below'} the center line ({fmt(center)}) by "
                            f"{stat:.1f} sigma more than the {k:g} sigma a period that chance allows: "
                            f"a sustained shift {word}.",
                        )
                    )
            if hi > h + _EPS or lo > h + _EPS:
                hi = lo = 0.0
                since_hi = since_lo = None
    if not any_sigma:
        return None
    note = (
        f"CUSUM of the points' distance from the center line in sigma, with an allowance of k = {k:g} "
        f"sigma a period and a decision interval of h = {h:g} sigma: it signals a sustained shift of one sigma "
        "after about 10 periods and of two sigma after about 4, and an in-control process about once "
        "in 465 periods; after a signal it restarts from 0."
    )
    return Cusum(tuple(upper), tuple(lower), k, h, tuple(signals), note)


# -- rules ------------------------------------------------------------------


def _signals(
    centers: list[float],
    sigmas: Sequence[float | None],
    values: Sequence[float | None],
    rules: frozenset[int],
    labels: tuple[str, ...],
    *,
    fmt: Callable[[float], str],
) -> list[Signal]:
    """Run the selected rules over the present points and map positions back to indices."""
    idx = [i for i, v in enumerate(values) if v is not None]
    x = [float(v) for v in values if v is not None]
    c = [centers[i] for i in idx]
    sd = [sigmas[i] or 0.0 for i in idx]
    zones = bool(idx) and all(v > 0 for v in sd)
    z = [(x[k] - c[k]) / sd[k] for k in range(len(idx))] if zones else []
    if zones:
        side = [1 if v > _EPS else -1 if v < -_EPS else 0 for v in z]
    else:
        side = [1 if x[k] > c[k] else -1 if x[k] < c[k] else 0 for k in range(len(idx))]
    found: list[tuple[int, int, list[int], str]] = []  # (rule, k, positions, text)

    def span(ks: list[int]) -> str:
        return _span(idx[ks[0]], idx[ks[-1]], labels)

    if zones and 1 in rules:
        for k, v in enumerate(z):
            if abs(v) > 3 + _EPS:
                where = "above the upper" if v > 0 else "below the lower"
                limit = c[k] + (3 if v > 0 else -3) * sd[k]
                found.append(
                    (
                        1,
                        k,
                        [k],
                        f"{_cap(_point(idx[k], labels))} is {where} control limit: "
                        f"{fmt(x[k])} against {fmt(limit)}.",
                    )
                )
    if 2 in rules:
        for k, ks in _runs([v != 0 for v in side], 9, same=side):
            word = "above" if side[k] > 0 else "below"
            found.append(
                (
                    2,
                    k,
                    ks,
                    f"{_cap(span(ks))} are all {word} the center line: "
                    f"the level has shifted {'up' if side[k] > 0 else 'down'}.",
                )
            )
    if 3 in rules:
        step = [0] + [(x[k] > x[k - 1]) - (x[k] < x[k - 1]) for k in range(1, len(x))]
        for k, ks in _runs([d != 0 for d in step], 5, same=step):
            ks = [ks[0] - 1, *ks]
            found.append(
                (3, k, ks, f"{_cap(span(ks))} {'rise' if step[k] > 0 else 'fall'} steadily: a trend.")
            )
    if 4 in rules:
        step = [0] + [(x[k] > x[k - 1]) - (x[k] < x[k - 1]) for k in range(1, len(x))]
        alternating = [k > 1 and step[k] != 0 and step[k] == -step[k - 1] for k in range(len(x))]
        for k, ks in _runs(alternating, 12):
            ks = [ks[0] - 2, ks[0] - 1, *ks]
            found.append(
                (
                    4,
                    k,
                    ks,
                    f"{_cap(span(ks))} alternate up and down: two alternating "
                    "sources (shifts, teams) or over-adjustment.",
                )
            )
    if zones:
        for rule, width, need, level in ((5, 3, 2, 2), (6, 5, 4, 1)):
            if rule not in rules:
                continue
            for k, ks, up in _windows(z, width, need, level):
                found.append(
                    (
                        rule,
                        k,
                        ks,
                        f"{need} of {span(ks)} are more than {level} sigma "
                        f"{'above' if up else 'below'} the center line: a shift "
                        f"{'up' if up else 'down'} is likely.",
                    )
                )
        if 7 in rules:
            for k, ks in _runs([abs(v) < 1 - _EPS for v in z], 15):
                found.append(
                    (
                        7,
                        k,
                        ks,
                        f"{_cap(span(ks))} all lie within 1 sigma of the center line: "
                        "less variation than the limits assume (mixed baseline, or stale limits).",
                    )
                )
        if 8 in rules:
            for k, ks in _runs([abs(v) > 1 + _EPS for v in z], 8):
                found.append(
                    (
                        8,
                        k,
                        ks,
                        f"{_cap(span(ks))} all lie more than 1 sigma from the center "
                        "line: the points come from two or more levels.",
                    )
                )
    found.sort(key=lambda f: (f[1], f[0]))
    return [Signal(r, RULE_NAMES[r], idx[k], tuple(idx[j] for j in ks), text) for r, k, ks, text in found]


def _runs(ok: list[bool], length: int, *, same: list[int] | None = None) -> list[tuple[int, list[int]]]:
    """(completing position, run positions) where ``ok`` holds ``length`` times in a row, once per run.

    With ``same``, the run also needs an equal ``same`` value throughout (a side, a direction).
    """
    out = []
    run = 0
    for k, good in enumerate(ok):
        if good and run and (same is None or same[k] == same[k - 1]):
            run += 1
        else:
            run = 1 if good else 0
        if run == length:
            out.append((k, list(range(k - length + 1, k + 1))))
    return out


def _windows(z: list[float], width: int, need: int, level: int) -> list[tuple[int, list[int], bool]]:
    """(completing position, window, upper side) where ``need`` of ``width`` points lie beyond ``level`` sigma.

    Windows at the start may be shorter.  Windows that meet the rule on one
    side and overlap the previous such window belong to the same run, which is
    reported once, at its first window (whose last point is then beyond the
    level: it completed the pattern).
    """
    out = []
    for up in (True, False):
        beyond = [(v > level + _EPS) if up else (v < -level - _EPS) for v in z]
        last_hit = -width
        for k in range(len(z)):
            lo = max(0, k - width + 1)
            if sum(beyond[lo : k + 1]) >= need:
                if k - last_hit >= width:
                    out.append((k, list(range(lo, k + 1)), up))
                last_hit = k
    return out


# -- capability -------------------------------------------------------------


def capability(
    values: Sequence[float | None],
    *,
    usl: float | None,
    lsl: float | None = None,
    fmt: Callable[[float], str] | None = None,
) -> Capability:
    """Cp/Cpk, Pp/Ppk, sigma levels and the observed defect rate of ``values`` against ``lsl``/``usl``.

    ``fmt`` writes the limits in the note (``5d 00h`` for an SLA in seconds).

    ``values`` are taken in the order given (time order) for the moving ranges
    behind the within sigma; ``None`` and NaN are skipped.  A value above ``usl``
    or below ``lsl`` is a defect; one on a limit meets it.

    Examples
    --------
    >>> cap = capability([2.0, 4.0, 3.0, 5.0, 6.0], usl=8.0)
    >>> round(cap.cpk, 3), cap.cp, cap.defect_rate
    (1.003, None, 0.0)
    """
    xs = [x for x in _clean(values) if x is not None]
    if usl is None and lsl is None:
        msg = "capability needs a specification: give an upper limit (usl), a lower limit (lsl), or both"
        raise MonitorError(msg)
    if usl is not None and lsl is not None and lsl >= usl:
        msg = f"capability: the lower limit ({lsl}) must be below the upper limit ({usl})"
        raise MonitorError(msg)
    if len(xs) < 2:
        msg = f"capability needs at least 2 values, got {len(xs)}"
        raise MonitorError(msg)
    n = len(xs)
    mean = math.fsum(xs) / n
    mrs = [abs(b - a) for a, b in itertools.pairwise(xs)]
    sigma_w = math.fsum(mrs) / len(mrs) / D2
    # Two passes in floats: statistics.stdev's exact fractions take 0.1 s on 150,000 cases.
    sigma_o = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))

    def index(sigma: float) -> tuple[float | None, float | None]:
        if sigma == 0:
            return None, None
        sides = [(usl - mean) / (3 * sigma)] if usl is not None else []
        if lsl is not None:
            sides.append((mean - lsl) / (3 * sigma))
        both = (usl - lsl) / (6 * sigma) if usl is not None and lsl is not None else None
        return both, min(sides)

    cp, cpk = index(sigma_w)
    pp, ppk = index(sigma_o)
    defects = sum(1 for x in xs if (usl is not None and x > usl) or (lsl is not None and x < lsl))
    rate = defects / n
    normal = statistics.NormalDist()
    expected = None
    if sigma_o > 0:
        tail = (1 - normal.cdf((usl - mean) / sigma_o)) if usl is not None else 0.0
        if lsl is not None:
            tail += normal.cdf((lsl - mean) / sigma_o)
        expected = 1e6 * tail
    process_sigma = normal.inv_cdf(1 - rate) + 1.5 if 0 < rate < 1 else None
    word = fmt or (lambda v: f"{v:g}")
    spec = " and ".join(
        t
        for t in (
            f"LSL {word(lsl)}" if lsl is not None else "",
            f"USL {word(usl)}" if usl is not None else "",
        )
        if t
    )
    note = (
        f"Against {spec}: {defects} of {n} values ({rate:.2%}) are out of spec — the observed defect rate, "
        "the robust figure. Cp/Cpk use the within sigma (average moving range / 1.128, values in the given "
        "order); Pp/Ppk the overall sample standard deviation."
    )
    if usl is None or lsl is None:
        note += " With one limit only, Cp and Pp are undefined and Cpk/Ppk are one-sided."
    note += (
        " Sigma level = 3 Cpk (short-term, no 1.5 shift); process sigma = normal quantile of the observed "
        "in-spec share + 1.5 (the long-term Six Sigma table, 3.4 ppm = 6.0). Cycle times are usually "
        "right-skewed, so the normal model behind the indices and the expected ppm is approximate."
    )
    if sigma_w == 0 or sigma_o == 0:
        note += " The values do not vary, so the indices based on a zero sigma are undefined."
    return Capability(
        n=n,
        mean=mean,
        sigma_within=sigma_w,
        sigma_overall=sigma_o,
        cp=cp,
        cpk=cpk,
        pp=pp,
        ppk=ppk,
        sigma_level=None if cpk is None else 3 * cpk,
        defect_rate=rate,
        note=note,
        usl=usl,
        lsl=lsl,
        defects=defects,
        expected_ppm=expected,
        process_sigma=process_sigma,
    )


# -- helpers ----------------------------------------------------------------


def _clean(values: Sequence[float | None]) -> list[float | None]:
    out: list[float | None] = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
            continue
        f = float(v)
        if math.isinf(f):
            msg = f"point {i}: expected a finite number or None, got {v!r}"
            raise MonitorError(msg)
        out.append(f)
    if not out:
        msg = "a control chart needs at least one point; the series is empty"
        raise MonitorError(msg)
    return out


def _phases(phases: Sequence[Phase] | None, baseline: int | None, n: int) -> list[Phase]:
    """The phases to chart: the given ones (checked), else one phase whose baseline leads the series."""
    if phases is None:
        return [Phase(0, n, tuple(range(_baseline(baseline, n))))]
    plan = list(phases)
    if not plan or plan[0].start != 0 or plan[-1].stop != n:
        msg = f"phases must cover points 0-{n - 1} in order"
        raise MonitorError(msg)
    for a, b in itertools.pairwise(plan):
        if a.stop != b.start:
            msg = (
                f"phases must follow each other: one ends at point {a.stop - 1}, the next starts at {b.start}"
            )
            raise MonitorError(msg)
    for ph in plan:
        if ph.stop <= ph.start:
            msg = f"a phase must hold points; got {ph.start} to {ph.stop - 1}"
            raise MonitorError(msg)
        if not ph.baseline or any(not 0 <= i < n for i in ph.baseline):
            msg = f"a phase's baseline must name points 0-{n - 1}; got {list(ph.baseline)}"
            raise MonitorError(msg)
    return plan


def _judged_from(ph: Phase) -> int:
    """The first point a phase judges: its first baseline point, or its start when the baseline lies before it."""
    return max(ph.start, min(ph.baseline))


def _judged_values(values: Sequence[float | None], ph: Phase) -> list[float | None]:
    """The values the rules judge in one phase; the others as missing, so runs stay inside it."""
    first = _judged_from(ph)
    return [v if first <= i < ph.stop else None for i, v in enumerate(values)]


def _judged_beyond_baseline(ph: Phase) -> tuple[int, ...]:
    """The points a phase judges that did not set its limits."""
    base = set(ph.baseline)
    return tuple(i for i in range(_judged_from(ph), ph.stop) if i not in base)


def _history_words(plan: Sequence[Phase], labels: tuple[str, ...]) -> str:
    """The points drawn before their phase's baseline, which no rule judges (see the module docstring)."""
    spans = [(ph.start, _judged_from(ph) - 1) for ph in plan if _judged_from(ph) > ph.start]
    if not spans:
        return ""
    named = " and ".join(_point(a, labels) if a == b else _span(a, b, labels) for a, b in spans)
    if len(spans) > 1:
        return (
            f" {_cap(named)}, each before its phase's baseline, are drawn against their phase's limits but "
            "not judged: limits set by later periods say nothing about what was usual then."
        )
    one = spans[0][0] == spans[0][1]
    return (
        f" {_cap(named)}, before the baseline, {'is' if one else 'are'} drawn against its limits but not "
        "judged: limits set by later periods say nothing about what was usual then."
    )


def _are(indices: Sequence[int]) -> str:
    """The verb agreeing with :func:`_points` of ``indices``."""
    return "is" if len(indices) == 1 else "are"


def _points(indices: Sequence[int]) -> str:
    """``points 0-19`` for a contiguous span, else ``20 points from 3 to 40``."""
    if not indices:
        return "no points"
    lo, hi = min(indices), max(indices)
    if len(indices) == 1:
        return f"point {lo}"
    if len(indices) == hi - lo + 1:
        return f"points {lo}-{hi}"
    return f"{len(indices)} points from {lo} to {hi}"


def _phase_words(ph: Phase, phases: int) -> str:
    if phases == 1:
        return ""
    return f"{ph.label or f'points {ph.start}-{ph.stop - 1}'}: "


def _baseline(baseline: int | None, n: int) -> int:
    if baseline is None:
        return n
    if not 1 <= baseline <= n:
        msg = f"baseline must count 1 to {n} leading points (the series has {n}), got {baseline}"
        raise MonitorError(msg)
    return int(baseline)


def _labels(labels: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if labels is None:
        return ()
    if len(labels) != n:
        msg = f"expected one label per point ({n}), got {len(labels)}"
        raise MonitorError(msg)
    return tuple(str(s) for s in labels)


def _rule_set(rules: Collection[int]) -> frozenset[int]:
    chosen = frozenset(int(r) for r in rules)
    unknown = sorted(chosen - set(NELSON_RULES))
    if unknown:
        msg = f"unknown rule(s) {unknown}: Nelson rules are numbered 1 to 8"
        raise MonitorError(msg)
    return chosen


def _moving_ranges(xs: list[float | None]) -> list[float | None]:
    out: list[float | None] = []
    prev: float | None = None
    for x in xs:
        out.append(None if x is None or prev is None else abs(x - prev))
        if x is not None:
            prev = x
    return out


def _point(i: int, labels: tuple[str, ...]) -> str:
    return f"point {i} ({labels[i]})" if labels else f"point {i}"


def _span(a: int, b: int, labels: tuple[str, ...]) -> str:
    if labels:
        return f"points {a}-{b} ({labels[a]} to {labels[b]})"
    return f"points {a}-{b}"


def _cap(text: str) -> str:
    # Not str.capitalize(): it lowercases the rest, labels included.
    return text[:1].upper() + text[1:]


def _count(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v:.4g}"


def _num(v: float) -> str:
    return f"{v:.4g}"


def _pct(v: float) -> str:
    return f"{v:.2%}"
