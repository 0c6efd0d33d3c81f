"""Meta-analysis of single proportions (and of estimates with known standard errors),
matched to R's metafor.

:func:`pool_proportions` pools ``events / n`` across studies (the paper's review table:
Maicas 2024, Tani 2024, Ceccarelli 2025, optionally with the case series itself) on the
logit or Freeman-Tukey double-arcsine scale, by fixed-effect, DerSimonian-Laird or REML
inverse-variance weighting, or by a binomial-normal GLMM fitted by maximum likelihood.
Every number follows the formula metafor uses (``escalc``, ``rma``, ``rma.glmm``,
``predict``, ``weights``), and ``tests/test_meta.py`` holds metafor's output for them.

The work is split like scipy's tests: :func:`_validate` checks the input, the ``_fit_*``
functions compute, :func:`_assemble` builds the result.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from helpers.errors import check_probability, refuse_text
from helpers.formats import format_level
from helpers.proportions import proportion_ci

__all__ = [
    "BAYES_COLUMNS",
    "BayesianPooledProportions",
    "ESTIMATE_COLUMNS",
    "PooledEstimates",
    "ContinuityCorrectionWarning",
    "METHODS",
    "POOLED_COLUMNS",
    "PooledProportions",
    "LEAVE_ONE_OUT_COLUMNS",
    "STUDY_COLUMNS",
    "TESTS",
    "TRANSFORMS",
    "leave_one_out",
    "pool_estimates",
    "pool_proportions",
    "pool_proportions_bayes",
]

TRANSFORMS = ("logit", "ft")
METHODS = ("FE", "DL", "REML", "GLMM")
# metafor's rma(test = ...): Wald "z", Hartung-Knapp-Sidik-Jonkman "knha", plain "t".
TESTS = ("z", "knha", "t")

# Column contract of reports/tables/meta_pooled.csv (docs/architecture.md, "Contracts").
POOLED_COLUMNS = (
    "analysis", "transform", "method", "test", "k", "events", "n", "estimate", "ci_low",
    "ci_high", "pi_low", "pi_high", "tau2", "tau2_ci_low", "tau2_ci_high", "i2",
    "i2_ci_low", "i2_ci_high", "q", "q_df", "q_p_value", "h2", "q_wald", "q_wald_p_value",
)
LEAVE_ONE_OUT_COLUMNS = (
    "omitted", "k", "events", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "i2", "q", "q_p_value", "h2",
)
STUDY_COLUMNS = (
    "study", "events", "n", "observed", "yi", "vi", "correction", "proportion", "ci_low",
    "ci_high", "cp_low", "cp_high", "weight",
)

# metafor's escalc(measure="PLO") default: add=1/2, to="only0".
_LOGIT_ADD = 0.5
# Fisher scoring for REML: metafor's algorithm, with a tighter threshold than its
# default 1e-5 (which leaves tau^2 about 1e-6 short of the maximum), then polished to the
# floating-point limit: written at 12 significant digits (helpers.io), tau^2 must not
# depend on where the iteration started or stopped, so steps continue while they exceed
# a relative 1e-15 (a few ulps), at most _REML_POLISH more times.
_REML_THRESHOLD = 1e-12
_REML_MAXITER = 10_000
_REML_RELATIVE_TOL = 1e-15
_REML_POLISH = 50
# rma.glmm's default nAGQ: adaptive Gauss-Hermite quadrature with 7 nodes, as lme4::glmer.
_GLMM_NODES = 7
# R's glm.control() defaults, which rma.glmm's saturated logistic model is fitted with
# (its Wald-type heterogeneity test depends on where IRLS stops for a study with 0 or n
# events, whose estimate has no finite maximum).
_GLM_EPSILON = 1e-8
_GLM_MAXIT = 25
# R's logit link (C_logit_linkinv, C_logit_mu_eta) caps |eta| at 30.
_GLM_THRESH = 30.0


class ContinuityCorrectionWarning(UserWarning):
    """1/2 was added to the cells of studies with 0 or n events (logit transform)."""


@dataclass(frozen=True)
class PooledProportions:
    """Result of :func:`pool_proportions`.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per study, columns :data:`STUDY_COLUMNS` (described in
        :func:`pool_proportions`).
    pooled : pandas.DataFrame
        One row, exactly the columns :data:`POOLED_COLUMNS` of ``meta_pooled.csv``.
    mu, se : float
        Pooled estimate and its standard error on the transformed scale (for
        ``test="knha"``, the Knapp-Hartung-rescaled standard error).
    tau2 : float
        Between-study variance on the transformed scale (0 for ``"FE"``).
    h2 : float
        H^2 as metafor reports it (``Q / df`` for FE, ``tau2 / vt + 1`` otherwise).
    level : float
        Confidence level of every interval.
    """

    studies: pd.DataFrame
    pooled: pd.DataFrame
    mu: float
    se: float
    tau2: float
    h2: float
    level: float

    def summary(self) -> str:
        """The fit in words and numbers, as metafor's ``print(rma(...))`` lays it out:
        the model, heterogeneity (tau², I², H², Q) and the pooled proportion with its
        confidence and prediction intervals, back-transformed."""
        row = self.pooled.iloc[0]
        model = "Fixed-effect model" if row["method"] == "FE" else "Random-effects model"
        estimator = "" if row["method"] == "FE" else f"; tau² estimator: {row['method']}"
        inference = {"z": "Wald z", "knha": "Knapp-Hartung t"}.get(row["test"], row["test"])
        level = format_level(self.level)
        lines = [f"{model} (k = {int(row['k'])}{estimator}; {row['transform']} scale; "
                 f"{inference})", "",
                 f"tau² (between-study variance):           {row['tau2']:.4f}",
                 f"I² (heterogeneity / total variability):  {row['i2']:.2f}%",
                 f"H² (total / sampling variability):       {row['h2']:.2f}", "",
                 f"Test for heterogeneity: Q(df = {int(row['q_df'])}) = {row['q']:.4f}, "
                 f"p = {row['q_p_value']:.4f}", "",
                 f"Pooled proportion: {row['estimate']:.4f} ({level} CI {row['ci_low']:.4f} "
                 f"to {row['ci_high']:.4f}"
                 + ("" if pd.isna(row["pi_low"]) else
                    f"; {level} PI {row['pi_low']:.4f} to {row['pi_high']:.4f}") + ")",
                 f"Events: {int(row['events'])} of {int(row['n'])} patients"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """In Jupyter: the summary, then the studies with their weights."""
        import html

        shown = self.studies[[c for c in ("study", "events", "n", "proportion", "ci_low",
                                          "ci_high", "weight") if c in self.studies]]
        return (f"<pre>{html.escape(self.summary())}</pre>"
                + shown.to_html(index=False, float_format=lambda x: f"{x:.3f}"))

    def summary_frame(self) -> pd.DataFrame:
        """One row per study plus the pooled row, ready for a forest plot.

        Returns
        -------
        pandas.DataFrame
            Columns ``row`` (``"study"`` or ``"pooled"``), ``study`` (the study label, or
            the analysis label on the pooled row), ``events``, ``n``, ``estimate``,
            ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high`` (NaN on study rows) and
            ``weight`` (percent; 100 on the pooled row). Study estimates are the
            back-transformed ``yi`` (the ``proportion`` column of ``studies``).
        """
        studies = self.studies
        pooled = self.pooled.iloc[0]
        rows = pd.DataFrame(
            {
                "row": "study",
                "study": studies["study"],
                "events": studies["events"],
                "n": studies["n"],
                "estimate": studies["proportion"],
                "ci_low": studies["ci_low"],
                "ci_high": studies["ci_high"],
                "pi_low": np.nan,
                "pi_high": np.nan,
                "weight": studies["weight"],
            }
        )
        total = pd.DataFrame(
            {
                "row": ["pooled"],
                "study": [pooled["analysis"]],
                "events": [pooled["events"]],
                "n": [pooled["n"]],
                "estimate": [pooled["estimate"]],
                "ci_low": [pooled["ci_low"]],
                "ci_high": [pooled["ci_high"]],
                "pi_low": [pooled["pi_low"]],
                "pi_high": [pooled["pi_high"]],
                "weight": [100.0],
            }
        )
        return pd.concat([rows, total], ignore_index=True)


def pool_proportions(
    events,
    n,
    *,
    transform: str = "logit",
    method: str = "REML",
    level: float = 0.95,
    labels=None,
    analysis: str = "pooled",
    tau2_init: float | None = None,
    test: str = "z",
) -> PooledProportions:
    """Pool single proportions ``events / n`` across studies, as metafor does.

    Parameters
    ----------
    events : int or array_like of int
        Number of patients with the outcome in each study (``xi`` in metafor).
    n : int or array_like of int
        Number of patients in each study (``ni``); same length as ``events``.
    transform : {"logit", "ft"}
        Scale of the analysis: log odds (``escalc(measure="PLO")``) or the Freeman-Tukey
        double arcsine (``escalc(measure="PFT")``).
    method : {"FE", "DL", "REML", "GLMM"}
        Fixed (common) effect, DerSimonian-Laird or REML random effects
        (``rma(method=...)``), or the binomial-normal GLMM fitted by maximum likelihood
        (``rma.glmm(measure="PLO", method="ML")``, logit transform only).
    level : float
        Confidence level of all intervals, in (0, 1).
    labels : array_like of str, optional
        Study labels; defaults to ``"Study 1"``, ``"Study 2"``, ...
    analysis : str
        Label stored in the ``analysis`` column of the pooled row.
    test : {"z", "knha", "t"}
        Inference on the pooled estimate, as metafor's ``rma(test = ...)`` with
        ``predict()``: ``"z"``, Wald intervals with the normal quantile (metafor's
        default); ``"knha"``, the Hartung-Knapp-Sidik-Jonkman interval (the standard
        error rescaled by the weighted residual variance, t quantile with k - 1 df),
        which Cochrane recommends with few studies; ``"t"``, the unscaled standard
        error with the t quantile. The prediction interval uses the same quantile and
        standard error. ``"GLMM"`` supports ``"z"`` only.
    tau2_init : float, optional
        Starting value of ``tau2`` for ``"REML"`` (default: the Hedges estimate) and
        ``"GLMM"`` (default: the best of ``tau`` = 0.1, 0.5 and 1), as metafor's
        ``control = list(tau2.init = ...)``. The result does not depend on it beyond the
        precision policy's 12 significant digits (tested).

    Returns
    -------
    PooledProportions
        ``.studies``, one row per study:

        - ``study``, ``events``, ``n``: as given; ``observed``: ``events / n``;
        - ``yi``, ``vi``: transformed proportion and its sampling variance (escalc);
        - ``correction``: what was added to each cell before the logit (0 or 0.5);
        - ``proportion``, ``ci_low``, ``ci_high``: ``yi`` and its Wald interval
          ``yi -/+ z sqrt(vi)`` back-transformed, as ``summary.escalc(transf=...)``
          gives them (for ``"ft"``, with the study's own ``n``);
        - ``cp_low``, ``cp_high``: exact Clopper-Pearson interval of ``events / n``;
        - ``weight``: percent weight in the pooled estimate (metafor ``weights()``;
          NaN for ``"GLMM"``, which has no inverse-variance weights).

        ``.pooled``, one row with the ``meta_pooled.csv`` columns:

        - ``analysis``, ``transform``, ``method``, ``test``; ``k``, ``events``, ``n``
          (totals);
        - ``estimate``, ``ci_low``, ``ci_high``: pooled proportion and confidence
          interval, back-transformed;
        - ``pi_low``, ``pi_high``: prediction interval ``mu -/+ z sqrt(se^2 + tau2)``,
          back-transformed (equal to the confidence interval for ``"FE"``);
        - ``tau2``: between-study variance on the transformed scale, and
          ``tau2_ci_low``, ``tau2_ci_high``, its Q-profile confidence interval
          (metafor's ``confint``; NaN for ``"FE"``, ``"GLMM"`` and a single study);
        - ``i2``: I^2 as a **percentage** (0-100), as metafor prints it, and
          ``i2_ci_low``, ``i2_ci_high`` from the tau2 interval;
        - ``q``, ``q_df``, ``q_p_value``: Cochran's Q test of heterogeneity (for
          ``"GLMM"``, the likelihood-ratio test of the saturated against the
          common-effect logistic model, metafor's ``QE.LRT``);
        - ``h2``: H^2 as metafor reports it (``Q / df`` for FE, ``tau2 / vt + 1``
          otherwise);
        - ``q_wald``, ``q_wald_p_value``: for ``"GLMM"``, the Wald-type test of the
          saturated logistic model (metafor's ``QE.Wld``, ``QEp.Wld``); NaN otherwise,
          where ``q`` is that Wald-type statistic already.

        Also ``.mu``, ``.se``, ``.tau2``, ``.h2``, ``.level`` and ``.summary_frame()``.

    Raises
    ------
    ValueError
        On lengths that differ, non-integer, negative or missing counts, ``events > n``,
        ``n < 1``, an unknown ``transform`` or ``method``, ``level`` outside (0, 1), or,
        for ``method="GLMM"``: ``transform="ft"``, a single study, or 0 events in every
        study (or ``n`` in every study), which metafor's ``rma.glmm`` cannot fit either.

    Warns
    -----
    ContinuityCorrectionWarning
        With ``transform="logit"`` and a study with 0 or ``n`` events, whose cells get
        1/2 added (inverse-variance methods only; the GLMM needs no correction).

    Notes
    -----
    Conventions are metafor's (3.8): ``escalc`` for the study estimates, inverse-variance
    weights ``1/(vi + tau2)``, DL or REML (Fisher scoring, run to a relative 1e-15) for
    ``tau2``, the Q-profile interval for ``tau2``, and ``predict()``'s intervals. The
    formulas, the GLMM's fitting, and the references: docs/methods.md, "Meta-analysis of
    proportions".

    Examples
    --------
    The review table of Cassone et al. 2025 plus its case series (4/4 responders):

    >>> res = pool_proportions(
    ...     [2, 13, 3, 4], [3, 25, 3, 4], transform="ft", method="REML",
    ...     labels=["Maicas 2024", "Tani 2024", "Ceccarelli 2025", "Case series"],
    ... )
    >>> res.pooled[["k", "estimate", "ci_low", "ci_high", "tau2", "i2"]].round(3)
       k  estimate  ci_low  ci_high   tau2      i2
    0  4     0.795   0.451      1.0  0.047  53.359
    """
    x, m, transform, method, level, labels = _validate(
        events, n, transform, method, level, labels
    )
    yi, vi, add = _escalc(x, m, transform)
    if transform == "logit" and method != "GLMM" and np.any(add > 0):
        warnings.warn(
            f"added {_LOGIT_ADD} to the cells of {int(np.sum(add > 0))} of {x.size} "
            "studies with 0 or n events before the logit (metafor escalc add=1/2, "
            "to='only0'); transform='ft' or method='GLMM' needs no correction",
            ContinuityCorrectionWarning,
            stacklevel=2,
        )
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS} (got {test!r})")
    if method == "GLMM" and test != "z":
        raise ValueError(f"method='GLMM' supports test='z' only (got {test!r})")
    if test != "z" and x.size < 2:
        raise ValueError(f"test={test!r} needs at least 2 studies (got {x.size})")
    if tau2_init is not None and not (np.isfinite(tau2_init) and tau2_init >= 0):
        raise ValueError(f"tau2_init must be a finite number >= 0 (got {tau2_init!r})")
    if method == "GLMM":
        fit = _fit_glmm(x, m, vi, tau2_init)
    else:
        fit = _fit_inverse_variance(yi, vi, method, tau2_init)
    fit.update(_inference(yi, vi, fit, test, level))
    fit["tau2_ci"] = (_q_profile(yi, vi, level) if method in ("DL", "REML") and x.size > 1
                      else (math.nan, math.nan))
    return _assemble(x, m, yi, vi, add, fit, transform, method, level, labels, analysis,
                     test)


def _inference(yi, vi, fit, test, level) -> dict:
    """Critical value and standard error of the pooled estimate for ``test``."""
    alpha = 1 - level
    if test == "z":
        return {"crit": float(stats.norm.isf(alpha / 2)), "se_used": fit["se"]}
    k = yi.size
    crit = float(stats.t.isf(alpha / 2, k - 1))
    if test == "t":
        return {"crit": crit, "se_used": fit["se"]}
    w = 1 / (vi + fit["tau2"])
    s2w = float((w * (yi - fit["mu"]) ** 2).sum() / (k - 1))
    return {"crit": crit, "se_used": fit["se"] * math.sqrt(s2w)}


def _generalised_q(yi, vi, tau2) -> float:
    w = 1 / (vi + tau2)
    mu = (w * yi).sum() / w.sum()
    return float((w * (yi - mu) ** 2).sum())


def _q_profile(yi, vi, level) -> tuple[float, float]:
    """Q-profile confidence interval of tau2 (metafor's confint.rma.uni)."""
    k = yi.size
    alpha = 1 - level
    q0 = _generalised_q(yi, vi, 0.0)

    def bound(target):
        if q0 <= target:
            return 0.0
        high = max(1.0, 10 * float(np.var(yi)))
        while _generalised_q(yi, vi, high) > target:
            high *= 10
        return float(optimize.brentq(lambda t: _generalised_q(yi, vi, t) - target, 0.0,
                                     high, xtol=1e-300, rtol=1e-15, maxiter=500))

    return (bound(float(stats.chi2.isf(alpha / 2, k - 1))),
            bound(float(stats.chi2.ppf(alpha / 2, k - 1))))


def leave_one_out(events, n, *, transform: str = "logit", method: str = "REML",
                  test: str = "z", level: float = 0.95, labels=None) -> pd.DataFrame:
    """Pool the studies again without each one in turn (metafor's ``leave1out``).

    Parameters
    ----------
    events, n, transform, method, test, level, labels
        As for :func:`pool_proportions` (at least 2 studies; 3 for ``test="knha"`` or
        ``"t"``, which need 2 studies left).

    Returns
    -------
    DataFrame
        One row per omitted study, :data:`LEAVE_ONE_OUT_COLUMNS`: ``omitted`` (its
        label), ``k``, ``events``, ``n`` of the studies left, and their pooled
        ``estimate``, ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high``, ``tau2``, ``i2``
        (percent), ``q``, ``q_p_value`` and ``h2``, back-transformed as
        :func:`pool_proportions` does (Freeman-Tukey with the harmonic mean of the
        studies left).

    Examples
    --------
    >>> table = leave_one_out([2, 13, 3, 4], [3, 25, 3, 4], method="DL",
    ...                       labels=["Maicas", "Tani", "Ceccarelli", "Case series"])
    >>> table[["omitted", "k", "estimate"]].round(3)
           omitted  k  estimate
    0       Maicas  3     0.692
    1         Tani  3     0.815
    2   Ceccarelli  3     0.568
    3  Case series  3     0.561
    """
    x, m, *_, labels = _validate(events, n, transform, method, level, labels)
    needed = 3 if test != "z" else 2
    if x.size < needed:
        raise ValueError(f"leave-one-out with test={test!r} needs at least {needed} "
                         f"studies (got {x.size})")
    rows = []
    for i in range(x.size):
        keep = np.arange(x.size) != i
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ContinuityCorrectionWarning)
            pooled = pool_proportions(x[keep], m[keep], transform=transform, method=method,
                                      level=level, test=test,
                                      labels=[labels[j] for j in np.flatnonzero(keep)]
                                      ).pooled.iloc[0]
        rows.append({"omitted": labels[i], **pooled.to_dict()})
    return pd.DataFrame(rows, columns=list(LEAVE_ONE_OUT_COLUMNS))


# --- validation ----------------------------------------------------------------------


def _as_counts(values, name: str) -> np.ndarray:
    refuse_text(values, name)
    array = np.atleast_1d(np.asarray(values, dtype=object))
    if array.ndim != 1:
        raise ValueError(f"{name} must be a scalar or one-dimensional (got shape {array.shape})")
    try:
        numbers = array.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be whole numbers (got {array.tolist()})") from None
    if not np.all(np.isfinite(numbers)):
        raise ValueError(f"{name} must be finite whole numbers (got {array.tolist()})")
    if np.any(numbers != np.round(numbers)):
        raise ValueError(f"{name} must be whole numbers (got {array.tolist()})")
    if np.any(numbers < 0):
        raise ValueError(f"{name} must be >= 0 (got {array.tolist()})")
    return numbers


def _validate(events, n, transform, method, level, labels):
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS} (got {transform!r})")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS} (got {method!r})")
    if method == "GLMM" and transform != "logit":
        raise ValueError(
            f"method='GLMM' is a logistic model: transform must be 'logit' (got {transform!r})"
        )
    check_probability(level, "level")
    x = _as_counts(events, "events")
    m = _as_counts(n, "n")
    if x.size != m.size:
        raise ValueError(
            f"events and n must have the same length (got {x.size} and {m.size})"
        )
    if x.size == 0:
        raise ValueError("events and n must hold at least one study (got none)")
    if np.any(m < 1):
        raise ValueError(f"n must be >= 1 (got {m.tolist()})")
    if np.any(x > m):
        bad = np.flatnonzero(x > m)
        raise ValueError(
            f"events must be <= n (got events={x[bad].tolist()} > n={m[bad].tolist()} "
            f"at position {bad.tolist()})"
        )
    if method == "GLMM":
        # rma.glmm cannot fit these either: one study leaves tau unidentified, and with
        # no events (or only events) anywhere the likelihood has no finite maximum.
        if x.size < 2:
            raise ValueError(f"method='GLMM' needs at least 2 studies (got {x.size})")
        if np.all(x == 0) or np.all(x == m):
            raise ValueError(
                "method='GLMM' has no finite estimate when every study has 0 events or "
                "every study has n events; use an inverse-variance method"
            )
    if labels is None:
        labels = [f"Study {i + 1}" for i in range(x.size)]
    else:
        labels = [str(label) for label in np.atleast_1d(np.asarray(labels, dtype=object))]
        if len(labels) != x.size:
            raise ValueError(
                f"labels must have one entry per study (got {len(labels)} for {x.size})"
            )
    return x, m, transform, method, float(level), labels


# --- transforms ----------------------------------------------------------------------


def _escalc(x, m, transform):
    """Return ``yi, vi, add`` as ``escalc(measure="PLO"/"PFT")`` with its defaults."""
    if transform == "logit":
        # to="only0": only studies with a zero cell (0 or n events) are corrected.
        add = np.where((x == 0) | (x == m), _LOGIT_ADD, 0.0)
        a = x + add
        b = m - x + add
        return np.log(a / b), 1 / a + 1 / b, add
    yi = _pft(x / m, m)
    return yi, 1 / (4 * m + 2), np.zeros_like(x)


def _pft(p, m):
    """metafor ``transf.pft``: Freeman-Tukey double arcsine of ``x = p * m`` events."""
    x = p * m
    return 0.5 * (np.arcsin(np.sqrt(x / (m + 1))) + np.arcsin(np.sqrt((x + 1) / (m + 1))))


def _ipft(y, m):
    """metafor ``transf.ipft`` (Miller 1978), clipped to [0, 1] beyond the range."""
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * y)
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / m) ** 2))
    z = np.where(y > _pft(1.0, m), 1.0, z)
    return np.where(y < _pft(0.0, m), 0.0, z)


