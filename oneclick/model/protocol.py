"""The protocol that judges a training procedure: R repeats of grouped stratified K-fold CV over
all customers, the whole procedure refitted inside every outer training part.

One 323-customer test part has a split-to-split SD of ~0.017 ROC-AUC, so it cannot tell a better
procedure from luck; 50 folds, compared pairwise on the same folds, can. Fold scores are not
independent (their training parts overlap), so standard errors use the Nadeau–Bengio correction:
SE = sqrt((1/J + n_test/n_train) · var), J folds.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.utils import check_random_state

from oneclick.core import entry
from oneclick.core.stats import corrected_se
from oneclick.model import cluster
from oneclick.model.pipelines import predict_declined

PROGRESS_SECONDS = 5.0  # a progress line at most this often, none for a shorter run
Fold = tuple[int, int, np.ndarray, np.ndarray]  # repeat, fold, fit rows, held-out rows
SCORES = {
    "roc_auc": lambda y, p: roc_auc_score(y, p),
    "brier": lambda y, p: brier_score_loss(y, p),
    "log_loss": lambda y, p: log_loss(y, p, labels=[0, 1]),
}


def protocol_folds(
    y: np.ndarray, groups: np.ndarray, repeats: int, k: int, seed: int
) -> list[Fold]:
    """Repeat r splits as StratifiedGroupKFold(k, shuffle, random_state=seed + r) does: a
    duplicate group is always held out whole."""
    folds = []
    for r in range(repeats):
        fold_of_row = grouped_stratified_folds(y, groups, k, seed + r)
        for f in range(k):
            folds.append((r, f, np.flatnonzero(fold_of_row != f), np.flatnonzero(fold_of_row == f)))
    return folds


def grouped_stratified_folds(y: np.ndarray, groups: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Each row's held-out fold, the same as scikit-learn's StratifiedGroupKFold(k, shuffle=True,
    random_state=seed) (tests/model/test_protocol.py compares them), at a seventh of its cost: the
    k candidate folds of a group are scored in one array operation, not one at a time (the
    scikit-learn loop was 2 of the evaluate stage's 12 s wall on the store's files)."""
    rng = check_random_state(seed)
    _, y_inv, y_count = np.unique(y, return_inverse=True, return_counts=True)
    _, group_inv, group_count = np.unique(groups, return_inverse=True, return_counts=True)
    per_group = np.zeros((len(group_count), len(y_count)))
    np.add.at(per_group, (group_inv, y_inv), 1)
    order = np.arange(len(group_count))
    rng.shuffle(order)
    per_group = per_group[order]
    shuffled = np.empty_like(order)
    shuffled[order] = np.arange(order.size)
    group_inv = shuffled[group_inv]

    per_fold = np.zeros((k, len(y_count)))
    fold_of_group = np.empty(len(group_count), dtype=int)
    adds_to = np.eye(k)[:, :, None]  # candidate i: the group added to fold i
    for group in np.argsort(-np.std(per_group, axis=1), kind="stable"):
        counts = per_group[group]
        spread = np.std((per_fold + adds_to * counts) / y_count, axis=1).mean(axis=1)
        sizes = per_fold.sum(axis=1)
        best, best_spread, best_size = 0, np.inf, np.inf
        for i in range(k):  # scikit-learn's tie rule: within np.isclose, the smaller fold
            close = (
                best_spread < np.inf and abs(spread[i] - best_spread) <= 1e-8 + 1e-5 * best_spread
            )
            if spread[i] < best_spread or (close and sizes[i] < best_size):
                best, best_spread, best_size = i, spread[i], sizes[i]
        per_fold[best] += counts
        fold_of_group[group] = best
    return fold_of_group[group_inv]


