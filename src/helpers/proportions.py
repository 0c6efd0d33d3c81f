"""Confidence intervals for binomial proportions, vectorised.

:func:`proportion_ci` gives the proportion ``events / n`` with a Clopper-Pearson (exact)
or Wilson (score) interval for scalars or arrays of counts; it is used for the
responder summaries (:func:`helpers.scores.summarise_responders`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from helpers.errors import check_probability, refuse_text

__all__ = ["PROPORTION_METHODS", "ProportionCI", "proportion_ci"]

#: Interval methods :func:`proportion_ci` accepts.
PROPORTION_METHODS = ("clopper-pearson", "wilson")


class ProportionCI(NamedTuple):
    """Proportion with its confidence interval.

    Fields are floats for scalar input and NumPy arrays (broadcast shape) otherwise.
    """

    proportion: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The three fields as columns of a DataFrame (one row per proportion)."""
        return pd.DataFrame({name: np.atleast_1d(value)
                             for name, value in self._asdict().items()})


def proportion_ci(events, n, method: str = "clopper-pearson",
                  level: float = 0.95) -> ProportionCI:
    """Proportion ``events / n`` with a two-sided confidence interval.

    Parameters
    ----------
    events : int or array-like of int
        Number of events (successes), ``0 <= events <= n``; NaN means missing.
    n : int or array-like of int
        Number of trials (>= 0); broadcast against ``events``. NaN means missing.
    method : {"clopper-pearson", "wilson"}, default "clopper-pearson"
        ``"clopper-pearson"``: the exact interval from beta quantiles (Clopper and
        Pearson 1934), as R's ``binom.test``; ``"wilson"``: the score interval without
        continuity correction (Wilson 1927), as R's ``prop.test(correct = FALSE)``.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ProportionCI
        NamedTuple ``(proportion, ci_low, ci_high)``; floats for scalar input, arrays of
        the broadcast shape otherwise; ``.to_frame()`` gives a DataFrame.

    Raises
    ------
    ValueError
        On an unknown ``method`` (naming the allowed values), a ``level`` outside (0, 1),
        negative or non-integer counts, or ``events > n``.

    Notes
    -----
    With ``n = 0`` the proportion and interval are NaN (R's ``binom.test`` refuses
    ``n = 0``). With ``events = 0`` the lower limit is exactly 0 and with ``events = n``
    the upper limit exactly 1, for both methods. Clopper-Pearson limits:
    ``Beta(alpha/2; x, n - x + 1)`` and ``Beta(1 - alpha/2; x + 1, n - x)``; Wilson:
    ``(p + z^2/2n +- z sqrt(p(1 - p)/n + z^2/4n^2)) / (1 + z^2/n)``.

    References
    ----------
    Clopper CJ, Pearson ES. Biometrika 1934;26:404-13.
    Wilson EB. J Am Stat Assoc 1927;22:209-12.
    Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion.
    Stat Sci 2001;16:101-33.

    Examples
    --------
    >>> p, low, high = proportion_ci(3, 4)
    >>> round(p, 2), round(low, 4), round(high, 4)
    (0.75, 0.1941, 0.9937)
    """
    # Imported here: scipy.stats costs ~1 s, and modules that only need the clinical
    # constants of helpers.scores (plots, for one) should not pay it.
    from scipy import stats

    if method not in PROPORTION_METHODS:
        raise ValueError(f"method must be one of {PROPORTION_METHODS}, got {method!r}")
    check_probability(level, "level")
    scalar = np.ndim(events) == 0 and np.ndim(n) == 0
    x = _counts(events, "events")
    m = _counts(n, "n")
    x, m = np.broadcast_arrays(x, m)
    if np.any(x > m):
        bad = np.flatnonzero(np.ravel(x > m))[0]
        raise ValueError(f"events must be <= n, got events={np.ravel(x)[bad]:g} > "
                         f"n={np.ravel(m)[bad]:g}")
    alpha = 1.0 - level
    valid = (m > 0) & ~np.isnan(x) & ~np.isnan(m)
    safe_m = np.where(valid, m, 1.0)
    safe_x = np.where(valid, x, 0.0)
    p = safe_x / safe_m
    if method == "clopper-pearson":
        with np.errstate(invalid="ignore"):
            low = np.where(safe_x > 0,
                           stats.beta.ppf(alpha / 2, np.maximum(safe_x, 1e-300),
                                          safe_m - safe_x + 1), 0.0)
            high = np.where(safe_x < safe_m,
                            stats.beta.ppf(1 - alpha / 2, safe_x + 1,
                                           np.maximum(safe_m - safe_x, 1e-300)), 1.0)
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        z2 = z * z
        centre = (p + z2 / (2 * safe_m)) / (1 + z2 / safe_m)
        half = z * np.sqrt(p * (1 - p) / safe_m + z2 / (4 * safe_m**2)) / (1 + z2 / safe_m)
        low = np.where(safe_x > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
        high = np.where(safe_x < safe_m, np.clip(centre + half, 0.0, 1.0), 1.0)
    p, low, high = (np.where(valid, v, np.nan).astype(float) for v in (p, low, high))
    if scalar:
        return ProportionCI(float(p), float(low), float(high))
    return ProportionCI(p, low, high)


def _counts(value, name: str) -> np.ndarray:
    refuse_text(value, name)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric counts, got {value!r}") from None
    finite = array[~np.isnan(array)]
    if np.any(np.isinf(finite)):
        raise ValueError(f"{name} must be finite counts")
    if np.any(finite < 0):
        raise ValueError(f"{name} must be >= 0, got {finite[finite < 0][0]:g}")
    if np.any(finite != np.round(finite)):
        raise ValueError(f"{name} must be whole numbers, got "
                         f"{finite[finite != np.round(finite)][0]:g}")
    return array