def _back(y, transform, m):
    """Back-transform ``y`` to a proportion; ``m`` is the n for Miller's inversion."""
    if transform == "logit":
        return special.expit(y)
    return _ipft(y, m)


# --- inverse-variance models ---------------------------------------------------------


def _typical_variance_terms(vi):
    w = 1 / vi
    return w, w.sum() - (w**2).sum() / w.sum()


def _reml_loglik(yi, vi, tau2):
    w = 1 / (vi + tau2)
    mu = (w * yi).sum() / w.sum()
    return -0.5 * (
        (yi.size - 1) * math.log(2 * math.pi)
        + np.log(vi + tau2).sum()
        + math.log(w.sum())
        + (w * (yi - mu) ** 2).sum()
    )


def _reml_fisher_step(yi, vi, tau2):
    """One Fisher-scoring step for the REML tau^2 (metafor's rma.uni update)."""
    w = 1 / (vi + tau2)
    sw, sw2, sw3 = w.sum(), (w**2).sum(), (w**3).sum()
    py = w * (yi - (w * yi).sum() / sw)  # P y, with P = W - w w' / sum(w)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2 * sw3 / sw + sw2**2 / sw**2
    return ((py**2).sum() - tr_p) / tr_pp


def _tau2_reml(yi, vi, start=None):
    """REML tau^2 by metafor's Fisher scoring (rma.uni, intercept-only model).

    ``start`` overrides metafor's Hedges starting value (tests use it to show that the
    written result does not depend on it).
    """
    k = yi.size
    # Hedges (HE) starting value, truncated at 0, as metafor.
    tau2 = max(0.0, (((yi - yi.mean()) ** 2).sum() - vi.sum() * (k - 1) / k) / (k - 1))
    if start is not None:
        tau2 = float(start)
    for _ in range(_REML_MAXITER):
        step = _reml_fisher_step(yi, vi, tau2)
        if tau2 == 0 and step <= 0:
            break  # at the boundary with the score pointing below it: tau2 stays 0
        while tau2 + step < 0:
            step /= 2
        tau2, old = tau2 + step, tau2
        if abs(tau2 - old) <= _REML_THRESHOLD:
            for _ in range(_REML_POLISH):
                step = _reml_fisher_step(yi, vi, tau2)
                if tau2 + step <= 0 or abs(step) <= _REML_RELATIVE_TOL * tau2:
                    break
                tau2 += step
            break
    else:
        # Fisher scoring is reliable for one variance component; if it ever stalls,
        # maximise the restricted likelihood directly instead of giving up.
        warnings.warn(
            "REML Fisher scoring did not converge; maximising the restricted "
            "log-likelihood with a bounded optimiser instead",
            RuntimeWarning,
            stacklevel=3,
        )
        upper = 10 * max(float(np.var(yi)) + float(vi.max()), 1.0)
        tau2 = optimize.minimize_scalar(
            lambda t: -_reml_loglik(yi, vi, t),
            bounds=(0.0, upper),
            method="bounded",
            options={"xatol": 1e-12},
        ).x
    # metafor's ll0check: a boundary maximum beats a stuck interior one.
    if tau2 > _REML_THRESHOLD and _reml_loglik(yi, vi, 0.0) - _reml_loglik(yi, vi, tau2) > (
        np.finfo(float).eps ** 0.25
    ):
        tau2 = 0.0
    # A maximum on the boundary is approached from above ever more slowly (the steps
    # shrink with tau2), so where it stops depends on where it started: when the score
    # at 0 points below the boundary and 0 is as likely to rounding, the answer is 0.
    ll_tau2 = _reml_loglik(yi, vi, tau2)
    if 0 < tau2 and _reml_fisher_step(yi, vi, 0.0) <= 0 and (
        _reml_loglik(yi, vi, 0.0) >= ll_tau2 - 1e-12 * max(1.0, abs(ll_tau2))
    ):
        tau2 = 0.0
    return max(0.0, float(tau2))


