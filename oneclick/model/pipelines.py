"""Model building blocks: the preprocessing, grouped folds, loading and predicting.

Downstream stages (evaluate, shap, scoring) get P(declined) from the saved model only through
`persistence.load_model` and `predict_declined`; model input comes from `oneclick.features.spec`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler


def predict_declined(model: Any, features: pd.DataFrame) -> np.ndarray:
    """P(declined) per row; checks that predict_proba's second column is label 1."""
    if list(model.classes_) != [0, 1]:
        raise ValueError(f"model classes {list(model.classes_)}, expected [0, 1]")
    return model.predict_proba(features)[:, 1]


Splits = list[tuple[np.ndarray, np.ndarray]]


def cv_splits(y: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> Splits:
    """Stratified folds that never separate a duplicate group: StratifiedKFold over the groups
    (a group's label: its first row's), each group's rows following it. Nearly every group is
    one customer, so this matches StratifiedGroupKFold's balance at ~1% of its cost."""
    names, first, row_group = np.unique(groups, return_index=True, return_inverse=True)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = []
    for _, held_groups in splitter.split(np.zeros(len(names)), np.asarray(y)[first]):
        held = np.isin(row_group, held_groups)
        splits.append((np.flatnonzero(~held), np.flatnonzero(held)))
    return splits


def build_preprocessor(spec: dict[str, Any]) -> ColumnTransformer:
    """Standard-scale numeric, one-hot nominal, encode ordinal in the contract's category order."""
    ordinal = spec["ordinal"]
    parts = [
        ("num", StandardScaler(), spec["numeric"]),
        ("nom", OneHotEncoder(handle_unknown="ignore", sparse_output=False), spec["nominal"]),
        ("ord", OrdinalEncoder(categories=[ordinal[c] for c in ordinal]), list(ordinal)),
    ]
    return ColumnTransformer([p for p in parts if p[2]], verbose_feature_names_out=False)
