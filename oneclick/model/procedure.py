"""The training procedure: a stack of three fixed models, chosen by the protocol (bench/PEERS.md).

Members, all on one shared encoding fitted once before them (one-hot favourite category,
ordinal service type and consent, standard-scaled numbers): an RBF SVC on the columns an L1
logistic regression keeps, a distance-weighted kNN, and an L1 logistic regression. A logistic
regression on their outputs (the SVC's decision value, the others' P(declined)) combines and
calibrates them. No search:
under the protocol, tuning inside each fold did not beat these fixed values, and costs ~50x.
The stack's own folds are stratified folds of duplicate groups, so no customer's twin scores it.

For a large store, `train.svc.max_rows` / `train.knn.max_rows` fit the SVC / kNN on a
class-stratified random subsample of at most that many rows (null: all rows, the default): the
SVC's fit grows ~quadratically with rows and both members' rows set the cost of every prediction
and SHAP path, so a cap makes the cost grow linearly with customers (bench/SCALE.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.ensemble import StackingClassifier
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from oneclick.model.pipelines import build_preprocessor, cv_splits

MEMBERS = ("svc", "knn", "logistic_regression")


def capped_rows(y: np.ndarray, max_rows: int | None, seed: int | None) -> np.ndarray:
    """Positions of a class-stratified random subsample of at most max_rows rows, in their
    original order; all rows when max_rows is None or not below the row count."""
    y = np.asarray(y)
    if max_rows is None or len(y) <= max_rows:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    takes = np.floor(max_rows * counts / len(y)).astype(int)
    takes[: max_rows - takes.sum()] += 1  # the rounding remainder, so exactly max_rows
    picked = [
        rng.choice(np.flatnonzero(y == c), t, replace=False)
        for c, t in zip(labels, takes, strict=True)
    ]
    return np.sort(np.concatenate(picked))


class CappedSVC(SVC):
    """An RBF SVC fitted on capped_rows(max_rows) of its training rows; to the explainer, an SVC."""

    def __init__(
        self,
        *,
        C: float = 1.0,
        gamma: str | float = "scale",
        max_rows: int | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__(C=C, gamma=gamma, random_state=random_state)
        self.max_rows = max_rows

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: None = None) -> CappedSVC:
        rows = capped_rows(y, self.max_rows, self.random_state)
        return super().fit(X[rows], np.asarray(y)[rows])


class CappedKNN(KNeighborsClassifier):
    """A kNN fitted on capped_rows(max_rows) of its training rows; to the explainer, a kNN."""

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str = "uniform",
        algorithm: str = "brute",
        max_rows: int | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__(n_neighbors, weights=weights, algorithm=algorithm)
        self.max_rows, self.random_state = max_rows, random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> CappedKNN:
        rows = capped_rows(y, self.max_rows, self.random_state)
        return super().fit(X[rows], np.asarray(y)[rows])


def _l1_regression(c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(
        C=c, l1_ratio=1.0, solver="liblinear", max_iter=5000, random_state=seed
    )


def _svc(params: dict[str, Any], seed: int) -> SVC:
    if params["max_rows"] is None:  # a plain SVC: the model file as before the cap existed
        return SVC(C=params["C"], gamma=params["gamma"])
    return CappedSVC(
        C=params["C"], gamma=params["gamma"], max_rows=params["max_rows"], random_state=seed
    )


def _knn(params: dict[str, Any], seed: int) -> KNeighborsClassifier:
    # brute force: the same exact neighbours, and no tree in the model file
    k, weights = params["n_neighbors"], params["weights"]
    if params["max_rows"] is None:
        return KNeighborsClassifier(k, weights=weights, algorithm="brute")
    return CappedKNN(k, weights=weights, max_rows=params["max_rows"], random_state=seed)


def build_stack(
    spec: dict[str, Any],
    params: dict[str, Any],
    y: pd.Series | np.ndarray,
    groups: pd.Series | np.ndarray,
    seed: int,
) -> Pipeline:
    """The unfitted procedure for the rows y/groups describe (its meta folds are those rows'):
    one shared preprocessor, then the stack of members on its output."""
    svc, knn, linear = params["svc"], params["knn"], params["logistic_regression"]
    members = [
        (
            "svc",
            Pipeline(
                [
                    ("select", SelectFromModel(_l1_regression(svc["select_C"], seed))),
                    ("clf", _svc(svc, seed)),
                ]
            ),
        ),
        ("knn", _knn(knn, seed)),
        ("logistic_regression", _l1_regression(linear["C"], seed)),
    ]
    meta = params["meta"]
    stack = StackingClassifier(
        members,
        final_estimator=LogisticRegression(C=meta["C"], max_iter=1000),
        cv=cv_splits(np.asarray(y), np.asarray(groups), meta["folds"], seed),
        stack_method="auto",  # the SVC's decision value, the others' predict_proba
    )
    return Pipeline([("prep", build_preprocessor(spec)), ("stack", stack)])


def fit_procedure(
    spec: dict[str, Any],
    params: dict[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
) -> Pipeline:
    """The whole training procedure on these rows: what the protocol re-runs in every fold.

    scikit-learn's argument and finiteness checks are skipped: the parameters are checked by
    check_params and the features by the features stage, and the checks cost ~20% of a fit."""
    with config_context(assume_finite=True, skip_parameter_validation=True):
        return build_stack(spec, params, y, groups, params["random_state"]).fit(X, y)


def meta_weights(model: Pipeline) -> dict[str, float]:
    """The meta regression's weight on each member's output, and its intercept."""
    meta = model["stack"].final_estimator_
    return {
        **{name: float(w) for name, w in zip(MEMBERS, meta.coef_.ravel(), strict=True)},
        "intercept": float(meta.intercept_[0]),
    }