def _heterogeneity(yi, vi):
    """Cochran's Q with its df and p-value, and the typical variance ``vt``."""
    k = yi.size
    if k == 1:
        return 0.0, 0, 1.0, 0.0
    q = max(0.0, _generalised_q(yi, vi, 0.0))  # Cochran's Q is the generalised Q at 0
    return q, k - 1, float(stats.chi2.sf(q, k - 1)), (k - 1) / _typical_variance_terms(vi)[1]


def _fit_inverse_variance(yi, vi, method, tau2_init=None):
    q, q_df, q_p, vt = _heterogeneity(yi, vi)
    k = yi.size
    if method == "FE" or k == 1:
        tau2 = 0.0
    elif method == "DL":
        tau2 = max(0.0, (q - q_df) / _typical_variance_terms(vi)[1])
    else:
        tau2 = _tau2_reml(yi, vi, tau2_init)
    w = 1 / (vi + tau2)
    mu = float((w * yi).sum() / w.sum())
    se = float(1 / math.sqrt(w.sum()))
    if k == 1:
        i2, h2 = 0.0, 1.0
    elif method == "FE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    return dict(
        mu=mu, se=se, tau2=tau2, i2=i2, h2=h2, q=q, q_df=q_df, q_p=q_p,
        weight=100 * w / w.sum(), vt=vt,
    )


