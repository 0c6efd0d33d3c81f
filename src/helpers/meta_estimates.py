"""Random-effects pooling of estimates with known standard errors, as metafor's
``rma(yi, sei = ...)``.

:func:`pool_estimates` pools any per-study estimate (here: each site's mean change from
baseline, ``yi`` = mean change, ``sei`` = SD / sqrt(n)) by common-effect, DerSimonian-Laird
or REML inverse-variance weighting, with Wald (``test="z"``) or
Hartung-Knapp-Sidik-Jonkman (``test="knha"``) inference. The fitting is the one
:func:`helpers.meta.pool_proportions` uses (same estimators, same convergence), without
a transform: its formulas are in docs/methods.md, "Meta-analysis of proportions".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import check_probability, refuse_text
from helpers.formats import format_level
from helpers.meta import METHODS, TESTS, _fit_inverse_variance, _inference

__all__ = ["ESTIMATE_COLUMNS", "PooledEstimates", "pool_estimates"]

#: Columns of :attr:`PooledEstimates.pooled`.
ESTIMATE_COLUMNS = ("method", "test", "k", "estimate", "se", "ci_low", "ci_high", "pi_low",
                    "pi_high", "tau2", "i2", "h2", "q", "q_df", "q_p_value")


@dataclass(frozen=True)
class PooledEstimates:
    """Result of :func:`pool_estimates`.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per study: ``study``, ``yi``, ``sei``, ``ci_low``, ``ci_high`` (Wald, at
        ``level``) and ``weight`` (percent).
    pooled : pandas.DataFrame
        One row, :data:`ESTIMATE_COLUMNS`.
    level : float
        Confidence level of every interval.
    """

    studies: pd.DataFrame
    pooled: pd.DataFrame
    level: float

    def summary(self) -> str:
        """The fit as metafor's ``print(rma(...))`` lays it out."""
        row = self.pooled.iloc[0]
        model = "Fixed-effect model" if row["method"] == "FE" else "Random-effects model"
        estimator = "" if row["method"] == "FE" else f"; tau² estimator: {row['method']}"
        inference = {"z": "Wald z", "knha": "Knapp-Hartung t"}.get(row["test"], row["test"])
        level = format_level(self.level)
        return "\n".join([
            f"{model} (k = {int(row['k'])}{estimator}; {inference})", "",
            f"tau² (between-study variance):           {row['tau2']:.4f}",
            f"I² (heterogeneity / total variability):  {row['i2']:.2f}%", "",
            f"Test for heterogeneity: Q(df = {int(row['q_df'])}) = {row['q']:.4f}, "
            f"p = {row['q_p_value']:.4f}", "",
            f"Pooled estimate: {row['estimate']:.4f} ({level} CI {row['ci_low']:.4f} to "
            f"{row['ci_high']:.4f}; {level} PI {row['pi_low']:.4f} to {row['pi_high']:.4f})"])

    def __str__(self) -> str:
        return self.summary()


def pool_estimates(yi, sei, *, method: str = "REML", test: str = "knha",
                   level: float = 0.95, labels=None) -> PooledEstimates:
    """Pool estimates ``yi`` with standard errors ``sei``, as ``rma(yi, sei = sei)``.

    Parameters
    ----------
    yi : array_like of float
        One estimate per study (here a site's mean change).
    sei : array_like of float
        Their standard errors, all positive.
    method : {"FE", "DL", "REML"}
        Common effect, DerSimonian-Laird, or REML (metafor's Fisher scoring).
    test : {"z", "knha", "t"}
        Wald intervals with the normal quantile, the Hartung-Knapp-Sidik-Jonkman
        interval (t on k - 1 df, standard error rescaled, not truncated), or the t
        quantile alone. The prediction interval uses the same quantile and standard
        error, as metafor's ``predict()``.
    level : float
        Confidence level of all intervals.
    labels : array_like of str, optional
        Study labels; default ``"Study 1"``...

    Returns
    -------
    PooledEstimates

    Raises
    ------
    ValueError
        Text, missing or infinite values, a standard error that is not positive,
        lengths that differ, fewer than 2 studies for ``"knha"``/``"t"``, an unknown
        method or test, or ``level`` outside (0, 1).

    Examples
    --------
    Three sites' mean DAS28 changes with their standard errors:

    >>> res = pool_estimates([-1.2, -0.8, -1.6], [0.2, 0.25, 0.3], method="DL", test="z")
    >>> res.pooled[["k", "estimate", "ci_low", "ci_high", "tau2"]].round(4)
       k  estimate  ci_low  ci_high   tau2
    0  3   -1.1772 -1.5852  -0.7692  0.069
    """
    for values, name in ((yi, "yi"), (sei, "sei")):
        refuse_text(values, name)
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    s = np.atleast_1d(np.asarray(sei, dtype=float))
    if y.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"yi and sei must be one-dimensional and of equal length (got "
                         f"{y.shape} and {s.shape})")
    if not (np.isfinite(y).all() and np.isfinite(s).all()):
        raise ValueError("yi and sei must be finite (a site with fewer than 2 pairs has no "
                         "standard error: leave it out)")
    if (s <= 0).any():
        raise ValueError(f"sei must be positive (got {s[s <= 0].tolist()})")
    if method not in METHODS[:3]:
        raise ValueError(f"method must be one of {METHODS[:3]}, got {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    level = check_probability(level, "level")
    if test != "z" and y.size < 2:
        raise ValueError(f"test={test!r} needs at least 2 studies (got {y.size})")
    labels = ([f"Study {i}" for i in range(1, y.size + 1)] if labels is None
              else [str(label) for label in labels])
    if len(labels) != y.size:
        raise ValueError(f"labels must have one entry per study ({y.size}), got {len(labels)}")
    vi = s ** 2
    fit = _fit_inverse_variance(y, vi, method)
    fit.update(_inference(y, vi, fit, test, level))
    crit, se = fit["crit"], fit["se_used"]
    pi_half = crit * math.sqrt(se ** 2 + fit["tau2"])
    z = float(_inference(y, vi, fit, "z", level)["crit"])
    studies = pd.DataFrame({"study": labels, "yi": y, "sei": s, "ci_low": y - z * s,
                            "ci_high": y + z * s, "weight": fit["weight"]})
    pooled = pd.DataFrame([{
        "method": method, "test": test, "k": int(y.size), "estimate": fit["mu"], "se": se,
        "ci_low": fit["mu"] - crit * se, "ci_high": fit["mu"] + crit * se,
        "pi_low": fit["mu"] - pi_half, "pi_high": fit["mu"] + pi_half,
        "tau2": float(fit["tau2"]), "i2": float(fit["i2"]), "h2": float(fit["h2"]),
        "q": float(fit["q"]), "q_df": int(fit["q_df"]), "q_p_value": float(fit["q_p"]),
    }], columns=list(ESTIMATE_COLUMNS))
    studies.attrs["level"] = pooled.attrs["level"] = level
    return PooledEstimates(studies=studies, pooled=pooled, level=level)
