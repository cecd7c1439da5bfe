"""oneclick.model.evaluation: metrics on tiny known cases, plot tables, honest out-of-fold scores
(the stage mains chained: tests/pipeline/test_stage_mains.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from oneclick.data.contract import ID, LABEL, TARGET_NEGATIVE, TARGET_POSITIVE
from oneclick.model.evaluation import (
    auc_from_ranks,
    bootstrap_auc_interval,
    calibration_table,
    classification_metrics,
    confusion_table,
    fold_table,
    precision_recall_table,
    protocol_inputs,
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


def test_predict_declined_refuses_unexpected_classes() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    model = make_pipeline(LogisticRegression()).fit(X, ["no", "no", "yes", "yes"])
    with pytest.raises(ValueError, match="expected \\[0, 1\\]"):
        predict_declined(model, X)


# --- the three stage mains, chained ---------------------------------------------------------


def test_protocol_inputs_hold_everyone_by_id_with_their_part() -> None:
    train_part = pd.DataFrame({ID: [3, 1], LABEL: [1, 0]})
    test_part = pd.DataFrame({ID: [2], LABEL: [1]})
    everyone = protocol_inputs(train_part, test_part)
    assert everyone[ID].tolist() == [1, 2, 3]
    assert everyone["split"].tolist() == ["train", "test", "train"]


def test_scores_are_the_mean_held_out_probability_and_folds_say_who_held_whom_out() -> None:
    everyone = pd.DataFrame({ID: [1, 2, 3], "split": ["train", "test", "train"], LABEL: [0, 1, 1]})
    held_out = np.array([[0.2, 0.9, 0.7], [0.4, 0.7, 0.5]])
    scores = scores_frame(everyone, held_out)
    assert scores.to_dict("list") == {
        ID: [1, 2, 3],
        "split": ["train", "test", "train"],
        LABEL: [0, 1, 1],
        "probability": pytest.approx([0.3, 0.8, 0.6]),
    }
    folds = [(0, 0, np.array([1, 2]), np.array([0])), (0, 1, np.array([0]), np.array([1, 2]))]
    table = fold_table(everyone, folds)
    assert table.to_dict("list") == {ID: [1, 2, 3], "repeat": [0, 0, 0], "fold": [0, 1, 1]}