# --- binomial-normal GLMM ------------------------------------------------------------


def _softplus(z):
    """log(1 + exp(z)), stable, and analytic so that complex steps pass through it."""
    r = np.maximum(np.real(z), 0.0)
    return r + np.log(np.exp(-r) + np.exp(z - r))


def _binomial_loglik(x, m, eta):
    # x log p + (m - x) log(1 - p) with p = expit(eta), stable for large |eta|.
    return -x * _softplus(-eta) - (m - x) * _softplus(eta)


def _glmm_loglik(params, x, m, nodes, weights):
    """Marginal log-likelihood by adaptive Gauss-Hermite quadrature (lme4's nAGQ).

    Each study's random effect ``b`` (standardised, ``u = tau b``) is integrated against
    N(0, 1): centred at the mode of the integrand and scaled by its curvature there
    (Liu & Pierce 1994), which is what ``glmer(nAGQ > 1)`` evaluates. Written with
    analytic operations only, so ``params`` may carry a complex step (the gradient in
    :func:`_glmm_gradient`); the value is complex then.
    """
    mu, tau = params[0], params[1]
    tau = -tau if np.real(tau) < 0 else tau
    # Conditional modes by Newton's method on h(b) = loglik(mu + tau b) - b^2 / 2.
    b = np.zeros(x.shape, dtype=np.result_type(mu, tau, float))
    for _ in range(100):
        p = 1 / (1 + np.exp(-(mu + tau * b)))
        grad = tau * (x - m * p) - b
        hess = tau**2 * m * p * (1 - p) + 1
        step = grad / hess
        b = b + step
        if np.max(np.abs(step)) < 1e-13:
            break
    p = 1 / (1 + np.exp(-(mu + tau * b)))
    scale = 1 / np.sqrt(tau**2 * m * p * (1 - p) + 1)
    points = b[:, None] + scale[:, None] * nodes[None, :]
    terms = (_binomial_loglik(x[:, None], m[:, None], mu + tau * points) - points**2 / 2
             + nodes[None, :] ** 2 / 2 + np.log(weights)[None, :])
    top = np.max(np.real(terms), axis=1)  # log-sum-exp, shifted by the real maximum
    log_integral = np.log(scale) + top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    log_choose = special.gammaln(m + 1) - special.gammaln(x + 1) - special.gammaln(m - x + 1)
    return (log_choose + log_integral).sum()


