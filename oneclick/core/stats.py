"""Statistics two layers share: the evaluate stage's protocol and the PR review's verdicts; the
shap stage's checks and the SHAP plots the segment stage draws."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def corrected_se(scores: np.ndarray, test_train_ratio: float) -> float:
    """Nadeau–Bengio corrected standard error of the mean of J fold scores: the folds' training
    parts overlap, so SE = sqrt((1/J + n_test/n_train) · var)."""
    scores = np.asarray(scores, dtype=float)
    return float(np.sqrt((1 / len(scores) + test_train_ratio) * scores.var(ddof=1)))


def two_class_resamples(y: np.ndarray, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap row indices of y (customers drawn with replacement), skipping the resamples
    with a single class (no ROC-AUC there)."""
    rng = np.random.default_rng(seed)
    for rows in rng.integers(0, len(y), size=(samples, len(y))):
        if 0 < y[rows].sum() < len(rows):
            yield rows
