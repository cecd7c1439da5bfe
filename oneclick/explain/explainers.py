"""SHAP values of a fitted pipeline per original feature: which explainer a model gets, running
it, how the model is named, and how SHAP values read back.

The explainer follows the model family (choose_explainer):
* linear model -> shap.LinearExplainer: exact, in log-odds (where a linear model is additive);
* tree model -> shap.TreeExplainer (path-dependent): exact; probability for trees and forests,
  log-odds for boosting;
* anything else (the stack the procedure builds) -> path_explainer.PathExplainer:
  sampled interventional SHAP of P(declined), exact in sum, built on the model's structure so it
  costs milliseconds per customer where shap's model-agnostic explainers cost about a second.
One-hot columns fold back to their feature.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from oneclick.explain.decomposition import Unsupported, feature_blocks
from oneclick.explain.path_explainer import PathExplainer
from oneclick.model import cluster

TREE_MODELS = (
    "DecisionTreeClassifier",
    "ExtraTreeClassifier",
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "GradientBoostingClassifier",
    "HistGradientBoostingClassifier",
)


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


def exact_shap(
    kind: str, estimator: BaseEstimator, train_rows: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, float]:
    """(SHAP per transformed column, base value) from shap's exact explainers."""
    import shap

    if kind == "linear":
        masker = shap.maskers.Independent(train_rows, max_samples=len(train_rows))
        explainer = shap.LinearExplainer(estimator, masker)
        return np.asarray(explainer.shap_values(rows)), float(explainer.expected_value)
    explainer = shap.TreeExplainer(estimator)
    values = np.asarray(explainer.shap_values(rows, check_additivity=False))
    base = np.atleast_1d(explainer.expected_value)
    return (values[..., 1], float(base[1])) if values.ndim == 3 else (values, float(base[0]))


def sampled_shap(
    model: BaseEstimator,
    train_x: pd.DataFrame,
    x: pd.DataFrame,
    params: dict[str, Any],
    read: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(SHAP per feature, base value and model output per row, description) by
    path_explainer.PathExplainer: params n_paths for every row, n_paths_read for the rows
    `read` marks (those whose explanation is read), in batches over n_jobs threads."""
    from threadpoolctl import threadpool_limits

    seed, size = params["random_state"], params["background_size"]
    background = (
        train_x if size is None or size >= len(train_x) else train_x.sample(size, random_state=seed)
    )
    read = np.zeros(len(x), bool) if read is None else np.asarray(read, bool)
    n_read = params.get("n_paths_read", params["n_paths"]) if read.any() else params["n_paths"]
    most = max(params["n_paths"], n_read)
    with threadpool_limits(1):  # no OpenMP/BLAS threads spinning beside the batch threads
        explainer = PathExplainer(model, background, most, seed)
    batches = []  # (row positions, paths): batch sizes follow the paths, never n_jobs
    for mask, n_paths in ((~read, params["n_paths"]), (read, n_read)):
        rows = np.flatnonzero(mask)
        per_batch = max(1, params["batch_elements"] // (n_paths * explainer.width))
        batches += [(rows[i : i + per_batch], n_paths) for i in range(0, len(rows), per_batch)]
    values, base, output = np.empty(x.shape), np.empty(len(x)), np.empty(len(x))
    # n_jobs threads (the kernels drop the GIL), or the Dask cluster's workers when one is given
    with threadpool_limits(1), cluster.executor(params["n_jobs"]) as pool:
        results = pool.map(lambda b: explainer.explain(x.iloc[b[0]], b[1]), batches)
        for (rows, n_paths), (batch_values, batch_output) in zip(batches, results, strict=True):
            values[rows], output[rows] = batch_values, batch_output
            base[rows] = explainer.base_value(n_paths)
    paths = f"{params['n_paths']} paths" + (f", {n_read} where read" if read.any() else "")
    return values, base, output, f"PathExplainer ({explainer.kind}; {paths})"


def explain_model(
    model: BaseEstimator,
    train_x: pd.DataFrame,
    x: pd.DataFrame,
    params: dict[str, Any],
    read: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | float, np.ndarray, str]:
    """(SHAP per original feature, base value, the explained model output, explainer
    description) for every row of x; a sampled explainer spends more paths on `read` rows."""
    kind = choose_explainer(model)
    if kind != "sampled":
        try:
            blocks = feature_blocks(model[:-1].transform, train_x)
        except Unsupported:
            kind = "sampled"
    if kind == "sampled":
        return sampled_shap(model, train_x, x, params, read)
    prep = model[:-1]
    train_rows, rows = np.asarray(prep.transform(train_x)), np.asarray(prep.transform(x))
    values, base = exact_shap(kind, model[-1], train_rows, rows)
    name = "LinearExplainer" if kind == "linear" else "TreeExplainer (tree_path_dependent)"
    return fold(values, blocks), base, model.predict_proba(x)[:, 1], name