# Complex-step differentiation (Squire & Trapp 1998): f'(x) = Im f(x + ih) / h has no
# cancellation, so the gradient is exact to rounding for any tiny h.
_COMPLEX_STEP = 1e-30


def _glmm_gradient(params, x, m, nodes, weights):
    """Exact gradient of the marginal log-likelihood in ``(mu, tau)``."""
    gradient = np.empty(2)
    for j in range(2):
        shifted = np.asarray(params, dtype=complex)
        shifted[j] += 1j * _COMPLEX_STEP
        gradient[j] = np.imag(_glmm_loglik(shifted, x, m, nodes, weights)) / _COMPLEX_STEP
    return gradient


def _glmm_hessian(params, x, m, nodes, weights, h=1e-3):
    """Hessian by Richardson-extrapolated central differences of the exact gradient.

    The error is O(h^4) (about 1e-12 here) and rounding contributes about eps / h, so
    the result carries some 12 correct digits, unlike differences of the likelihood
    itself (about 8).
    """
    params = np.asarray(params, dtype=float)

    def central(step):
        columns = []
        for j in range(2):
            e = np.zeros(2)
            e[j] = step
            columns.append((_glmm_gradient(params + e, x, m, nodes, weights)
                            - _glmm_gradient(params - e, x, m, nodes, weights)) / (2 * step))
        return np.column_stack(columns)

    hessian = (4 * central(h / 2) - central(h)) / 3
    return (hessian + hessian.T) / 2


