"""Decisions made once per distinct cell of a column, read back per row.

A registry export repeats each measure, visit and unit, and most values, on many rows: at
a million patients a column has nine million cells and a few thousand distinct ones. What
reading decides about a cell (is it empty, a formula, a number, a note below the data) is
decided once per distinct cell by :class:`DistinctCells`, and the row it names is still
the first row concerned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class DistinctCells:
    """A text column as its distinct cells (``values``) and each row's code among them.

    Parameters
    ----------
    cells : Series
        The column; its index labels are the rows that :meth:`first` names.

    Examples
    --------
    >>> cells = DistinctCells(pd.Series([" a", "b", "a", "=1"], index=[5, 6, 7, 8])).strip()
    >>> cells.values.tolist(), cells.codes.tolist()
    (['a', 'b', '=1'], [0, 1, 0, 2])
    >>> cells.first(cells.values.str.startswith("=")), cells.first(cells.values == "c")
    (8, None)
    """

    def __init__(self, cells: pd.Series):
        self.codes, uniques = pd.factorize(cells, use_na_sentinel=False)
        self.values = pd.Series(uniques, dtype=cells.dtype)
        self.index = cells.index
        self._column: pd.Series | None = cells  # while the cells are the column's own

    def strip(self) -> DistinctCells:
        """Drop the spaces around every cell (in place, cells that become equal merge) and
        return the column.

        Most exports have none: :meth:`column` then gives the original column, whose
        memory a table can share (copy-on-write) instead of holding a second copy of every
        cell (half a gigabyte at a million patients).
        """
        stripped = self.values.str.strip()
        if not (stripped.str.len() == self.values.str.len()).all():
            merged, uniques = pd.factorize(stripped, use_na_sentinel=False)
            self.codes = merged[self.codes]
            self.values = pd.Series(uniques, dtype=self.values.dtype)
            self._column = None
        return self

    def rows(self, verdict) -> np.ndarray:
        """Per row, the verdict (one boolean per distinct cell) on its cell.

        A missing cell gives no verdict (pandas' object columns answer NaN): False.
        """
        return pd.Series(verdict).fillna(False).to_numpy(dtype=bool)[self.codes]

    def first(self, verdict) -> int | None:
        """The first row (index label) whose cell ``verdict`` holds for, else None."""
        per_row = self.rows(verdict)
        if not per_row.any():
            return None
        label = self.index[int(per_row.argmax())]
        return label.item() if isinstance(label, np.generic) else label

    def at(self, row) -> str:
        """The cell of ``row`` (an index label)."""
        return self.values.iloc[self.codes[self.index.get_loc(row)]]

    def column(self) -> pd.Series:
        """One cell per row."""
        if self._column is None:
            self._column = pd.Series(self.values.array.take(self.codes), index=self.index)
        return self._column
