"""bench/bench_model.py helpers: the test-size spread it quotes and its --set overrides."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from bench.bench_model import auc_standard_error, chance_at_least, set_dotted
from oneclick.core.errors import DataError


def simulated_auc_spread(draw, positives: int, negatives: int, runs: int = 2000) -> tuple:
    """Mean and std of the ROC-AUC of `runs` test parts whose scores `draw(rng, n, label)` makes."""
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(positives), np.zeros(negatives)]
    aucs = [
        roc_auc_score(labels, np.r_[draw(rng, positives, 1), draw(rng, negatives, 0)])
        for _ in range(runs)
    ]
    return np.mean(aucs), np.std(aucs)


def test_auc_standard_error_matches_exponential_scores_and_is_conservative_otherwise() -> None:
    positives, negatives = 124, 201  # the real test part's shape
    # exponential scores (the approximation's own model): P(pos > neg) = 9 / (9 + 1) = 0.9
    mean, spread = simulated_auc_spread(
        lambda rng, n, label: rng.exponential(9.0 if label else 1.0, n), positives, negatives
    )
    assert mean == pytest.approx(0.9, abs=0.003)
    assert auc_standard_error(0.9, positives, negatives) == pytest.approx(spread, rel=0.1)
    # binormal scores with the same ROC-AUC: the formula errs on the wide side, not by much
    shift = np.sqrt(2) * norm.ppf(0.9)
    mean, spread = simulated_auc_spread(
        lambda rng, n, label: rng.normal(shift if label else 0.0, 1, n), positives, negatives
    )
    assert mean == pytest.approx(0.9, abs=0.003)
    assert spread <= auc_standard_error(0.9, positives, negatives) <= 1.3 * spread
    # four times the customers, half the spread
    assert auc_standard_error(0.9, 4 * positives, 4 * negatives) == pytest.approx(
        auc_standard_error(0.9, positives, negatives) / 2, rel=0.02
    )


def test_chance_at_least_is_a_normal_tail() -> None:
    assert chance_at_least(0.9, 0.9, 0.02) == pytest.approx(0.5)
    assert chance_at_least(0.94, 0.9, 0.02) == pytest.approx(norm.sf(2.0))
    assert chance_at_least(0.86, 0.9, 0.02) == pytest.approx(norm.cdf(2.0))


def test_set_dotted_changes_an_existing_key_with_a_yaml_value() -> None:
    params = {"train": {"vote_top": 0, "calibration": {"metric": "log_loss"}}}
    set_dotted(params, "train.vote_top=2")
    set_dotted(params, "train.calibration.metric=brier")
    assert params == {"train": {"vote_top": 2, "calibration": {"metric": "brier"}}}
    for bad in ("train.vote_tops=2", "train.vote_top", "nothing.here=1"):
        with pytest.raises(DataError, match="--set"):
            set_dotted(params, bad)
