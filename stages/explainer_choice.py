"""Which SHAP explainer a model gets, how the model is named, and how SHAP values read back.

Pipelines ending in a linear or tree model get shap's exact explainers (stages.shap_values);
everything else gets the sampled stages.path_explainer.PathExplainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

TREE_MODELS = (
    "DecisionTreeClassifier", "ExtraTreeClassifier", "RandomForestClassifier",
    "ExtraTreesClassifier", "GradientBoostingClassifier", "HistGradientBoostingClassifier",
)  # fmt: skip


def describe(estimator: Any) -> str:
    """E.g. 'Pipeline(ColumnTransformer, SelectKBest, CalibratedClassifierCV[sigmoid](SVC))'."""
    if isinstance(estimator, Pipeline):
        return f"Pipeline({', '.join(describe(step) for _, step in estimator.steps)})"
    if isinstance(estimator, CalibratedClassifierCV):
        return f"CalibratedClassifierCV[{estimator.method}]({describe(estimator.estimator)})"
    if isinstance(estimator, VotingClassifier):
        return f"VotingClassifier({', '.join(describe(e) for _, e in estimator.estimators)})"
    return type(estimator).__name__


def choose_explainer(model: Any) -> str:
    """'linear' / 'tree' (shap's exact explainers on Pipeline(transforms..., estimator)) or
    'sampled' (PathExplainer) for everything else."""
    if not isinstance(model, Pipeline) or len(model) < 2:
        return "sampled"
    last = model[-1]
    if type(last).__module__.startswith("sklearn.linear_model"):
        return "linear"
    return "tree" if type(last).__name__ in TREE_MODELS else "sampled"


def fold(values: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """SHAP values of transformed columns -> per original feature (a one-hot block adds up)."""
    return np.stack([values[:, block].sum(axis=1) for block in blocks], axis=1)


def output_space(total: np.ndarray, probability: np.ndarray) -> tuple[str, np.ndarray]:
    """Which model output base + sum(SHAP) reproduces: P(declined) or its log-odds."""
    with np.errstate(divide="ignore"):
        log_odds = np.log(probability) - np.log1p(-probability)
    spaces = {"probability": probability, "log_odds": log_odds}
    name = min(spaces, key=lambda s: np.nan_to_num(np.abs(total - spaces[s]), nan=np.inf).max())
    return name, spaces[name]
