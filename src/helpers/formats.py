"""How numbers are written: in files, tables, prose and figures, one set of rules.

- The output precision policy: :data:`SIGNIFICANT_DIGITS` significant digits
  (:func:`round_significant`, :func:`format_float`), so that what is written does not
  depend on the last bits a CPU leaves;
- for readers: :func:`rounded` (tables), :func:`format_level` (``95%``),
  :func:`percent` (``56%``), :func:`percent_interval` (``24%–84%``, with the decimals
  an interval needs to show), :func:`p_text` (``0.043``, ``< 0.001``) and
  :func:`p_clause` (``p = 0.043``, ``p < 0.001``),
  :func:`significant` (three significant digits, for figure descriptions),
  :func:`fixed` (a table cell at fixed decimals) and :func:`number_word` (``three``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["SIGNIFICANT_DIGITS", "fixed", "format_float", "format_level", "number_word",
           "p_clause", "p_text", "percent", "percent_interval", "rounded",
           "round_significant", "significant"]

# The output precision policy. Committed numbers must be the same bytes on every machine,
# but a float's last bits are not: numpy's SIMD sums, libm and BLAS differ between CPUs in
# the last ulp or two, and an iterative fit (REML, GLMM) stops wherever its tolerance lets
# it. Twelve significant digits keep 3-4 digits of margin over that noise (a relative
# 1e-16 to 1e-13), and are still far beyond what any reader or reference test needs (the
# tightest, against R, is a relative 1e-10).
SIGNIFICANT_DIGITS = 12


def round_significant(values):
    """Round floats to :data:`SIGNIFICANT_DIGITS` significant digits, as they are written.

    Parameters
    ----------
    values : float, array-like, Series or DataFrame
        Numbers; in a DataFrame, float columns and float cells of object columns are
        rounded and everything else is left alone.

    Returns
    -------
    Same type as ``values``
        Rounded copies. Text and figures derived from the result agree with the CSV:
        ``f"{x:.1f}"`` of a mean that is ``2.75`` on one CPU and ``2.7499999999999996``
        on another prints the same once rounded.

    Examples
    --------
    >>> round_significant(2.7499999999999996)
    2.75
    """
    if isinstance(values, pd.DataFrame):
        # Copy-on-write: the columns left alone are shared, not copied (the text columns
        # of a registry-sized table are hundreds of megabytes).
        out = values.copy(deep=False)
        for column in out.columns:
            series = out[column]
            if pd.api.types.is_float_dtype(series.dtype) or series.dtype == object:
                out[column] = round_significant(series)
        return out
    if isinstance(values, pd.Series):
        if pd.api.types.is_float_dtype(values.dtype):
            rounded = _round_array(values.to_numpy(dtype=float, na_value=np.nan))
            return pd.Series(rounded, index=values.index, name=values.name,
                             dtype=values.dtype)
        if values.dtype == object:
            return values.map(lambda x: _round_one(x) if isinstance(x, float) else x)
        return values
    if np.ndim(values) == 0:
        return _round_one(values) if isinstance(values, (float, np.floating)) else values
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.floating):
        return values
    return _round_array(array.ravel().astype(float)).astype(array.dtype).reshape(array.shape)


def _round_one(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def distinct_floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a float array and where each element's is: ``values ==
    distinct[positions]``, bit for bit (``-0.0`` and ``0.0`` apart, each NaN kept).

    A measurement column of a million rows holds a few thousand distinct values: what is
    done per value in Python (rounding, formatting) is done once per distinct value.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    # A hash table over the bits, O(n): np.unique sorts them, 30 times slower at 10^7.
    positions, bits = pd.factorize(values.view(np.int64).ravel(), sort=True)
    return bits.view(np.float64), positions.reshape(values.shape)


def _round_array(values: np.ndarray) -> np.ndarray:
    """:func:`_round_one` of every element of a float array, once per distinct value."""
    distinct, positions = distinct_floats(values)
    return np.array([_round_one(x) for x in distinct], dtype=np.float64)[positions]


def format_float(value: float) -> str:
    """Write one float under the precision policy: 12 significant digits, shortest form.

    The value is rounded to :data:`SIGNIFICANT_DIGITS` significant digits (correctly
    rounded, as Python's ``%g`` is on every platform), then printed in the shortest form
    that reads back as that rounded value, so ``2.0`` stays ``2.0`` and ``0.1`` stays
    ``0.1``.

    Examples
    --------
    >>> format_float(0.39451723305908454), format_float(0.3945172330590846)
    ('0.394517233059', '0.394517233059')
    >>> format_float(4.9399999999999995), format_float(2.0), format_float(1e-20)
    ('4.94', '2.0', '1e-20')
    """
    return repr(float(f"{value:.{SIGNIFICANT_DIGITS}g}"))


def rounded(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Round a result table for display, robustly across machines.

    The values are first brought to the output precision policy
    (:func:`round_significant`), so that a number on a display boundary
    (``4.0225``, or a mean computed as ``2.7499999999999996`` on one CPU and ``2.75`` on
    another) rounds the same everywhere, then rounded to ``digits`` decimals.

    Examples
    --------
    >>> rounded(pd.DataFrame({"x": [2.7499999999999996, 4.0225]}), 1)["x"].tolist()
    [2.8, 4.0]
    """
    return round_significant(frame).round(digits)


def format_level(level: float) -> str:
    """A confidence level as text names it, from the parameter that set it.

    Examples
    --------
    >>> format_level(0.95), format_level(0.9), format_level(0.975)
    ('95%', '90%', '97.5%')
    """
    return f"{100 * level:.4g}%"


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten")


def number_word(n: int, *, capital: bool = False) -> str:
    """A count in running text: a word up to ten, digits (with thousands commas) above.

    Examples
    --------
    >>> number_word(3, capital=True), number_word(4), number_word(25), number_word(1200)
    ('Three', 'four', '25', '1,200')
    """
    word = _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"
    return word.capitalize() if capital else word


def percent(value: float) -> str:
    """A proportion as a whole percentage, ``not estimable`` where it is not a number.

    Examples
    --------
    >>> percent(0.5614007847), percent(0.0049999999999999), percent(float("nan"))
    ('56%', '0%', 'not estimable')
    """
    value = float(round_significant(float(value)))
    return f"{100 * value:.0f}%" if np.isfinite(value) else "not estimable"


def p_text(p: float) -> str:
    """A p-value in running text: three decimals, ``< 0.001`` below.

    Examples
    --------
    >>> p_text(0.0431), p_text(0.0004), p_text(float("nan"))
    ('0.043', '< 0.001', 'not computable')
    """
    if pd.isna(p):
        return "not computable"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_clause(p: float, name: str = "p") -> str:
    """A p-value as a clause: ``p = 0.043``, ``p < 0.001``, ``p not computable``.

    Examples
    --------
    >>> p_clause(0.0431), p_clause(0.0004), p_clause(0.0431, "Holm-adjusted p")
    ('p = 0.043', 'p < 0.001', 'Holm-adjusted p = 0.043')
    """
    text = p_text(p)
    return f"{name} {text}" if text.startswith("<") or text.startswith("not") else (
        f"{name} = {text}")


def percent_interval(low: float, high: float) -> str:
    """An interval of proportions in percent, with as many decimals as it takes for its
    ends to differ (up to two; narrower is said in words).

    Examples
    --------
    >>> percent_interval(0.2387, 0.8393), percent_interval(0.1412, 0.1448)
    ('24%–84%', '14.1%–14.5%')
    >>> percent_interval(0.14, 0.14), percent_interval(float("nan"), 0.5)
    ('14% (less than 0.01 points wide)', 'not estimable')
    """
    low, high = (float(round_significant(float(v))) for v in (low, high))
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not estimable"
    for decimals in range(3):
        ends = [f"{100 * v:.{decimals}f}" for v in (low, high)]
        if ends[0] != ends[1]:
            return f"{ends[0]}%–{ends[1]}%"
    return f"{100 * low:.0f}% (less than 0.01 points wide)"


def significant(value: float) -> str:
    """A value for a figure's text alternative: three significant digits, no noise.

    Examples
    --------
    >>> significant(2.7499999999999996), significant(1234.5)
    ('2.75', '1.23e+03')
    """
    return f"{float(round_significant(float(value))):.3g}"


def fixed(value: float, decimals: int, p_value: bool = False) -> str:
    """A table cell at ``decimals`` decimals; a p-value below the last shown as ``<0.001``.

    ``-0.00`` is written ``0.00``.

    Examples
    --------
    >>> fixed(-0.001, 2), fixed(0.0004, 3, p_value=True), fixed(float("inf"), 2)
    ('0.00', '<0.001', 'inf')
    """
    if p_value and 0 <= value < 10.0 ** -decimals:
        return f"<{10.0 ** -decimals:.{decimals}f}"
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    text = f"{round(value, decimals) + 0.0:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text
