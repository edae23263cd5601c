"""Bootstrap replicates of a statistic over cases: the intervals of :mod:`mining.monitor.compare`.

Cases are resampled with replacement from a seeded generator.  A rate's
replicates are binomial draws; a median's or p90's are drawn exactly from the
order statistics a resample would have, without building it; a mean over
more than :data:`EXACT_MEAN_CELLS` case draws takes the normal replicates of
the mean.  :func:`percentile_test` turns the replicates of a difference into
its interval and a p-value that always agrees with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["EXACT_MEAN_CELLS", "bootstrap", "percentile_test", "quantile_replicates", "statistic"]

#: A mean's replicates resample cases up to this many cases x resamples; beyond, the normal replicates.
EXACT_MEAN_CELLS = 10_000_000
# Resampled cells drawn at once: bounds the memory of a mean's replicates.
_CHUNK_CELLS = 2_000_000


def statistic(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    """A statistic over the last axis: the median, the 90th percentile or the mean."""
    if kind == "median":
        return lambda x: np.quantile(x, 0.5, axis=-1)
    if kind == "p90":
        return lambda x: np.quantile(x, 0.9, axis=-1)
    return lambda x: np.mean(x, axis=-1)


def bootstrap(values: np.ndarray, kind: str, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` bootstrap replicates of the statistic (cases drawn with replacement)."""
    n = values.size
    if kind == "rate":
        # Resampling 0/1 values with replacement is a binomial draw.
        return rng.binomial(n, float(values.mean()), resamples) / n
    if kind in {"median", "p90"}:
        return quantile_replicates(values, 0.5 if kind == "median" else 0.9, resamples, rng)
    if n * resamples > EXACT_MEAN_CELLS:
        # The bootstrap distribution of a mean over this many cases is the normal one of the
        # mean (skewness shrinks as 1/sqrt(n)), closer than 1,000 resamples can tell apart.
        return rng.normal(float(values.mean()), float(values.std()) / math.sqrt(n), resamples)
    stat = statistic(kind)
    out = np.empty(resamples)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for lo in range(0, resamples, chunk):
        hi = min(resamples, lo + chunk)
        out[lo:hi] = stat(values[rng.integers(0, n, size=(hi - lo, n))])
    return out


def quantile_replicates(values: np.ndarray, q: float, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``np.quantile(resample, q)`` for bootstrap resamples, drawn exactly without building them.

    A resample draws the sorted position ``floor(n U)`` for n uniform U; floor
    keeps the order, so its order statistic of rank r sits at ``floor(n U_(r))``
    with ``U_(r) ~ Beta(r + 1, n - r)``, and the next one above it at
    ``U_(r) + (1 - U_(r)) Beta(1, n - r - 1)`` (the least of the uniforms left
    above).  ``np.quantile`` interpolates between those two: the replicate is
    exact, at a cost of ``resamples`` instead of ``resamples x n`` draws.
    """
    x = np.sort(values)
    n = x.size
    h = q * (n - 1)
    low = math.floor(h)
    frac = h - low
    u_low = rng.beta(low + 1, n - low, resamples)
    lo_value = x[np.minimum((u_low * n).astype(np.int64), n - 1)]
    if frac == 0 or low + 1 >= n:
        return lo_value
    u_high = u_low + (1 - u_low) * rng.beta(1, n - low - 1, resamples)
    hi_value = x[np.minimum((u_high * n).astype(np.int64), n - 1)]
    return lo_value + frac * (hi_value - lo_value)


def percentile_test(replicates: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """``(low, high, p)``: the percentile interval of the replicates and the p-value that agrees with it.

    With ``B`` replicates and ``alpha = 1 - confidence``, the interval runs from
    the ``(k + 1)``-th smallest replicate to the ``(k + 1)``-th largest, ``k``
    the largest whole number with ``2k / B < alpha``.  The p-value is
    ``2 min(#(r <= 0), #(r >= 0)) / B`` (at most 1): the smallest ``alpha`` whose
    interval leaves 0 out.  So ``p < alpha`` exactly when 0 lies outside the
    interval, and a p-value of 0 means "below 2 / B".

    Examples
    --------
    >>> low, high, p = percentile_test(np.arange(1.0, 1001.0), 0.95)
    >>> low, high, p
    (25.0, 976.0, 0.0)
    """
    r = np.sort(np.asarray(replicates, dtype=float))
    b = r.size
    alpha = 1.0 - confidence
    # Rounded first: 1 - 0.95 is 0.05000000000000004, which must not move the interval by a replicate.
    k = max(0, math.ceil(round(alpha * b / 2, 9)) - 1)
    low, high = float(r[k]), float(r[b - 1 - k])
    at_or_below = int(np.searchsorted(r, 0.0, "right"))
    at_or_above = b - int(np.searchsorted(r, 0.0, "left"))
    p = min(1.0, 2 * min(at_or_below, at_or_above) / b)
    return low, high, p
