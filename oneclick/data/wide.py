"""Validated tables reshaped: one wide row per customer, a byte-stable row order, runs of keys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oneclick.data.contract import (
    ID,
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MINUTES,
    MONEY,
    PERIOD,
    REVENUE,
    InputFile,
    wide_column,
)


def widen(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per customer (index id): market_file columns, revenue and minutes per period, profit.

    Expects validated tables (each id has every period), so the join is exact.
    """
    parts = [tables[MARKET_FILE.key].set_index(ID)]
    for spec, measure in ((MARKET_MONEY, REVENUE), (MARKET_TIME, MINUTES)):
        wide = tables[spec.key].pivot(index=ID, columns=PERIOD, values=measure)
        parts.append(
            wide[list(spec.periods)].set_axis(
                [wide_column(measure, p) for p in spec.periods], axis=1
            )
        )
    parts.append(tables[MONEY.key].set_index(ID))
    return pd.concat(parts, axis=1, join="inner").sort_index(kind="mergesort")


def sort_table(table: pd.DataFrame, spec: InputFile) -> pd.DataFrame:
    """By id, long tables then by the contract's period order, so outputs are byte-stable."""
    keys = [table[ID].to_numpy()]
    if spec.periods:
        periods = table[PERIOD].astype(pd.CategoricalDtype(list(spec.periods), ordered=True))
        keys.insert(0, periods.cat.codes.to_numpy())
    return table.iloc[np.lexsort(keys)].reset_index(drop=True)


def split_by(keys: np.ndarray, values: np.ndarray) -> list[list]:
    """Values as one list per run of equal keys (keys sorted): groupby(...).agg(list), fast."""
    starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return [chunk.tolist() for chunk in np.split(values, starts)] if len(keys) else []
