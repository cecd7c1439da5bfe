"""One text column's values against the contract: spellings normalised, fixes counted.

Vectorised (a million customers validate in seconds): through the distinct values and their
integer codes. Numeric columns are in numbers.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.data.contract import Column
from oneclick.data.reading import listed, where


def fold(text: str) -> str:
    """Spelling with stray whitespace and letter case removed, for comparison only."""
    return " ".join(str(text).split()).casefold()


def normalise(
    values: pd.Series, column: Column, file: str, ids: pd.Series | None
) -> tuple[pd.Series, dict[str, dict]]:
    """Raw text -> categorical of the contract's values; fixes counted per raw value.

    Works on the distinct values and the integer codes only, so a column costs milliseconds.
    """
    raw = values.astype("category")
    codes = raw.cat.codes.to_numpy()
    if (missing := codes < 0).any():
        raise DataError(
            f"{file}: column {column.source!r}: missing value(s) at {where(missing, ids)}"
        )
    counts = np.bincount(codes, minlength=len(raw.cat.categories))
    canonical = {fold(value): value for value in column.categories}
    misspelt = {fold(wrong): value for wrong, value in column.misspellings.items()}
    seen = {v: int(n) for v, n in zip(raw.cat.categories, counts, strict=True) if n}
    mapping = {v: canonical.get(fold(v), misspelt.get(fold(v))) for v in seen}
    unknown = sorted(str(v) for v, target in mapping.items() if target is None)
    if unknown:
        raise DataError(
            f"{file}: column {column.source!r}: unknown value(s) {listed(unknown)} "
            f"at {where(values.astype('str').isin(unknown), ids)}; "
            f"expected one of {list(column.categories)}"
        )
    fixes = {
        str(v): {
            "to": target,
            "count": seen[v],
            "reason": "misspelling" if fold(v) in misspelt else "whitespace/case",
        }
        for v, target in sorted(mapping.items(), key=lambda item: str(item[0]))
        if v != target
    }
    position: dict[str | None, int] = {value: i for i, value in enumerate(column.categories)}
    lookup = np.array([position.get(mapping.get(v), -1) for v in raw.cat.categories], "int64")
    fixed = pd.Categorical.from_codes(lookup[codes], categories=list(column.categories))
    return pd.Series(fixed, index=values.index), fixes
