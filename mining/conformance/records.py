"""What a conformance check returns: plain frozen records, with no behaviour of their own.

:func:`~mining.conformance.check.conform` builds a :class:`ConformanceResult`
from the other records here; the app, the CLI and the monitor read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.conformance.labels import LabelCoverage, LabelMatch

__all__ = [
    "KINDS",
    "ConformanceResult",
    "DeviatingCase",
    "Deviation",
    "MapOverlay",
    "OverlayEdge",
    "VariantCheck",
]

#: The kinds of deviation, in the order results list them (see :mod:`mining.conformance.deviations`).
KINDS = ("skipped", "inserted", "out_of_order", "not_in_model")


@dataclass(frozen=True)
class Deviation:
    """One kind of deviation on one activity, over the checked cases."""

    kind: str
    activity: str
    cases: int
    share: float
    occurrences: int
    median_duration_with_s: float | None
    median_duration_without_s: float | None
    sentence: str
    variants: tuple[int, ...] = ()  # ranks of the checked variants that have it


@dataclass(frozen=True)
class VariantCheck:
    """One checked variant: its alignment's verdict and deviations ``(kind, activity, count)``.

    ``rank`` numbers the checked variants, most cases first; ``stored_variant_ids``
    are the variants of the ``variants`` table it stands for (several when a
    filter removed activities).  ``aligned`` is False when the budget ran out
    or the check was cancelled first; then nothing else is known.
    """

    rank: int
    activities: tuple[str, ...]
    cases: int
    stored_variant_ids: tuple[int, ...]
    aligned: bool
    cost: int | None = None  # deviating moves (log moves + visible model moves)
    fitness: float | None = None
    deviations: tuple[tuple[str, str, int], ...] = ()
    accepted: tuple[tuple[str, str, int], ...] = ()

    @property
    def fits(self) -> bool | None:
        """No deviation left after the allowlist (None when not aligned)."""
        return None if not self.aligned else not self.deviations


@dataclass(frozen=True)
class OverlayEdge:
    """A directly-follows pair of the log that the model does not allow."""

    source: str
    target: str
    count: int
    cases: int


@dataclass(frozen=True)
class MapOverlay:
    """What to draw over the process map: edges and activities the model does not have.

    ``complete`` is False when the net was too large to explore (then
    ``edges`` is empty and only ``activities`` is filled).
    """

    edges: tuple[OverlayEdge, ...]
    activities: tuple[tuple[str, int, int], ...]  # (activity, events, cases) not in the model
    model_pairs: int
    complete: bool


@dataclass(frozen=True)
class DeviatingCase:
    """One case whose variant deviates (accepted deviations left out)."""

    case_id: str
    variant_id: int
    deviations: str
    duration_s: float


@dataclass(frozen=True)
class ConformanceResult:
    """A stored log checked against a model: metrics, deviations, the map overlay and how it was done.

    ``fitness_bounds`` equals ``(fitness, fitness)`` for a complete check;
    for a partial one ``fitness`` is None and the bounds hold the full
    figure.  The same goes for ``fitting_cases_share``.  Shares are of the
    checked cases (``cases``).
    """

    log_id: int
    filter: Filter | None
    model: str
    method: str
    engine: str
    cases: int
    complete: bool
    fitness: float | None
    fitness_bounds: tuple[float, float]
    precision: float | None
    fitting_cases_share: float | None
    fitting_cases_bounds: tuple[float, float]
    aligned_variants_share: float
    aligned_cases_share: float
    deviations: tuple[Deviation, ...]
    accepted: tuple[tuple[str, str, int], ...]  # (kind, activity, cases) taken off by the allowlist
    variants: tuple[VariantCheck, ...]
    labels: LabelMatch
    overlay: MapOverlay | None
    notes: tuple[str, ...]
    seconds: float
    #: How much of the model and the log the matched labels cover.
    coverage: LabelCoverage | None = None
    #: Scored although the labels match too little (``force=True``): the figures say little.
    forced: bool = False