def start_workers(n_jobs: int) -> threading.Thread:
    """Start run_protocol's n_jobs local worker processes, and their imports, in the background
    while the stage reads its inputs (≈ 2 s of start-up off the evaluate stage's wall); join the
    thread before run_protocol, which then reuses the workers. Nothing to start on one process
    or on a Dask cluster."""
    from joblib import Parallel, delayed

    def start() -> None:
        if n_jobs > 1 and cluster.scheduler_address() is None:
            modules = ["oneclick.model.procedure"] * n_jobs
            Parallel(n_jobs=n_jobs)(delayed(importlib.import_module)(m) for m in modules)

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    return thread


def run_protocol(
    fit: Callable[[pd.DataFrame, pd.Series, pd.Series], Any],
    X: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
    folds: list[Fold],
    n_jobs: int = 1,
) -> tuple[pd.DataFrame, np.ndarray, list[Any]]:
    """(per-fold scores, held-out P(declined) per repeat (repeats × customers), fitted models).

    `fit(X, y, groups)` is the whole procedure; it sees the outer training rows only. The folds
    run on n_jobs local processes, or on the Dask cluster $ONECLICK_DASK_SCHEDULER names
    (oneclick/model/cluster.py). Every PROGRESS_SECONDS after the first fold, it logs the folds
    done and an estimate of the time left."""
    from joblib import Parallel, delayed

    def one(fit_rows: np.ndarray, held: np.ndarray) -> tuple[Any, np.ndarray, dict]:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # parallelism comes from the folds
            model = fit(X.iloc[fit_rows], y.iloc[fit_rows], groups.iloc[fit_rows])
            proba = predict_declined(model, X.iloc[held])
            truth = y.iloc[held].to_numpy()  # scored here, not after the last fold arrives
            return model, proba, {name: score(truth, proba) for name, score in SCORES.items()}

    jobs = (delayed(one)(fit_rows, held) for _, _, fit_rows, held in folds)
    results: list[tuple[Any, np.ndarray, dict]] = []
    progress = entry.Progress(len(folds), PROGRESS_SECONDS)
    with cluster.joblib_backend():  # before Parallel(): it takes the backend active then
        run = Parallel(n_jobs=n_jobs, return_as="generator")
        for result in run(jobs):  # in the folds' order, whatever n_jobs or cluster
            results.append(result)
            if (left := progress.left(len(results))) is not None:
                entry.log.info(
                    "evaluate: %d/%d folds fitted, ~%.0f s left", len(results), len(folds), left
                )
    repeats = max(r for r, *_ in folds) + 1
    held_out = np.full((repeats, len(y)), np.nan)
    rows = []
    for i, ((r, f, _, held), (_, proba, scores)) in enumerate(zip(folds, results, strict=True)):
        held_out[r, held] = proba
        rows.append({"fold_index": i, "repeat": r, "fold": f, **scores})
    return pd.DataFrame(rows), held_out, [model for model, *_ in results]


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int) -> float:
    """Share-weighted mean |observed rate − mean P| over equal-width probability bins."""
    which = np.minimum((proba * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(which):
        inside = which == b
        error += inside.mean() * abs(y[inside].mean() - proba[inside].mean())
    return float(error)


def protocol_metrics(
    fold_scores: pd.DataFrame, y: np.ndarray, held_out: np.ndarray, k: int, bins: int
) -> dict[str, Any]:
    """metrics/evaluate.json's `protocol` block: per score the fold mean and corrected SE, and
    the quality of the mean held-out probability (the one the segment uses)."""
    ratio = 1 / (k - 1)
    out: dict[str, Any] = {"folds": len(fold_scores)}
    for name in SCORES:
        out[f"{name}_mean"] = float(fold_scores[name].mean())
        out[f"{name}_se"] = corrected_se(fold_scores[name].to_numpy(), ratio)
    mean_proba = held_out.mean(axis=0)
    out["out_of_fold"] = {  # its ranking is the folds' (reported above): calibration here
        "brier": float(SCORES["brier"](y, mean_proba)),
        "log_loss": float(SCORES["log_loss"](y, mean_proba)),
        "ece": expected_calibration_error(y, mean_proba, bins),
    }
    return out
