"""oneclick.model.evaluation: metrics on tiny known cases, plot tables, honest out-of-fold scores
(the stage mains chained: tests/pipeline/test_stage_mains.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from oneclick.data.contract import ID, LABEL, TARGET_NEGATIVE, TARGET_POSITIVE
from oneclick.model.evaluation import (
    auc_from_ranks,
    bootstrap_auc_interval,
    calibration_table,
    classification_metrics,
    confusion_table,
    out_of_fold,
    precision_recall_table,
    roc_table,
    scores_frame,
)
from oneclick.model.pipelines import predict_declined

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.6, 0.4, 0.9])


def test_metrics_on_a_tiny_known_case() -> None:
    m = classification_metrics(Y, P, threshold=0.5)
    # ranking: of the 4 (positive, negative) pairs, 3 are ordered right
    assert m["roc_auc"] == pytest.approx(0.75)
    # average precision: recall 0.5 at precision 1 (0.9), then recall 1 at precision 2/3 (0.4)
    assert m["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.4, 0.9])))
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert m["precision"] == m["recall"] == m["f1"] == m["accuracy"] == pytest.approx(0.5)


def test_threshold_moves_the_decision_and_is_inclusive() -> None:
    m = classification_metrics(Y, P, threshold=0.4)  # 0.4 itself counts as declined
    assert m["confusion"] == {"tn": 1, "fp": 1, "fn": 0, "tp": 2}
    assert m["recall"] == 1 and m["precision"] == pytest.approx(2 / 3)
    assert m["roc_auc"] == classification_metrics(Y, P, threshold=0.9)["roc_auc"]


def test_rank_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.round(y * 0.2 + rng.uniform(0, 1, 300), 1)  # coarse: many ties
    assert auc_from_ranks(y, p) == pytest.approx(roc_auc_score(y, p))


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_more_customers() -> None:
    rng = np.random.default_rng(4)

    def case(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, n)
        return y, y * 0.3 + rng.uniform(0, 1, n)

    y, p = case(300)
    low, high = bootstrap_auc_interval(y, p, 300, seed=0)
    assert low < roc_auc_score(y, p) < high
    assert (low, high) == bootstrap_auc_interval(y, p, 300, seed=0)
    big_low, big_high = bootstrap_auc_interval(*case(3000), 300, seed=0)
    assert big_high - big_low < (high - low) / 2


def test_roc_and_pr_tables_are_finite_and_ordered() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.3 + rng.uniform(0, 0.7, 200), 0, 1)
    roc = roc_table(y, p)
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert np.isfinite(roc.to_numpy()).all() and roc["threshold"].max() <= 1
    assert roc["fpr"].is_monotonic_increasing and roc["tpr"].is_monotonic_increasing
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc_auc_score(y, p))
    pr = precision_recall_table(y, p)
    assert list(pr.columns) == ["recall", "precision"] and pr["recall"].is_monotonic_increasing


def test_calibration_table_tracks_calibrated_probabilities() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p).astype(int)  # calibrated by construction
    table = calibration_table(y, p, bins=5)
    assert len(table) == 5 and (table["perfect"] == table["mean_predicted"]).all()
    assert np.abs(table["fraction_positive"] - table["mean_predicted"]).max() < 0.03
    overconfident = calibration_table(y, np.where(p > 0.5, 1.0, 0.0), bins=5)
    assert np.abs(overconfident["fraction_positive"] - overconfident["mean_predicted"]).max() > 0.2


def test_confusion_table_uses_the_store_labels() -> None:
    table = confusion_table(Y, P, 0.5)
    assert table["actual"].tolist() == [
        TARGET_NEGATIVE,
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
        TARGET_POSITIVE,
    ]
    assert table["predicted"].tolist() == [
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
        TARGET_NEGATIVE,
        TARGET_POSITIVE,
    ]


def test_out_of_fold_never_predicts_a_row_with_a_model_that_saw_its_group() -> None:
    """Labels are pure noise, every customer has an identical twin in its group. A 1-nearest-
    neighbour model that saw the twin predicts the label perfectly; out of fold it must not."""
    rng = np.random.default_rng(2)
    n = 150
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = pd.Series(rng.integers(0, 2, n))
    X2, y2 = pd.concat([X, X], ignore_index=True), pd.concat([y, y], ignore_index=True)
    groups = pd.Series(np.tile(np.arange(n), 2))
    model = make_pipeline(KNeighborsClassifier(1)).fit(X2, y2)
    assert roc_auc_score(y2, predict_declined(model, X2)) == 1.0  # in-sample: memorised
    oof = out_of_fold(model, X2, y2, groups, folds=5, seed=0)
    assert abs(roc_auc_score(y2, oof) - 0.5) < 0.12
    assert np.array_equal(oof, out_of_fold(model, X2, y2, groups, folds=5, seed=0))


def test_scores_frame_covers_everyone_once_sorted_by_id() -> None:
    train_part = pd.DataFrame({ID: [3, 1], LABEL: [1, 0]})
    test_part = pd.DataFrame({ID: [2], LABEL: [1]})
    scores = scores_frame(train_part, np.array([0.7, 0.2]), test_part, np.array([0.9]))
    assert scores.to_dict("list") == {
        ID: [1, 2, 3],
        "split": ["train", "test", "train"],
        LABEL: [0, 1, 1],
        "probability": [0.2, 0.9, 0.7],
    }


def test_predict_declined_refuses_unexpected_classes() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    model = make_pipeline(LogisticRegression()).fit(X, ["no", "no", "yes", "yes"])
    with pytest.raises(ValueError, match="expected \\[0, 1\\]"):
        predict_declined(model, X)


# --- the three stage mains, chained ---------------------------------------------------------
