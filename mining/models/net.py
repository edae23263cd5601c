"""A process model as plain values: an accepting Petri net and the model it was read from.

Every model (BPMN 2.0, PNML, a list of steps, a discovered net) ends as a
:class:`NetSpec`: places, transitions (with their task label, or ``None``
for a silent step), weighted arcs and the initial and final markings.
pm4py and r4pm objects are built from it in :mod:`mining.pm4py_adapter`
only when a check runs, so a :class:`ProcessModel` pickles, caches and
compares like any other record.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NetSpec", "ProcessModel"]


@dataclass(frozen=True)
class NetSpec:
    """An accepting Petri net as plain values.

    ``transitions`` are ``(id, label)`` with ``label=None`` for a silent
    step; ``arcs`` are ``(source id, target id, weight)`` between a place and
    a transition; markings are ``(place id, tokens)`` pairs.
    """

    places: tuple[str, ...]
    transitions: tuple[tuple[str, str | None], ...]
    arcs: tuple[tuple[str, str, int], ...]
    initial: tuple[tuple[str, int], ...]
    final: tuple[tuple[str, int], ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The distinct visible labels, in transition order."""
        return tuple(dict.fromkeys(lab for _, lab in self.transitions if lab is not None))

    def relabel(self, labels: dict[str, str | None]) -> NetSpec:
        """The same net with visible labels renamed (``None``: made silent); others unchanged."""
        return NetSpec(
            self.places,
            tuple((tid, labels.get(lab, lab) if lab is not None else None) for tid, lab in self.transitions),
            self.arcs,
            self.initial,
            self.final,
        )


@dataclass(frozen=True)
class ProcessModel:
    """A model read for conformance: its net, its visible task labels and what reading it assumed."""

    name: str
    kind: str  # "bpmn", "pnml", "steps" or "discovered"
    net: NetSpec
    notes: tuple[str, ...] = ()

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.net.labels
