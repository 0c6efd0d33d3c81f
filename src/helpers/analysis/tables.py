"""Rendering result tables for people: rounded Markdown beside the unrounded CSV."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.io import round_significant


def rounded(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Round a result table for display, robustly across machines.

    The values are first brought to the output precision policy
    (:func:`helpers.io.round_significant`), so that a number on a display boundary
    (``4.0225``, or a mean computed as ``2.7499999999999996`` on one CPU and ``2.75`` on
    another) rounds the same everywhere, then rounded to ``digits`` decimals.

    Examples
    --------
    >>> rounded(pd.DataFrame({"x": [2.7499999999999996, 4.0225]}), 1)["x"].tolist()
    [2.8, 4.0]
    """
    return round_significant(frame).round(digits)


def to_markdown(frame: pd.DataFrame, digits: int = 3,
                     columns: Sequence[str] | None = None) -> str:
    """Render a result table as Markdown, numbers rounded for reading.

    Parameters
    ----------
    frame : pandas.DataFrame
        Unrounded results (any columns).
    digits : int, default 3
        Decimal places of every float column.
    columns : sequence of str, optional
        Columns to show, in order. Default: all.

    Returns
    -------
    str
        A GitHub-flavoured Markdown table (no trailing newline).

    Notes
    -----
    Only the rendering is rounded; the CSV keeps the precision policy's 12 significant
    digits, and numbers are brought to that precision first (:func:`rounded`). Columns
    whose name contains ``p_value`` show values below ``10**-digits`` as ``<0.001``
    (for ``digits=3``) rather than as zero. Missing values show as ``NA``; ``-0.000``
    shows as ``0.000``.
    """
    if not isinstance(digits, (int, np.integer)) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    if columns is not None:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ValueError(f"columns not in frame: {unknown}; available: "
                             f"{list(frame.columns)}")
        frame = frame[list(columns)]
    frame = round_significant(frame)
    shown = pd.DataFrame(index=frame.index)
    floor = 10.0 ** -digits
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_float_dtype(series.dtype):
            is_p = "p_value" in str(column)

            def fmt(x, is_p=is_p):
                if pd.isna(x):
                    return "NA"
                if is_p and 0 <= x < floor:
                    return f"<{floor:.{digits}f}"
                text = f"{round(float(x), digits) + 0.0:.{digits}f}"
                return text[1:] if text.startswith("-") and float(text) == 0 else text

            shown[column] = [fmt(x) for x in series.to_numpy()]
        else:
            shown[column] = ["NA" if pd.isna(x) else str(x) for x in series.to_numpy()]
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype)
               and not pd.api.types.is_bool_dtype(frame[c].dtype) for c in frame.columns]
    return shown.to_markdown(index=False, disable_numparse=True,
                             colalign=["right" if k else "left" for k in numeric])
