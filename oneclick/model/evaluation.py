"""The `evaluate` stage's work: the protocol's scores, the test part's sanity figures and plot
data, and honest probabilities for everyone.

The judge of a procedure is the protocol (oneclick/model/protocol.py): the whole procedure
refitted inside every fold of R × K grouped folds over all customers. The published test part
stays, scored by the final model, as a figure comparable with published write-ups (with its
bootstrap interval), never as the gate. Every customer's probability in
data/predictions/scores.csv is the mean of its held-out probabilities over the repeats.
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

from oneclick.core.stats import two_class_resamples
from oneclick.data.contract import ID, LABEL, TARGET_NEGATIVE, TARGET_POSITIVE

# the test part's figures worth diffing (the rest: plot data, e.g. the confusion matrix)
TEST_FIGURES = ("roc_auc", "brier", "log_loss")


def classification_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Ranking and probability quality, then the decision at threshold (P >= threshold)."""
    predicted = (proba >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    return {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "log_loss": log_loss(y, proba, labels=[0, 1]),
        "f1": f1_score(y, predicted, zero_division=0),
        "precision": precision_score(y, predicted, zero_division=0),
        "recall": recall_score(y, predicted, zero_division=0),
        "accuracy": accuracy_score(y, predicted),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "n": len(y),
        "positive_share": float(np.mean(y)),
    }


def test_figures(
    y: np.ndarray, proba: np.ndarray, threshold: float, samples: int, seed: int
) -> dict[str, float]:
    """metrics/evaluate.json's `test` block: TEST_FIGURES and the ROC-AUC's bootstrap interval."""
    full = classification_metrics(y, proba, threshold)
    low, high = bootstrap_auc_interval(y, proba, samples, seed)
    return {
        **{k: full[k] for k in TEST_FIGURES},
        "roc_auc_ci95_low": low,
        "roc_auc_ci95_high": high,
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
    aucs = [auc_from_ranks(y[rows], proba[rows]) for rows in two_class_resamples(y, samples, seed)]
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


def protocol_inputs(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Every customer (both parts, by id): the protocol's folds are drawn over all of them."""
    everyone = pd.concat([train.assign(split="train"), test.assign(split="test")])
    return everyone.sort_values(ID, kind="mergesort").reset_index(drop=True)


def fold_table(everyone: pd.DataFrame, folds: list) -> pd.DataFrame:
    """id, repeat, fold: which outer fold held each customer out in each repeat (the shap
    stage explains every customer with the models that scored it)."""
    parts = [
        pd.DataFrame({ID: everyone[ID].to_numpy()[held], "repeat": r, "fold": f})
        for r, f, _, held in folds
    ]
    return pd.concat(parts).sort_values([ID, "repeat"], kind="mergesort").reset_index(drop=True)


def scores_frame(everyone: pd.DataFrame, held_out: np.ndarray) -> pd.DataFrame:
    """id, split, declined, probability: the mean over repeats of each customer's held-out
    P(declined), so no customer is scored by a model that saw its label."""
    return pd.DataFrame(
        {
            ID: everyone[ID],
            "split": everyone["split"],
            LABEL: everyone[LABEL],
            "probability": held_out.mean(axis=0),
        }
    )


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
