"""SHAP values of a fitted model per original feature, by path_explainer.PathExplainer: sampled
interventional SHAP of P(declined), exact in sum, built on the model's structure (the stack the
procedure builds) so it costs milliseconds per customer where shap's model-agnostic explainers
cost about a second. A model it cannot take apart is refused (decomposition.Unsupported names
what).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from oneclick.explain.path_explainer import PathExplainer


def explain_model(
    model: BaseEstimator,
    train_x: pd.DataFrame,
    x: pd.DataFrame,
    params: dict[str, Any],
    read: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(SHAP per original feature, base value and model output per row, explainer description)
    for every row of x: params n_paths for every row, n_paths_read for the rows `read` marks
    (those whose explanation is read), in batches over n_jobs threads."""
    from concurrent.futures import ThreadPoolExecutor

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
    with threadpool_limits(1), ThreadPoolExecutor(params["n_jobs"]) as pool:  # kernels drop the GIL
        results = pool.map(lambda b: explainer.explain(x.iloc[b[0]], b[1]), batches)
        for (rows, n_paths), (batch_values, batch_output) in zip(batches, results, strict=True):
            values[rows], output[rows] = batch_values, batch_output
            base[rows] = explainer.base_value(n_paths)
    paths = f"{params['n_paths']} paths" + (f", {n_read} where read" if read.any() else "")
    return values, base, output, f"PathExplainer ({explainer.kind}; {paths})"
