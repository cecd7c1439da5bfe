"""Model selection helpers for the train stage: group-aware CV, per-family search, calibration.
Everything here sees the training part only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from oneclick.core import errors
from oneclick.model.pipelines import Splits, cv_splits, pipeline_grid


def repeated_splits(y: pd.Series, groups: pd.Series, folds: int, repeats: int, seed: int) -> Splits:
    """folds x repeats splits; seeds seed+1.. so they differ from the search folds (seed)."""
    return [s for r in range(repeats) for s in cv_splits(y, groups, folds, seed + 1 + r)]


def cv_scores(
    model: BaseEstimator, X: pd.DataFrame, y: pd.Series, splits: Splits, n_jobs: int, metric: str
) -> np.ndarray:
    return cross_validate(model, X, y, cv=splits, scoring=metric, n_jobs=n_jobs)["test_score"]


def search_family(
    pipeline: Pipeline,
    grid: dict[str, list],
    X: pd.DataFrame,
    y: pd.Series,
    splits: Splits,
    n_iter: int,
    n_jobs: int,
    seed: int,
) -> dict[str, Any]:
    """Best parameters of one family by mean ROC-AUC over the given folds: the whole grid when
    it has at most n_iter points, else n_iter points drawn at random (seeded)."""
    full = pipeline_grid(grid)
    size = len(ParameterGrid(full))
    args = {"scoring": "roc_auc", "cv": splits, "n_jobs": n_jobs, "refit": False}
    if size <= n_iter:
        search = GridSearchCV(pipeline, full, error_score="raise", **args)
    else:
        search = RandomizedSearchCV(
            pipeline, full, n_iter=n_iter, random_state=seed, error_score="raise", **args
        )
    search.fit(X, y)
    return {
        "params": search.best_params_,
        "search_cv_roc_auc": float(search.cv_results_["mean_test_score"][search.best_index_]),
        "candidates": min(size, n_iter),
    }


def with_calibration(model: BaseEstimator, method: str, folds: int, seed: int) -> BaseEstimator:
    """Calibrate a pipeline's classifier step (the model stays a Pipeline whose last step is the
    classifier, which the shap stage relies on; a non-pipeline model is wrapped). ensemble=False:
    one model refit on all rows plus a monotone map, so a sigmoid keeps the ranking (ROC-AUC).
    The calibration folds ignore duplicate groups (11 pairs in the real data: negligible)."""
    inner = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)

    def wrap(estimator: BaseEstimator) -> CalibratedClassifierCV:
        return CalibratedClassifierCV(clone(estimator), method=method, cv=inner, ensemble=False)

    if isinstance(model, Pipeline):
        return Pipeline([*clone(model).steps[:-1], ("clf", wrap(model.steps[-1][1]))])
    return wrap(model)


# calibration.metric -> the sklearn scorer that measures it (lower is better after negation)
CALIBRATION_SCORERS = {"brier": "neg_brier_score", "log_loss": "neg_log_loss"}


def check_calibration_metric(metric: str) -> None:
    if metric not in CALIBRATION_SCORERS:
        known = sorted(CALIBRATION_SCORERS)
        raise errors.DataError(f"params.yaml: train.calibration.metric: {metric!r}; one of {known}")


def choose_calibration(
    model: BaseEstimator,
    X: pd.DataFrame,
    y: pd.Series,
    splits: Splits,
    methods: list[str],
    folds: int,
    seed: int,
    n_jobs: int,
    metric: str = "brier",
) -> tuple[str, dict[str, dict[str, float]]]:
    """CV Brier score and log-loss of the raw model (if it has predict_proba) and of each
    calibration method: ({metric: {method: score}}); the method with the lowest `metric` wins,
    "none" unless a method is strictly better."""
    check_calibration_metric(metric)
    candidates = {m: with_calibration(model, m, folds, seed) for m in methods}
    if hasattr(model, "predict_proba"):
        candidates = {"none": model, **candidates}
    scores: dict[str, dict[str, float]] = {name: {} for name in CALIBRATION_SCORERS}
    for method, candidate in candidates.items():
        result = cross_validate(
            candidate, X, y, cv=splits, n_jobs=n_jobs, scoring=list(CALIBRATION_SCORERS.values())
        )
        for name, scorer in CALIBRATION_SCORERS.items():
            scores[name][method] = -float(result[f"test_{scorer}"].mean())
    decisive = scores[metric]
    return min(decisive, key=lambda m: (decisive[m], m != "none")), scores


def soft_vote(members: dict[str, BaseEstimator], folds: int, seed: int) -> VotingClassifier:
    """Equal-weight soft vote of (clones of) the member pipelines. A member without
    predict_proba (SVC) gets a sigmoid calibration, as it would as the winner."""

    def with_proba(model: BaseEstimator) -> BaseEstimator:
        if hasattr(model, "predict_proba"):
            return clone(model)
        return with_calibration(model, "sigmoid", folds, seed)

    return VotingClassifier([(n, with_proba(m)) for n, m in members.items()], voting="soft")


def rank(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best repeated-CV mean first; rounding first so float noise cannot reorder; on a tie the
    simpler model (a single family before a vote of several), then name."""
    return sorted(
        board,
        key=lambda row: (
            -round(row["cv_roc_auc_mean"], 6),
            len(row.get("members", [])),
            row["family"],
        ),
    )
