"""The `evaluate` stage's work: test metrics, plot data, honest probabilities for everyone.

The test part is used here for the first time. Training customers get out-of-fold
probabilities (a clone of the chosen pipeline refit per fold), never in-sample ones, so every
probability in data/predictions/scores.csv comes from a model that did not see that customer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from oneclick.data.contract import ID, LABEL, TARGET_NEGATIVE, TARGET_POSITIVE
from oneclick.model.pipelines import out_of_fold_models, predict_declined


def classification_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Ranking and probability quality, then the decision at threshold (P >= threshold)."""
    predicted = (proba >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    return {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "log_loss": log_loss(y, proba, labels=[0, 1]),
        "threshold": threshold,
        "f1": f1_score(y, predicted, zero_division=0),
        "precision": precision_score(y, predicted, zero_division=0),
        "recall": recall_score(y, predicted, zero_division=0),
        "accuracy": accuracy_score(y, predicted),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "n": len(y),
        "positive_share": float(np.mean(y)),
    }


def auc_from_ranks(y: np.ndarray, proba: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count half), as roc_auc_score."""
    from scipy.stats import rankdata

    positive = y == 1
    n_pos = positive.sum()
    return (rankdata(proba)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos))


def bootstrap_auc_interval(
    y: np.ndarray, proba: np.ndarray, samples: int, seed: int
) -> tuple[float, float]:
    """95% percentile interval of the test ROC-AUC over customer resamples: how much a test
    part of this size can say (resamples with a single class are skipped)."""
    rng = np.random.default_rng(seed)
    aucs = []
    for rows in rng.integers(0, len(y), size=(samples, len(y))):
        if 0 < y[rows].sum() < len(rows):
            aucs.append(auc_from_ranks(y[rows], proba[rows]))
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def roc_table(y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    fpr, tpr, threshold = roc_curve(y, proba)
    threshold[0] = 1.0  # sklearn's +inf ("nobody flagged") does not survive CSV/Vega
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": threshold})


def precision_recall_table(y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    precision, recall, _ = precision_recall_curve(y, proba)
    return pd.DataFrame({"recall": recall, "precision": precision}).iloc[::-1]  # recall rising


def calibration_table(y: np.ndarray, proba: np.ndarray, bins: int) -> pd.DataFrame:
    """Reliability curve over equal-width probability bins (empty bins left out)."""
    fraction, mean = calibration_curve(y, proba, n_bins=bins, strategy="uniform")
    return pd.DataFrame({"mean_predicted": mean, "fraction_positive": fraction, "perfect": mean})


def confusion_table(y: np.ndarray, proba: np.ndarray, threshold: float) -> pd.DataFrame:
    names = np.array([TARGET_NEGATIVE, TARGET_POSITIVE])
    return pd.DataFrame({"actual": names[y], "predicted": names[(proba >= threshold).astype(int)]})


def out_of_fold(
    model: Pipeline, X: pd.DataFrame, y: pd.Series, groups: pd.Series, folds: int, seed: int
) -> np.ndarray:
    """P(declined) for each training row from a clone of model fitted without that row's fold
    (duplicate groups kept inside one fold)."""
    proba = np.empty(len(X))
    for _, held, fold_model in out_of_fold_models(model, X, y, groups, folds, seed):
        proba[held] = predict_declined(fold_model, X.iloc[held])
    return proba


def scores_frame(
    train: pd.DataFrame, train_proba: np.ndarray, test: pd.DataFrame, test_proba: np.ndarray
) -> pd.DataFrame:
    parts = [
        pd.DataFrame({ID: frame[ID], "split": split, LABEL: frame[LABEL], "probability": proba})
        for frame, split, proba in [(train, "train", train_proba), (test, "test", test_proba)]
    ]
    return pd.concat(parts).sort_values(ID, kind="mergesort").reset_index(drop=True)


def plot_tables(
    y: np.ndarray, proba: np.ndarray, threshold: float, bins: int
) -> dict[str, pd.DataFrame]:
    """The test part's plot data, by file name under plots/evaluate (dvc.yaml's top-level plots)."""
    return {
        "roc.csv": roc_table(y, proba),
        "precision_recall.csv": precision_recall_table(y, proba),
        "calibration.csv": calibration_table(y, proba, bins),
        "confusion.csv": confusion_table(y, proba, threshold),
    }
