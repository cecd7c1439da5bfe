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
from oneclick.model import cluster


def close_calls(values: np.ndarray, errors: np.ndarray, z: float) -> np.ndarray:
    """Rows whose first decline driver (the largest SHAP > 0: what picks the customer's offer)
    could change within z standard errors: the runner-up closer than z standard errors of the
    difference, or the first itself within z of 0."""
    order = np.argsort(-values, axis=1, kind="stable")[:, :2]
    value, error = np.take_along_axis(values, order, 1), np.take_along_axis(errors, order, 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0: a feature no model reads
        gap = (value[:, 0] - value[:, 1]) / np.hypot(error[:, 0], error[:, 1])
        sign = np.abs(value[:, 0]) / error[:, 0]
    return np.nan_to_num(np.fmin(gap, sign), nan=np.inf) < z


def _explain_batch(
    shared: tuple[PathExplainer, pd.DataFrame], batch: tuple[np.ndarray, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of paths start..stop of the rows of one batch (explainer.pair_means)."""
    (explainer, x), (rows, start, stop) = shared, batch
    return explainer.pair_means(x.iloc[rows], start, stop)


def explain_model(
    model: BaseEstimator,
    train_x: pd.DataFrame,
    x: pd.DataFrame,
    params: dict[str, Any],
    read: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(SHAP per feature, base value and model output per row, description) by
    path_explainer.PathExplainer, in batches over n_jobs threads: params n_paths for every
    row; n_paths_read for the rows `read` marks (those whose explanation is read), then, while
    their first decline driver is a close call (close_calls at params close_call_z), four times as
    many, up to n_paths_close. A row's paths are always the first of the same sequence, so its
    values depend on its own paths only, never on the batches or n_jobs."""
    from threadpoolctl import threadpool_limits

    seed, size = params["random_state"], params["background_size"]
    background = (
        train_x if size is None or size >= len(train_x) else train_x.sample(size, random_state=seed)
    )
    read = np.zeros(len(x), bool) if read is None else np.asarray(read, bool)
    plain, first = params["n_paths"], params.get("n_paths_read", params["n_paths"])
    most = max(first, params.get("n_paths_close", first)) if read.any() else plain
    with threadpool_limits(1):  # no OpenMP/BLAS threads spinning beside the batch threads
        explainer = PathExplainer(model, background, max(plain, most), seed)
    totals, squares = np.zeros(x.shape), np.zeros(x.shape)  # over pairs of paths
    done, output = np.zeros(len(x), int), np.empty(len(x))
    rounds = [(np.flatnonzero(~read), plain), (np.flatnonzero(read), min(first, most))]
    # n_jobs threads (the kernels drop the GIL), or the Dask cluster's workers when one is given
    with threadpool_limits(1), cluster.shared_map(params["n_jobs"], (explainer, x)) as run:
        while any(len(rows) for rows, _ in rounds):
            batches = []  # (row positions, first path, end): sizes follow the paths, not n_jobs
            for rows, stop in rounds:
                start = done[rows[0]] if len(rows) else 0
                per_batch = max(1, params["batch_elements"] // ((stop - start) * explainer.width))
                cuts = range(0, len(rows), per_batch)
                batches += [(rows[i : i + per_batch], start, stop) for i in cuts]
            results = run(_explain_batch, batches)
            for (rows, _, stop), (pairs, batch_output) in zip(batches, results, strict=True):
                totals[rows] += pairs.sum(axis=1)
                squares[rows] += (pairs**2).sum(axis=1)
                done[rows], output[rows] = stop, batch_output
            rows, stop = rounds[-1]
            if not len(rows) or stop >= most:
                break
            pairs = done[rows, None] // 2
            mean = totals[rows] / pairs
            spread = np.maximum(squares[rows] / pairs - mean**2, 0)
            error = np.sqrt(spread / np.maximum(pairs - 1, 1))
            close = close_calls(mean, error, params["close_call_z"])
            rounds = [(rows[close], min(4 * stop, most))]
    values = totals / (done[:, None] // 2)
    base = np.array([explainer.base_value(n) for n in done])
    paths = f"{plain} paths" + (f", {first}-{most} where read" if read.any() else "")
    return values, base, output, f"PathExplainer ({explainer.kind}; {paths})"