def _fit_glmm(x, m, vi, tau2_init=None):
    nodes, weights = special.roots_hermitenorm(_GLMM_NODES)
    weights = weights / weights.sum()  # probabilists' rule, weights of N(0, 1)

    def negll(params):
        return -float(np.real(_glmm_loglik(params, x, m, nodes, weights)))

    pooled = x.sum() / m.sum()
    start_mu = special.logit(np.clip(pooled, 0.5 / m.sum(), 1 - 0.5 / m.sum()))
    best = None
    # A few starting values for tau guard against the flat likelihood of tiny k.
    starts = (0.1, 0.5, 1.0) if tau2_init is None else (math.sqrt(tau2_init),)
    for start_tau in starts:
        fit = optimize.minimize(
            negll, x0=[start_mu, start_tau], method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20_000},
        )
        if best is None or fit.fun < best.fun:
            best = fit
    mu, tau = float(best.x[0]), abs(float(best.x[1]))
    # Compare with the boundary tau = 0: the common-effect logistic model, whose maximum
    # is the pooled proportion's logit (finite: _validate rules out 0 or n everywhere).
    mu0 = float(special.logit(pooled))
    if negll([mu0, 0.0]) <= best.fun + 1e-12:
        mu, tau = mu0, 0.0
    else:
        mu, tau = _glmm_newton(np.array([mu, tau]), x, m, nodes, weights)
    se = _glmm_se(x, m, nodes, weights, mu, tau)
    tau2 = tau**2
    k = x.size  # >= 2, checked in _validate
    q = _saturated_lrt(x, m)
    q_wald = _saturated_wald(x, m)
    # rma.glmm: I^2 and H^2 from tau2 and the escalc variances' typical value.
    vt = (k - 1) / _typical_variance_terms(vi)[1]
    return dict(
        mu=mu, se=se, tau2=tau2, i2=100 * tau2 / (vt + tau2), h2=tau2 / vt + 1,
        q=q, q_df=k - 1, q_p=float(stats.chi2.sf(q, k - 1)), weight=np.full(k, np.nan),
        q_wald=q_wald, q_wald_p=float(stats.chi2.sf(q_wald, k - 1)),
    )


def _glmm_newton(params, x, m, nodes, weights, maxiter=20):
    """Polish an interior maximum with Newton's method on the exact gradient.

    Nelder-Mead, like any method that compares likelihood values, cannot place the
    maximum closer than about sqrt(eps) (1e-8): the likelihood is flat there to
    rounding. The gradient is not, so Newton steps on it converge to where it vanishes,
    whatever the start (a relative 1e-15).
    """
    for _ in range(maxiter):
        step = np.linalg.solve(_glmm_hessian(params, x, m, nodes, weights),
                               _glmm_gradient(params, x, m, nodes, weights))
        params = params - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(np.abs(params), 1.0)):
            break
    return float(params[0]), abs(float(params[1]))


def _glmm_se(x, m, nodes, weights, mu, tau):
    """SE of mu from the observed information of (tau, mu), as lme4's vcov()."""
    if tau == 0:
        # At the boundary the information of mu alone (tau fixed at 0) is used: that of
        # the common-effect logistic model, sum(n) p (1 - p).
        p = special.expit(mu)
        return float(1 / math.sqrt(m.sum() * p * (1 - p)))
    information = -_glmm_hessian(np.array([mu, tau]), x, m, nodes, weights)
    return float(math.sqrt(np.linalg.inv(information)[0, 0]))


def _saturated_lrt(x, m):
    """LRT of one proportion per study against a common one (metafor QE.LRT)."""
    pooled = x.sum() / m.sum()
    observed = x / m
    saturated = special.xlogy(x, observed) + special.xlogy(m - x, 1 - observed)
    common = special.xlogy(x, pooled) + special.xlogy(m - x, 1 - pooled)
    return max(0.0, float(2 * (saturated - common).sum()))


def _saturated_wald(x, m):
    """Wald-type test that every study has the same proportion (metafor ``QE.Wld``).

    rma.glmm fits the saturated logistic model (an intercept and one coefficient per
    further study) with R's ``glm`` and tests the study coefficients jointly. The model
    is saturated, so each iteratively reweighted least squares step sets every study's
    logit to its working response: the fit is replayed here as ``glm.fit`` runs it (start
    ``(x + 0.5) / (n + 1)``, R's logit link capped at |eta| = 30, stop when the deviance
    changes by less than a relative 1e-8, at most 25 steps), so that a study with 0 or n
    events, whose logit has no finite maximum, contributes what it contributes in R. The
    statistic is the weighted sum of squares of the logits about their weighted mean,
    with the weights of the last step, as ``vcov(glm)`` gives them.
    """
    y = x / m

    def linkinv(eta):
        tmp = np.where(eta < -_GLM_THRESH, np.finfo(float).eps,
                       np.where(eta > _GLM_THRESH, 1 / np.finfo(float).eps, np.exp(eta)))
        return tmp / (1 + tmp)

    def mu_eta(eta):
        opexp = 1 + np.exp(eta)
        return np.where(np.abs(eta) > _GLM_THRESH, np.finfo(float).eps,
                        np.exp(eta) / (opexp * opexp))

    def deviance(mu):
        return float((2 * m * (special.xlogy(y, y) - special.xlogy(y, mu)
                               + special.xlogy(1 - y, 1 - y)
                               - special.xlogy(1 - y, 1 - mu))).sum())

    mu = (m * y + 0.5) / (m + 1)
    eta = special.logit(mu)
    dev_old = deviance(mu)
    for _ in range(_GLM_MAXIT):
        derivative = mu_eta(eta)
        weight = m * derivative**2 / (mu * (1 - mu))
        eta = eta + (y - mu) / derivative  # the saturated fit is the working response
        mu = linkinv(eta)
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < _GLM_EPSILON:
            break
        dev_old = dev
    centre = (weight * eta).sum() / weight.sum()
    return float((weight * (eta - centre) ** 2).sum())


# --- result --------------------------------------------------------------------------


