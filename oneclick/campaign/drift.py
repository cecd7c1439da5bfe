"""Drift: the population stability index (PSI) of each model feature, training period vs new.

PSI = sum over bins of (new share - reference share) * ln(new share / reference share).
Numeric features: BINS bins cut at the reference's deciles (right-closed, so the few values of
a discrete feature each keep one bin); text features: one bin per category. A share of 0 is
floored at FLOOR, so a category the training period never saw counts, but not infinitely.
Read as usual: below WATCH stable, WATCH to DRIFT a shift worth watching, above DRIFT the model
is being applied to customers unlike those it learned from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oneclick.core import entry, paths
from oneclick.features.spec import feature_columns, load_spec

BINS = 10
FLOOR = 1e-4
WATCH, DRIFT = 0.1, 0.25


def _shares(codes: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=size).astype(float)
    return np.maximum(counts / max(counts.sum(), 1.0), FLOOR)


def psi(reference: pd.Series, new: pd.Series, bins: int = BINS) -> float:
    """PSI of one feature: 0 for identical distributions, > DRIFT for a marked shift."""
    reference, new = reference.dropna(), new.dropna()
    if pd.api.types.is_numeric_dtype(reference) and pd.api.types.is_numeric_dtype(new):
        quantiles = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(reference.to_numpy(dtype=float), quantiles))
        ref = np.searchsorted(edges, reference.to_numpy(dtype=float), side="left")
        cur = np.searchsorted(edges, new.to_numpy(dtype=float), side="left")
        size = len(edges) + 1
    else:
        levels = sorted(set(reference.astype(str)) | set(new.astype(str)))
        index = {level: k for k, level in enumerate(levels)}
        ref = reference.astype(str).map(index).to_numpy(dtype=int)
        cur = new.astype(str).map(index).to_numpy(dtype=int)
        size = len(levels)
    expected, actual = _shares(ref, size), _shares(cur, size)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def flag(value: float) -> str:
    """'drift' above DRIFT, 'watch' above WATCH, else 'ok'."""
    return "drift" if value > DRIFT else "watch" if value > WATCH else "ok"


def psi_table(reference: pd.DataFrame, new: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    """PSI per feature, in the given (model) order."""
    return {column: psi(reference[column], new[column]) for column in columns}


def summary(table: dict[str, float], reference: int, new: int) -> dict[str, Any]:
    """The drift block of a metrics file: PSI per feature and how many pass each threshold."""
    return {
        "reference_customers": reference,
        "new_customers": new,
        "watch_threshold": WATCH,
        "drift_threshold": DRIFT,
        "psi": table,
        "features_above_watch": sum(v > WATCH for v in table.values()),
        "features_above_drift": sum(v > DRIFT for v in table.values()),
    }


def training_drift(features: pd.DataFrame, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """PSI of model input rows (prepare_features) against the training part
    (data/features/train.csv), with one warning line per feature above DRIFT."""
    columns = feature_columns(spec or load_spec())
    reference = pd.read_csv(paths.TRAIN_FILE, usecols=columns)
    table = psi_table(reference, features, columns)
    for column, value in table.items():
        if value > DRIFT:
            entry.log.warning(
                "drift: %s PSI %.3f > %g (training period vs this data): scores of these "
                "customers are less trustworthy",
                column,
                value,
                DRIFT,
            )
    return summary(table, len(reference), len(features))
