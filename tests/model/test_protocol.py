"""oneclick.model.protocol: grouped folds over all customers, no peeking at the held-out fold,
and the Nadeau–Bengio corrected standard errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from oneclick.core.stats import corrected_se
from oneclick.model.protocol import (
    expected_calibration_error,
    grouped_stratified_folds,
    protocol_folds,
    protocol_metrics,
    run_protocol,
)


class Memoriser(ClassifierMixin, BaseEstimator):
    """Returns the label of an identical row it was fitted on (0.5 otherwise): perfect on
    anything it has seen, a coin on anything else. A procedure that peeks looks perfect."""

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Memoriser:
        self.classes_ = np.array([0, 1])
        self.seen_ = dict(zip(map(tuple, X.to_numpy()), y, strict=True))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.array([self.seen_.get(tuple(row), 0.5) for row in X.to_numpy()], dtype=float)
        return np.column_stack([1 - p, p])


def twins(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Noise labels; every customer has an identical twin (same group, same label)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series(rng.integers(0, 2, n))
    groups = pd.Series(np.arange(n))
    return (
        pd.concat([X, X], ignore_index=True),
        pd.concat([y, y], ignore_index=True),
        pd.concat([groups, groups], ignore_index=True),
    )


def test_no_duplicate_group_ever_straddles_a_fold_and_every_customer_is_held_out_once() -> None:
    _, y, groups = twins()
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats=3, k=5, seed=7)
    assert len(folds) == 15
    for r in range(3):
        held = np.concatenate([h for rr, _, _, h in folds if rr == r])
        assert sorted(held) == list(range(len(y)))
    for _, _, fit_rows, held in folds:
        assert not set(groups.iloc[fit_rows]) & set(groups.iloc[held])
        assert not set(fit_rows) & set(held)
    again = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats=3, k=5, seed=7)
    assert all(np.array_equal(a[3], b[3]) for a, b in zip(folds, again, strict=True))
    assert not np.array_equal(folds[0][3], folds[5][3])  # each repeat its own split


@pytest.mark.parametrize("case", range(60))
def test_the_folds_are_scikit_learns_stratified_group_k_fold(case: int) -> None:
    """Row for row, on random sizes, class balances, duplicate groups, k and seeds: a change of
    scikit-learn's rule (or of ours) moves every protocol figure, so it must show here."""
    rng = np.random.default_rng(case)
    n, k = int(rng.integers(30, 400)), int(rng.integers(2, 8))
    y = (rng.random(n) < rng.uniform(0.15, 0.85)).astype(int)
    y[:k], y[k : 2 * k] = 0, 1  # every class has at least k members
    groups = rng.integers(0, int(n * rng.uniform(0.3, 1.0)), n) + 10 * k
    groups[: 2 * k] = np.arange(2 * k)  # at least k groups
    seed = int(rng.integers(0, 10_000))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    expected = np.empty(n, dtype=int)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(n), y, groups)):
        expected[held] = fold
    assert np.array_equal(grouped_stratified_folds(y, groups, k, seed), expected)


def test_a_procedure_that_peeks_is_caught() -> None:
    """Ungrouped folds hand the memoriser each customer's twin: a perfect, false score. Under
    the protocol it scores what it is worth on noise labels: a coin flip."""
    X, y, groups = twins()
    leaky = [
        roc_auc_score(
            y.iloc[held],
            Memoriser().fit(X.iloc[fit], y.iloc[fit]).predict_proba(X.iloc[held])[:, 1],
        )
        for fit, held in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    ]
    assert np.mean(leaky) > 0.95
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats=2, k=5, seed=0)
    seen: list[set[int]] = []

    def fit(Xf: pd.DataFrame, yf: pd.Series, gf: pd.Series) -> Memoriser:
        seen.append(set(Xf.index))
        return Memoriser().fit(Xf, yf)

    scores, held_out, models = run_protocol(fit, X, y, groups, folds)
    assert abs(scores["roc_auc"].mean() - 0.5) < 0.05
    assert len(models) == len(folds) == len(scores)
    for rows, (_, _, _, held) in zip(seen, folds, strict=True):
        assert not rows & set(X.index[held])  # fit saw none of the rows it was scored on
    assert not np.isnan(held_out).any() and held_out.shape == (2, len(y))


def test_corrected_se_matches_a_hand_computation() -> None:
    a = np.array([0.90, 0.92, 0.88, 0.91])
    b = np.array([0.89, 0.90, 0.88, 0.88])
    d = a - b  # 0.01, 0.02, 0.00, 0.03: mean 0.015, sample variance 0.000166...
    variance = ((d - 0.015) ** 2).sum() / 3
    se = np.sqrt((1 / 4 + 1 / 4) * variance)  # J = 4 folds, n_test / n_train = 1/4
    assert variance == pytest.approx(0.0005 / 3)
    assert corrected_se(d, 0.25) == pytest.approx(se)
    # the correction is what keeps overlapping folds honest: plain SE would be half as large
    assert corrected_se(d, 0.25) > np.sqrt(variance / 4)


def test_expected_calibration_error_is_zero_when_calibrated_and_grows_when_not() -> None:
    y = np.array([0, 1] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5), 10) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.9), 10) == pytest.approx(0.4)


def test_protocol_metrics_carry_numbers_only() -> None:
    scores = pd.DataFrame({"roc_auc": [0.9, 0.8], "brier": [0.1, 0.12], "log_loss": [0.3, 0.35]})
    y = np.array([0, 1, 1, 0])
    held = np.array([[0.2, 0.7, 0.9, 0.1], [0.3, 0.8, 0.7, 0.2]])
    metrics = protocol_metrics(scores, y, held, k=5, bins=10)
    assert metrics["folds"] == 2 and metrics["roc_auc_mean"] == pytest.approx(0.85)
    assert metrics["out_of_fold"]["log_loss"] < 0.4

    def leaves(tree: dict) -> list:
        return [x for v in tree.values() for x in (leaves(v) if isinstance(v, dict) else [v])]

    assert all(isinstance(v, int | float) for v in leaves(metrics))
