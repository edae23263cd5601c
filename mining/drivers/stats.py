"""The tests behind the driver finder: two proportions, false-discovery control, Mantel-Haenszel.

Everything works on counts, vectorised over every attribute value at once;
the candidates themselves come from one ordered scan of the events
(:mod:`mining.drivers.features`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

__all__ = ["Z95", "benjamini_hochberg", "mantel_haenszel", "two_proportions"]

#: Two-sided 95 % normal quantile (scipy.stats.norm.ppf(0.975); scipy.stats takes seconds to import).
Z95 = 1.959963984540054


def two_proportions(
    bad1: np.ndarray, n1: np.ndarray, bad0: np.ndarray, n0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(difference of rates, its standard error, z of the pooled test, two-sided p) per pair of groups.

    Examples
    --------
    >>> d, se, z, p = two_proportions(np.array([30]), np.array([100]), np.array([10]), np.array([100]))
    >>> round(float(d[0]), 2), round(float(z[0]), 2), float(p[0]) < 0.001
    (0.2, 3.54, True)
    """
    n1, n0 = np.asarray(n1, float), np.asarray(n0, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = bad1 / n1, bad0 / n0
        pooled = (bad1 + bad0) / (n1 + n0)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = np.where(se0 > 0, (p1 - p0) / se0, 0.0)
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    p = erfc(np.abs(z) / math.sqrt(2))
    return p1 - p0, se, z, p


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): reject where ``q <= alpha`` controls the FDR at alpha.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p, float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(ranked, 1.0)
    return q


def mantel_haenszel(
    group: np.ndarray, bad: np.ndarray, stratum: np.ndarray, *, min_per_side: int = 1
) -> tuple[float | None, float | None, float | None]:
    """The risk difference of ``group`` vs the rest with ``stratum`` held fixed: (difference, se, z).

    Mantel-Haenszel weights ``n1 n0 / N`` per stratum; strata without cases on
    both sides (at least ``min_per_side``) carry no information and are left
    out.  The variance is the weighted sum of the strata's Wald variances.
    ``None`` when no stratum has both sides.
    """
    k = int(stratum.max()) + 1 if stratum.size else 0
    n1 = np.bincount(stratum[group], minlength=k).astype(float)
    n0 = np.bincount(stratum[~group], minlength=k).astype(float)
    b1 = np.bincount(stratum[group & bad], minlength=k).astype(float)
    b0 = np.bincount(stratum[~group & bad], minlength=k).astype(float)
    ok = (n1 >= min_per_side) & (n0 >= min_per_side)
    if not ok.any():
        return None, None, None
    n1, n0, b1, b0 = n1[ok], n0[ok], b1[ok], b0[ok]
    w = n1 * n0 / (n1 + n0)
    p1, p0 = b1 / n1, b0 / n0
    rd = float((w * (p1 - p0)).sum() / w.sum())
    # A stratum's variance with a continuity floor: a 0 % or 100 % side still has some uncertainty.
    p1v = np.clip(p1, 0.5 / n1, 1 - 0.5 / n1)
    p0v = np.clip(p0, 0.5 / n0, 1 - 0.5 / n0)
    var = float((w**2 * (p1v * (1 - p1v) / n1 + p0v * (1 - p0v) / n0)).sum() / w.sum() ** 2)
    se = math.sqrt(var) if var > 0 else None
    return rd, se, (rd / se if se else None)