def _assemble(x, m, yi, vi, add, fit, transform, method, level, labels, analysis, test):
    z = stats.norm.isf((1 - level) / 2)
    half = z * np.sqrt(vi)
    # Per study, Miller's inversion with the study's own n (summary.escalc with
    # transf=transf.ipft, ni=ni); pooled values use the harmonic mean of all n.
    study_low = _back(yi - half, transform, m)
    study_high = _back(yi + half, transform, m)
    _, cp_low, cp_high = proportion_ci(x, m, method="clopper-pearson", level=level)
    studies = pd.DataFrame(
        {
            "study": labels,
            "events": x.astype(np.int64),
            "n": m.astype(np.int64),
            "observed": x / m,
            "yi": yi,
            "vi": vi,
            "correction": add,
            "proportion": _back(yi, transform, m),
            "ci_low": np.minimum(study_low, study_high),
            "ci_high": np.maximum(study_low, study_high),
            "cp_low": cp_low,
            "cp_high": cp_high,
            "weight": fit["weight"],
        },
        columns=list(STUDY_COLUMNS),
    )
    n_harmonic = 1 / np.mean(1 / m)
    mu, se, tau2, crit = fit["mu"], fit["se_used"], fit["tau2"], fit["crit"]
    ci = _back(np.array([mu - crit * se, mu + crit * se]), transform, n_harmonic)
    # predict.rma: pi = mu -/+ crit sqrt(se^2 + tau2); with tau2 = 0 (FE) it is the CI.
    pi_half = crit * math.sqrt(se**2 + tau2)
    vt = fit.get("vt", math.nan)
    tau2_ci = np.array(fit["tau2_ci"], dtype=float)
    i2_ci = 100 * tau2_ci / (vt + tau2_ci)
    pi = _back(np.array([mu - pi_half, mu + pi_half]), transform, n_harmonic)
    pooled = pd.DataFrame(
        [
            {
                "analysis": str(analysis),
                "transform": transform,
                "method": method,
                "test": test,
                "k": int(x.size),
                "events": int(x.sum()),
                "n": int(m.sum()),
                "estimate": float(_back(mu, transform, n_harmonic)),
                "ci_low": float(ci.min()),
                "ci_high": float(ci.max()),
                "pi_low": float(pi.min()),
                "pi_high": float(pi.max()),
                "tau2": float(tau2),
                "tau2_ci_low": float(tau2_ci[0]),
                "tau2_ci_high": float(tau2_ci[1]),
                "i2": float(fit["i2"]),
                "i2_ci_low": float(i2_ci[0]),
                "i2_ci_high": float(i2_ci[1]),
                "q": float(fit["q"]),
                "q_df": int(fit["q_df"]),
                "q_p_value": float(fit["q_p"]),
                "h2": float(fit["h2"]),
                "q_wald": float(fit.get("q_wald", math.nan)),
                "q_wald_p_value": float(fit.get("q_wald_p", math.nan)),
            }
        ],
        columns=list(POOLED_COLUMNS),
    )
    # The frames carry their level (forest_plot, tables): the CSV does not show it.
    studies.attrs["level"] = pooled.attrs["level"] = level
    return PooledProportions(
        studies=studies, pooled=pooled, mu=mu, se=se, tau2=float(tau2),
        h2=float(fit["h2"]), level=level,
    )


# --- estimates with known standard errors (rma(yi, sei = ...)) -----------------------
# Any per-study estimate (a site's mean change from baseline, yi = mean change, sei =
# SD / sqrt(n)) by the same estimators, convergence and inference as the proportions,
# without a transform.

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

    def _repr_html_(self) -> str:
        """In Jupyter: the summary, then the studies with their weights."""
        import html

        shown = self.studies[["study", "yi", "sei", "ci_low", "ci_high", "weight"]]
        return (f"<pre>{html.escape(self.summary())}</pre>"
                + shown.to_html(index=False, float_format=lambda x: f"{x:.3f}"))


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


# --- Bayesian random-effects pooling ---------------------------------------------------

#: Columns of the pooled row of :func:`pool_proportions_bayes` (``meta_bayes.csv``).
BAYES_COLUMNS = (
    "analysis", "prior", "tau_scale", "mu_prior", "k", "events", "n", "estimate", "ci_low",
    "ci_high", "pi_low", "pi_high", "tau", "tau_ci_low", "tau_ci_high", "threshold",
    "prob_above", "level",
)
# Numerical integration is accurate to a relative 1e-10 or better: the results are given
# to 10 significant digits, so that no digit written depends on the CPU.
_BAYES_DIGITS = 10


@dataclass(frozen=True)
class BayesianPooledProportions:
    """Result of :func:`pool_proportions_bayes`.

    Attributes
    ----------
    studies : pandas.DataFrame
        One row per study: ``study``, ``events``, ``n``, ``yi``, ``vi`` (escalc's logit
        and its variance) and ``correction`` (1/2 added to the cells of a study with 0
        or n events).
    pooled : pandas.DataFrame
        One row, the columns :data:`BAYES_COLUMNS`.
    posterior : helpers.bayes.NormalNormalPosterior
        The posterior on the logit scale (densities, distribution functions, quantiles).
    level : float
        Probability of the central credible and predictive intervals.
    """

    studies: pd.DataFrame
    pooled: pd.DataFrame
    posterior: object
    level: float

    def proportion_density(self, p) -> np.ndarray:
        """Posterior density of the pooled proportion at ``p`` (in (0, 1))."""
        p = np.asarray(p, dtype=float)
        return self.posterior.mu_pdf(special.logit(p)) / (p * (1 - p))

    def tau_density(self, tau) -> np.ndarray:
        """Posterior density of tau (logit scale)."""
        return self.posterior.tau_pdf(tau)

    def summary_frame(self) -> pd.DataFrame:
        """The pooled row in the layout of :meth:`PooledProportions.summary_frame`."""
        row = self.pooled.iloc[0]
        return pd.DataFrame({
            "row": ["pooled"], "study": [row["analysis"]], "events": [row["events"]],
            "n": [row["n"]], "estimate": [row["estimate"]], "ci_low": [row["ci_low"]],
            "ci_high": [row["ci_high"]], "pi_low": [row["pi_low"]],
            "pi_high": [row["pi_high"]], "weight": [100.0]})


