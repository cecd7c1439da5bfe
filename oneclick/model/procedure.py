"""The training procedure: a stack of three fixed models, chosen by the protocol (bench/PEERS.md).

Members, each on the spec's encoding (one-hot favourite category, ordinal service type and
consent, standard-scaled numbers): an RBF SVC on the columns an L1 logistic regression keeps,
a distance-weighted kNN, and an L1 logistic regression. A logistic regression on their outputs
(the SVC's decision value, the others' P(declined)) combines and calibrates them. No search:
under the protocol, tuning inside each fold did not beat these fixed values, and costs ~50x.
The stack's own folds are grouped by duplicate_group, so no customer's twin scores it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import StackingClassifier
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from oneclick.model.pipelines import build_preprocessor, cv_splits

MEMBERS = ("svc", "knn", "logistic_regression")


def _l1_regression(c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(
        C=c, l1_ratio=1.0, solver="liblinear", max_iter=5000, random_state=seed
    )


def build_stack(
    spec: dict[str, Any],
    params: dict[str, Any],
    y: pd.Series | np.ndarray,
    groups: pd.Series | np.ndarray,
    seed: int,
) -> StackingClassifier:
    """The unfitted stack for the rows y/groups describe (its meta folds are those rows')."""
    svc, knn, linear = params["svc"], params["knn"], params["logistic_regression"]
    members = [
        (
            "svc",
            Pipeline(
                [
                    ("prep", build_preprocessor(spec)),
                    ("select", SelectFromModel(_l1_regression(svc["select_C"], seed))),
                    ("clf", SVC(C=svc["C"], gamma=svc["gamma"])),
                ]
            ),
        ),
        (
            "knn",
            Pipeline(
                [
                    ("prep", build_preprocessor(spec)),
                    (  # brute force: the same exact neighbours, and no tree in the model file
                        "clf",
                        KNeighborsClassifier(
                            knn["n_neighbors"], weights=knn["weights"], algorithm="brute"
                        ),
                    ),
                ]
            ),
        ),
        (
            "logistic_regression",
            Pipeline(
                [("prep", build_preprocessor(spec)), ("clf", _l1_regression(linear["C"], seed))]
            ),
        ),
    ]
    meta = params["meta"]
    return StackingClassifier(
        members,
        final_estimator=LogisticRegression(C=meta["C"], max_iter=1000),
        cv=cv_splits(pd.Series(np.asarray(y)), pd.Series(np.asarray(groups)), meta["folds"], seed),
        stack_method="auto",  # the SVC's decision value, the others' predict_proba
    )


def fit_procedure(
    spec: dict[str, Any],
    params: dict[str, Any],
    X: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
) -> StackingClassifier:
    """The whole training procedure on these rows: what the protocol re-runs in every fold."""
    return build_stack(spec, params, y, groups, params["random_state"]).fit(X, y)


def meta_weights(model: StackingClassifier) -> dict[str, float]:
    """The meta regression's weight on each member's output, and its intercept."""
    coef = model.final_estimator_.coef_.ravel()
    return {
        **{name: float(w) for name, w in zip(MEMBERS, coef, strict=True)},
        "intercept": float(model.final_estimator_.intercept_[0]),
    }
