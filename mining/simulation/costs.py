"""Cost per case in a simulation, priced with the rate card (:mod:`mining.rates`).

The engine plays pools, not named people, so a pool's hour costs the mean
hourly rate of the people the log shows in it; a step that needs nobody is
charged the card's default rate (as events without a resource are).  A case
costs each step's processing hours at that rate plus the activity's fixed
cost per execution, and, when the card charges waiting, the hours it waited
for a person at the same rate.  An automated step takes no time, so only
its fixed cost remains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mining.errors import RateCardError
from mining.rates import RateCard
from mining.simulation.engine import RunResult
from mining.simulation.model import SimModel

__all__ = ["Pricing", "pricing"]


@dataclass(frozen=True)
class Pricing:
    """Per activity its hourly rate and fixed cost; ``waiting`` charges waiting for a person too."""

    hourly: tuple[tuple[str, float], ...]
    fixed: tuple[tuple[str, float], ...]
    waiting: bool
    currency: str
    label: str

    def case_cost(self, r: RunResult) -> float:
        """The mean cost per case of one run."""
        if not r.cases:
            return math.nan
        hourly, fixed = dict(self.hourly), dict(self.fixed)
        total = 0.0
        for a, n in r.activity_counts.items():
            rate = hourly.get(a, 0.0)
            hours = r.activity_work.get(a, 0.0) + (r.activity_queue.get(a, 0.0) if self.waiting else 0.0)
            total += hours / 3600 * rate + n * fixed.get(a, 0.0)
        return total / r.cases


def pricing(model: SimModel, card: RateCard) -> Pricing:
    """The prices of ``model``'s activities under ``card``; an unpriced person is an error naming them."""
    people = sorted({r for p in model.pools for r in p.resources})
    needs_default = any(a.pool is None for a in model.activities)
    missing = card.unpriced([*people, *([None] if needs_default else [])])
    if missing:
        shown = ", ".join(repr(m) for m in missing[:8]) + (" ..." if len(missing) > 8 else "")
        msg = (
            f"{card.source or 'the rate card'}: no hourly rate for {shown}; "
            "give them a rate or a role, or a default rate under '*'"
        )
        raise RateCardError(msg)
    pool_rate = {
        p.name: sum(card.hourly(r) or 0.0 for r in p.resources) / len(p.resources) if p.resources else 0.0
        for p in model.pools
    }
    hourly = tuple(
        (a.name, pool_rate[a.pool] if a.pool is not None else float(card.default or 0.0))
        for a in model.activities
    )
    fixed = tuple((a.name, card.fixed(a.name)) for a in model.activities)
    return Pricing(hourly, fixed, card.waiting, card.currency, card.label())
