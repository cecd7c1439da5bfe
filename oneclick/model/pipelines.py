"""Model building blocks: pipelines, search spaces, grouped folds, loading and predicting.

Downstream stages (evaluate, shap, scoring) get P(declined) from the saved model only through
`persistence.load_model` and `predict_declined`; model input comes from `oneclick.features.spec`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from oneclick.core import errors

SCALERS: dict[str, Callable[[], Any]] = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "passthrough": lambda: "passthrough",
}

# family -> estimator with defaults that are not searched (seeded where the estimator is random)
FAMILIES: dict[str, Callable[[int], BaseEstimator]] = {
    "knn": lambda seed: KNeighborsClassifier(),
    "decision_tree": lambda seed: DecisionTreeClassifier(random_state=seed),
    "logistic_regression": lambda seed: LogisticRegression(max_iter=5000, random_state=seed),
    "svc": lambda seed: SVC(random_state=seed),
    "random_forest": lambda seed: RandomForestClassifier(random_state=seed, n_jobs=1),
    "hist_gradient_boosting": lambda seed: HistGradientBoostingClassifier(random_state=seed),
}

# search-space keys that are pipeline steps, not estimator parameters
SCALER_KEY = "scaler"  # numeric scaler, a SCALERS name
SELECT_KEY = "select_k"  # keep the k encoded columns with the highest ANOVA F ("all": keep all)
STEP_KEYS = {SCALER_KEY: "prep__num", SELECT_KEY: "select__k"}


def predict_declined(model: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """P(declined) per row; checks that predict_proba's second column is label 1."""
    if list(model.classes_) != [0, 1]:
        raise ValueError(f"model classes {list(model.classes_)}, expected [0, 1]")
    return model.predict_proba(features)[:, 1]


Splits = list[tuple[np.ndarray, np.ndarray]]


def cv_splits(y: pd.Series, groups: pd.Series, folds: int, seed: int) -> Splits:
    """Stratified folds that never separate a duplicate group."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def out_of_fold_models(
    model: BaseEstimator, X: pd.DataFrame, y: pd.Series, groups: pd.Series, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray, BaseEstimator]]:
    """(fit rows, held-out rows, clone of model fitted on the fit rows) per fold, duplicate
    groups inside one fold. The evaluate stage scores training customers with these models and
    the shap stage explains them with the same ones: the final model has seen their labels
    (a distance-weighted kNN returns them), so neither may use it for them."""
    return [
        (fit, held, clone(model).fit(X.iloc[fit], y.iloc[fit]))
        for fit, held in cv_splits(y, groups, folds, seed)
    ]


def build_preprocessor(spec: dict[str, Any], scaler: str = "standard") -> ColumnTransformer:
    """Scale numeric, one-hot nominal, encode ordinal in the contract's category order."""
    ordinal = spec["ordinal"]
    parts = [
        ("num", SCALERS[scaler](), spec["numeric"]),
        ("nom", OneHotEncoder(handle_unknown="ignore", sparse_output=False), spec["nominal"]),
        ("ord", OrdinalEncoder(categories=[ordinal[c] for c in ordinal]), list(ordinal)),
    ]
    return ColumnTransformer([p for p in parts if p[2]], verbose_feature_names_out=False)


def build_pipeline(
    spec: dict[str, Any], estimator: BaseEstimator, scaler: str = "standard", k: int | str = "all"
) -> Pipeline:
    """prep (encode, scale) -> select (univariate filter, fitted inside each CV fold, so the
    CV score pays for the selection) -> clf."""
    return Pipeline(
        [
            ("prep", build_preprocessor(spec, scaler)),
            ("select", SelectKBest(f_classif, k=k)),
            ("clf", estimator),
        ]
    )


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_search_space(
    space: dict[str, dict[str, Any]], random_state: int
) -> dict[str, tuple[BaseEstimator, dict[str, list]]]:
    """params train.search_space -> {family: (estimator with fixed params, grid)}.

    In a family block a list is searched, a scalar is fixed; `scaler` names a SCALERS entry,
    `select_k` is the number of encoded columns to keep. Grid keys are the family's own names
    (C, scaler); `pipeline_grid` turns them into Pipeline parameter names.
    """
    parsed = {}
    for family, block in space.items():
        if family not in FAMILIES:
            raise errors.DataError(
                f"params.yaml: train.search_space: unknown family {family!r}; "
                f"known: {sorted(FAMILIES)}"
            )
        estimator = FAMILIES[family](random_state)
        allowed = {*estimator.get_params(deep=False), *STEP_KEYS}
        unknown = sorted(set(block) - allowed)
        if unknown:
            raise errors.DataError(
                f"params.yaml: train.search_space.{family}: unknown parameter(s) {unknown}"
            )
        # a list is searched; a scalar is a one-value list (step keys) or fixed (estimator)
        grid = {k: v if isinstance(v, list) else [v] for k, v in block.items()}
        if any(not values for values in grid.values()):
            raise errors.DataError(f"params.yaml: train.search_space.{family}: empty list")
        bad = sorted(set(map(str, grid.get(SCALER_KEY, []))) - set(SCALERS))
        bad += [k for k in grid.get(SELECT_KEY, []) if k != "all" and not _positive_int(k)]
        if bad:
            raise errors.DataError(
                f"params.yaml: train.search_space.{family}: bad scaler/select_k {bad}; "
                f"scalers: {sorted(SCALERS)}, select_k: a positive int or all"
            )
        fixed = {k: v for k, v in block.items() if k not in STEP_KEYS and not isinstance(v, list)}
        grid = {k: v for k, v in grid.items() if k in STEP_KEYS or isinstance(block[k], list)}
        parsed[family] = (estimator.set_params(**fixed), grid)
    return parsed


def pipeline_grid(grid: dict[str, list]) -> dict[str, list]:
    """Family grid -> Pipeline parameter names (scaler names become scaler objects)."""
    out = {}
    for key, values in grid.items():
        if key == SCALER_KEY:
            out[STEP_KEYS[key]] = [SCALERS[name]() for name in values]
        else:
            out[STEP_KEYS.get(key, f"clf__{key}")] = list(values)
    return out


def scaler_name(scaler: Any) -> str:
    if isinstance(scaler, str):
        return scaler
    return next(name for name, make in SCALERS.items() if type(make()) is type(scaler))


def readable_params(pipeline_params: dict[str, Any]) -> dict[str, Any]:
    """Pipeline parameter dict -> the family grid's names (inverse of pipeline_grid)."""
    names = {v: k for k, v in STEP_KEYS.items()}
    out = {}
    for key, value in pipeline_params.items():
        if key == STEP_KEYS[SCALER_KEY]:
            out[SCALER_KEY] = scaler_name(value)
        else:
            out[names.get(key, key.removeprefix("clf__"))] = value
    return dict(sorted(out.items()))