def pool_proportions_bayes(events, n, *, tau_scale: float = 0.5, mu_sd: float | None = None,
                           level: float = 0.95, threshold: float = 0.5, labels=None,
                           analysis: str = "pooled") -> BayesianPooledProportions:
    """Pool single proportions with a Bayesian random-effects model on the logit scale.

    The normal-normal model of R's ``bayesmeta`` (Röver 2020) on metafor's
    ``escalc(measure = "PLO")`` inputs: ``yi ~ N(theta_i, vi)``,
    ``theta_i ~ N(mu, tau^2)``, a half-normal prior for ``tau`` and a uniform or normal
    prior for ``mu``; the posterior is computed by deterministic numerical integration
    (:class:`helpers.bayes.NormalNormalPosterior`), without MCMC or random numbers.

    Parameters
    ----------
    events, n : array_like of int
        Events and patients per study, as for :func:`pool_proportions`.
    tau_scale : float
        Scale of the half-normal prior for ``tau`` on the logit scale. Röver et al. 2021
        call 0.5 and 1.0 weakly informative for log odds (their "reasonable" and
        "fairly conservative" heterogeneity).
    mu_sd : float, optional
        Standard deviation of a normal(0, ``mu_sd``) prior for ``mu`` (logit scale);
        None for the uniform (improper) prior, bayesmeta's default.
    level : float
        Probability of the central credible and predictive intervals, in (0, 1).
    threshold : float
        A proportion in (0, 1): ``prob_above`` is the posterior probability that the
        pooled proportion exceeds it.
    labels : array_like of str, optional
        Study labels.
    analysis : str
        Label of the pooled row.

    Returns
    -------
    BayesianPooledProportions
        ``.pooled``, one row (:data:`BAYES_COLUMNS`): ``analysis``; ``prior``
        (``half-normal(0.5)``), ``tau_scale``, ``mu_prior`` (``uniform`` or
        ``normal(0, s)``); ``k``, ``events``, ``n``; ``estimate``, the posterior median
        of the pooled proportion, with ``ci_low``, ``ci_high``, its central credible
        interval; ``pi_low``, ``pi_high``, the central posterior predictive interval of
        a new study's proportion; ``tau``, ``tau_ci_low``, ``tau_ci_high``, the
        posterior median and central interval of ``tau`` (logit scale);
        ``threshold``, ``prob_above``; ``level``. Also ``.studies``, ``.posterior``,
        ``.proportion_density()``, ``.tau_density()``.

    Raises
    ------
    ValueError
        Invalid counts (as :func:`pool_proportions`), ``tau_scale`` or ``mu_sd`` not
        positive, ``level`` or ``threshold`` outside (0, 1).

    Warns
    -----
    ContinuityCorrectionWarning
        A study with 0 or n events gets 1/2 added to its cells, as escalc does.

    Notes
    -----
    Quantiles of the pooled proportion and of a new study's proportion are the inverse
    logits of those of ``mu`` and ``theta``. R, for the same numbers (bayesmeta 3.4)::

        es <- escalc(measure = "PLO", xi = events, ni = n)
        bm <- bayesmeta(y = es$yi, sigma = sqrt(es$vi),
                        tau.prior = function(t) dhalfnormal(t, scale = tau_scale),
                        mu.prior.mean = 0, mu.prior.sd = mu_sd,  # or omitted: uniform
                        interval.type = "central", delta = 1e-5, epsilon = 1e-7)
        plogis(bm$qposterior(mu.p = c(0.5, 0.025, 0.975)))
        plogis(bm$qposterior(mu.p = c(0.025, 0.975), predict = TRUE))
        bm$qposterior(tau.p = c(0.5, 0.025, 0.975)); 1 - bm$pposterior(mu = qlogis(0.5))

    bayesmeta's defaults (``delta = 0.01``, ``epsilon = 1e-4``) approximate the
    marginal of ``mu`` by a coarser mixture, whose quantiles can be off by a relative
    1e-3 on the logit scale; the tighter setting above agrees with this function to
    1e-6 (tested), as does a brute-force two-dimensional integration.

    References
    ----------
    Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R package.
    J Stat Softw 93(6):1-51. Röver C, Bender R, Dias S, et al. (2021). On weakly
    informative prior distributions for the heterogeneity parameter in Bayesian
    random-effects meta-analysis. Res Synth Methods 12:448-474. Higgins JPT, et al.
    (Cochrane Scientific Committee, 2018), on meta-analysis with few studies.

    Examples
    --------
    The review's three studies (Ceccarelli's 3/3 gets the continuity correction):

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ContinuityCorrectionWarning)
    ...     res = pool_proportions_bayes([2, 13, 3], [3, 25, 3], tau_scale=0.5)
    >>> res.pooled[["estimate", "ci_low", "ci_high", "tau", "prob_above"]].round(4)
       estimate  ci_low  ci_high     tau  prob_above
    0    0.5822  0.3505   0.8135  0.3185      0.7607
    """
    x, m, _, _, level, labels = _validate(events, n, "logit", "REML", level, labels)
    check_probability(threshold, "threshold", 0.5)
    yi, vi, add = _escalc(x, m, "logit")
    if np.any(add > 0):
        warnings.warn(
            f"added {_LOGIT_ADD} to the cells of {int(np.sum(add > 0))} of {x.size} "
            "studies with 0 or n events before the logit (metafor escalc add=1/2, "
            "to='only0')", ContinuityCorrectionWarning, stacklevel=2)
    from helpers.bayes import NormalNormalPosterior

    posterior = NormalNormalPosterior(yi, np.sqrt(vi), tau_scale=tau_scale, mu_sd=mu_sd)
    tail = (1 - level) / 2

    def digits(value):
        return float(f"{value:.{_BAYES_DIGITS}g}")

    mu = [posterior.mu_quantile(p) for p in (0.5, tail, 1 - tail)]
    theta = [posterior.mu_quantile(p, predictive=True) for p in (tail, 1 - tail)]
    tau = [posterior.tau_quantile(p) for p in (0.5, tail, 1 - tail)]
    above = 1.0 - float(posterior.mu_cdf(special.logit(threshold))[0])
    pooled = pd.DataFrame([{
        "analysis": str(analysis), "prior": f"half-normal({tau_scale:g})",
        "tau_scale": float(tau_scale),
        "mu_prior": "uniform" if mu_sd is None else f"normal(0, {mu_sd:g})",
        "k": int(x.size), "events": int(x.sum()), "n": int(m.sum()),
        "estimate": digits(special.expit(mu[0])), "ci_low": digits(special.expit(mu[1])),
        "ci_high": digits(special.expit(mu[2])), "pi_low": digits(special.expit(theta[0])),
        "pi_high": digits(special.expit(theta[1])), "tau": digits(tau[0]),
        "tau_ci_low": digits(tau[1]), "tau_ci_high": digits(tau[2]),
        "threshold": float(threshold), "prob_above": digits(above), "level": level,
    }], columns=list(BAYES_COLUMNS))
    studies = pd.DataFrame({"study": labels, "events": x.astype(np.int64),
                            "n": m.astype(np.int64), "yi": yi, "vi": vi, "correction": add})
    studies.attrs["level"] = pooled.attrs["level"] = level
    return BayesianPooledProportions(studies, pooled, posterior, level)
