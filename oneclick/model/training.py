"""The `train` stage's work: one search over model families on the training part, then the winner.

1. Per family, a randomized search (grid when small) over params train.search_space, scored by
   ROC-AUC on StratifiedGroupKFold folds of the training part (duplicate groups kept together).
2. Each family's best is re-scored by repeated CV on fresh fold seeds; with train.vote_top = k >= 2
   a soft vote of the k best families' pipelines is scored on the same folds and competes. The
   best mean wins, a tie goes to the simpler model (fresh folds damp the optimism of picking the
   maximum of many single-CV scores).
3. Calibration: CalibratedClassifierCV wraps the winner only if it lowers the CV score named
   by train.calibration.metric (log-loss or Brier; always for models without predict_proba,
   e.g. SVC). Both scores of every method go to metrics/train.json.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import roc_auc_score

from oneclick.core import entry, errors
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns
from oneclick.model.pipelines import (
    build_pipeline,
    parse_search_space,
    predict_declined,
    readable_params,
)
from oneclick.model.search import (
    check_calibration_metric,
    choose_calibration,
    cv_scores,
    cv_splits,
    rank,
    repeated_splits,
    search_family,
    soft_vote,
    with_calibration,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def select_model(
    train: pd.DataFrame, spec: dict[str, Any], params: dict[str, Any]
) -> tuple[BaseEstimator, dict[str, Any]]:
    """Search, rank, calibrate and fit on the whole training part: (model, metrics)."""
    seed, n_jobs, folds = params["random_state"], params["n_jobs"], params["cv_folds"]
    check_calibration_metric(params["calibration"]["metric"])  # not after minutes of search
    X, y, groups = train[feature_columns(spec)], train[LABEL], train[GROUP]
    search_folds = cv_splits(y, groups, folds, seed)
    repeat_folds = repeated_splits(y, groups, folds, params["cv_repeats"], seed)

    board: list[dict[str, Any]] = []
    models: dict[str, BaseEstimator] = {}
    for family, (estimator, grid) in parse_search_space(params["search_space"], seed).items():
        start = time.perf_counter()
        pipeline = build_pipeline(spec, estimator)
        found = search_family(pipeline, grid, X, y, search_folds, params["n_iter"], n_jobs, seed)
        models[family] = clone(pipeline).set_params(**found["params"])
        scores = cv_scores(models[family], X, y, repeat_folds, n_jobs, "roc_auc")
        board.append(
            {
                "family": family,
                "params": readable_params(found["params"]),
                "candidates": found["candidates"],
                "search_cv_roc_auc": found["search_cv_roc_auc"],
                "cv_roc_auc_mean": float(scores.mean()),
                "cv_roc_auc_std": float(scores.std()),
            }
        )
        entry.log.info(
            "train: %-22s %2d candidates, repeated CV ROC-AUC %.4f ± %.4f (%.1f s)",
            family,
            found["candidates"],
            scores.mean(),
            scores.std(),
            time.perf_counter() - start,
        )
    board = rank(board)
    if params["vote_top"]:
        row, models["soft_vote"] = vote_candidate(board, models, X, y, repeat_folds, params)
        board = rank([*board, row])
    winner = board[0]

    calibration = params["calibration"]
    method, scores = choose_calibration(
        models[winner["family"]],
        X,
        y,
        search_folds,
        calibration["methods"],
        calibration["cv"],
        seed,
        n_jobs,
        calibration["metric"],
    )
    model = models[winner["family"]]
    if method != "none":
        model = with_calibration(model, method, calibration["cv"], seed)
    entry.log.info("train: winner %s, calibration %s, CV %s", winner["family"], method, scores)
    metrics = {
        "winner": {"family": winner["family"], "params": winner["params"]},
        "cv_roc_auc_mean": winner["cv_roc_auc_mean"],
        "cv_roc_auc_std": winner["cv_roc_auc_std"],
        "cv_folds": folds,
        "cv_repeats": params["cv_repeats"],
        "n_train": len(train),
        "calibration": {
            "chosen": method,
            "metric": calibration["metric"],
            **{f"cv_{name}": by_method for name, by_method in scores.items()},
        },
        "leaderboard": board,
    }
    return model.fit(X, y), metrics


def vote_candidate(
    board: list[dict[str, Any]],
    models: dict[str, BaseEstimator],
    X: pd.DataFrame,
    y: pd.Series,
    splits: list,
    params: dict[str, Any],
) -> tuple[dict[str, Any], BaseEstimator]:
    """(leaderboard row, model) of the soft vote of the train.vote_top best families (board is
    ranked), each its tuned pipeline, scored on the same repeated-CV folds as the families."""
    k = params["vote_top"]
    if not 2 <= k <= len(board):
        raise errors.DataError(f"params.yaml: train.vote_top: {k}; 0 = off or 2..{len(board)}")
    top = board[:k]
    members = {row["family"]: models[row["family"]] for row in top}
    vote = soft_vote(members, params["calibration"]["cv"], params["random_state"])
    start = time.perf_counter()
    scores = cv_scores(vote, X, y, splits, params["n_jobs"], "roc_auc")
    entry.log.info(
        "train: soft_vote of %s, repeated CV ROC-AUC %.4f ± %.4f (%.1f s)",
        list(members),
        scores.mean(),
        scores.std(),
        time.perf_counter() - start,
    )
    row = {
        "family": "soft_vote",
        "members": list(members),
        "params": {member["family"]: member["params"] for member in top},
        "candidates": 1,
        "search_cv_roc_auc": None,
        "cv_roc_auc_mean": float(scores.mean()),
        "cv_roc_auc_std": float(scores.std()),
    }
    return row, vote


def nested_cv(
    train: pd.DataFrame,
    spec: dict[str, Any],
    params: dict[str, Any],
    folds: int,
    outer_seed: int | None = None,
) -> dict[str, Any]:
    """ROC-AUC of the whole selection procedure on outer folds it never saw: the winner's own
    repeated-CV score is the best of many, so it is optimistic; this one is not (costs
    `folds` extra runs of select_model). Outer folds: seed outer_seed (default random_state
    + 100, apart from the inner folds' seeds)."""
    y, groups = train[LABEL], train[GROUP]
    if outer_seed is None:
        outer_seed = params["random_state"] + 100
    scores, winners = [], []
    for fold, (inner, outer) in enumerate(cv_splits(y, groups, folds, outer_seed)):
        entry.log.info("train: nested CV, outer fold %d/%d", fold + 1, folds)
        model, metrics = select_model(train.iloc[inner], spec, params)
        proba = predict_declined(model, train.iloc[outer][feature_columns(spec)])
        scores.append(roc_auc_score(y.iloc[outer], proba))
        winners.append(metrics["winner"]["family"])
    return {
        "roc_auc_mean": float(np.mean(scores)),
        "roc_auc_std": float(np.std(scores)),
        "folds": folds,
        "winners": winners,
    }


def plot_leaderboard(board: list[dict[str, Any]]) -> Figure:
    import matplotlib.pyplot as plt

    board = board[::-1]  # best on top
    means = [row["cv_roc_auc_mean"] for row in board]
    low = min(means) - 0.05
    figure, axis = plt.subplots(figsize=(7, 0.5 * len(board) + 1.5))
    axis.barh(
        [row["family"] for row in board],
        [m - low for m in means],
        left=low,
        xerr=[row["cv_roc_auc_std"] for row in board],
        capsize=4,
        color=["tab:green" if row is board[-1] else "tab:grey" for row in board],
    )
    for i, mean in enumerate(means):
        axis.text(low + 0.003, i, f"{mean:.4f}", va="center", color="white")
    axis.set_xlim(low, 1.0)
    axis.set_xlabel("ROC-AUC, repeated stratified group CV (mean ± std over folds)")
    axis.set_title("Best model of each family (training part only)")
    return figure
