"""Engineered features: columns derived from the merged customer table, each switchable in
params.yaml features.engineered. Kept apart from oneclick/model (scikit-learn) so the segment
stage can name them as offer drivers without importing a model library."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from oneclick.core import params_schema
from oneclick.data.contract import MINUTES_COLUMNS, REVENUE_COLUMNS

_rev_cur, _rev_prev, _rev_before = REVENUE_COLUMNS
_min_cur, _min_prev = MINUTES_COLUMNS

# name -> (formula for humans, function of the merged frame); switched in features.engineered
ENGINEERED: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "revenue_trend": (f"{_rev_cur} - {_rev_prev}", lambda f: f[_rev_cur] - f[_rev_prev]),
    "revenue_prev_trend": (
        f"{_rev_prev} - {_rev_before}",
        lambda f: f[_rev_prev] - f[_rev_before],
    ),
    "minutes_trend": (f"{_min_cur} - {_min_prev}", lambda f: f[_min_cur] - f[_min_prev]),
    "marketing_trend": (
        "marketing_current - marketing_6m",
        lambda f: f["marketing_current"] - f["marketing_6m"],
    ),
    # revenue per minute on the site: how efficiently a visit turns into money (+1: no div by 0)
    "revenue_per_minute": (
        f"{_rev_cur} / ({_min_cur} + 1)",
        lambda f: f[_rev_cur] / (f[_min_cur] + 1),
    ),
}


def add_engineered(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """A copy of frame with the named engineered columns appended (in the given order)."""
    unknown = sorted(set(names) - set(ENGINEERED))
    if unknown:
        known = ", ".join(ENGINEERED)
        raise params_schema.invalid(f"features.engineered.{unknown[0]}", True, f"one of {known}")
    out = frame.copy()
    for name in names:
        out[name] = ENGINEERED[name][1](frame).astype("float64")
    return out
