"""Stage `shap`: SHAP values of the chosen model for every customer, per original feature.

The explainer follows the model family (stages.explainer_choice.choose_explainer):
* linear model -> shap.LinearExplainer: exact, in log-odds (where a linear model is additive);
* tree model -> shap.TreeExplainer (path-dependent): exact; probability for trees and forests,
  log-odds for boosting;
* anything else (SVC, KNN, calibrated or voting wrappers) -> stages.path_explainer.PathExplainer:
  sampled interventional SHAP of P(declined), exact in sum, built on the model's structure so it
  costs milliseconds per customer where shap's model-agnostic explainers cost about a second.
One-hot columns fold back to their feature. The output space is detected, not assumed: base +
sum(SHAP) is compared with P(declined) and its log-odds, and must match within tolerance.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stages import common
from stages.contract import ID
from stages.explainer_choice import choose_explainer, describe, fold, output_space
from stages.model_decomposition import Unsupported, feature_blocks
from stages.modeling import feature_columns, load_model, load_spec, predict_declined
from stages.path_explainer import PathExplainer

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from sklearn.base import BaseEstimator


SHAP_VALUES = common.SHAP_DIR / "values.csv"
DRIVERS = common.SHAP_DIR / "drivers.csv"
FEATURE_VALUES = common.SHAP_DIR / "feature_values.csv"
PLOTS = common.PLOTS_DIR / "shap"
BASE, OUTPUT = "base_value", "model_output"
TOWARD = {True: "decline", False: "retention"}


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
    model: BaseEstimator, train_x: pd.DataFrame, x: pd.DataFrame, params: dict[str, Any]
) -> tuple[np.ndarray, float, str]:
    """(SHAP per feature, base value, description) by path_explainer.PathExplainer, batched."""
    from sklearn.utils.parallel import Parallel, delayed
    from threadpoolctl import threadpool_limits

    seed, size = params["random_state"], params["background_size"]
    background = (
        train_x if size is None or size >= len(train_x) else train_x.sample(size, random_state=seed)
    )
    explainer = PathExplainer(model, background, pd.concat([train_x, x]), params["n_paths"], seed)
    per_batch = max(1, params["batch_elements"] // (params["n_paths"] * explainer.width))
    batches = [x.iloc[i : i + per_batch] for i in range(0, len(x), per_batch)]
    results = []
    with threadpool_limits(1):  # one BLAS thread per worker thread
        parallel = Parallel(n_jobs=params["n_jobs"], prefer="threads", return_as="generator")
        for done, result in enumerate(parallel(delayed(explainer.explain)(b) for b in batches)):
            results.append(result[0])
            if (done + 1) % max(1, len(batches) // 5) == 0:
                done_rows = min((done + 1) * per_batch, len(x))
                common.log.info("shap: %d/%d customers explained", done_rows, len(x))
    values = np.vstack(results) if results else np.empty((0, x.shape[1]))
    return values, explainer.base, f"PathExplainer ({explainer.kind}; {params['n_paths']} paths)"


def explain_model(
    model: BaseEstimator, train_x: pd.DataFrame, x: pd.DataFrame, params: dict[str, Any]
) -> tuple[np.ndarray, float, str]:
    """(SHAP per original feature, base value, explainer description) for every row of x."""
    kind = choose_explainer(model)
    if kind != "sampled":
        try:
            blocks = feature_blocks(model[:-1].transform, train_x)
        except Unsupported:
            kind = "sampled"
    if kind == "sampled":
        return sampled_shap(model, train_x, x, params)
    prep = model[:-1]
    train_rows, rows = np.asarray(prep.transform(train_x)), np.asarray(prep.transform(x))
    values, base = exact_shap(kind, model[-1], train_rows, rows)
    name = "LinearExplainer" if kind == "linear" else "TreeExplainer (tree_path_dependent)"
    return fold(values, blocks), base, name


def driver_table(ids: np.ndarray, data: pd.DataFrame, values: np.ndarray, top: int) -> pd.DataFrame:
    """Each customer's `top` features by |SHAP| (ties: feature order), with value and direction."""
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
    customer, feature = np.repeat(np.arange(len(ids)), order.shape[1]), order.ravel()
    shap_value = values[customer, feature]
    return pd.DataFrame({
        ID: ids[customer],
        "rank": np.tile(np.arange(1, order.shape[1] + 1), len(ids)),
        "feature": np.asarray(data.columns)[feature],
        "value": data.to_numpy(dtype=object)[customer, feature],
        "shap": shap_value,
        "direction": [TOWARD[bool(v > 0)] for v in shap_value],
    })  # fmt: skip


def importance(features: list[str], values: np.ndarray) -> list[dict[str, Any]]:
    """Mean |SHAP| per feature, largest first (ties: feature order)."""
    mean_abs = np.abs(values).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [{"feature": features[j], "mean_abs_shap": float(mean_abs[j])} for j in order]


def plot_importance(ranking: list[dict[str, Any]], space: str) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 0.35 * len(ranking) + 1.2))
    axis.barh([r["feature"] for r in ranking][::-1], [r["mean_abs_shap"] for r in ranking][::-1])
    axis.set_xlabel(f"mean |SHAP value| ({space} of decline)")
    axis.set_title("Global feature importance")
    return figure


def plot_beeswarm(
    values: np.ndarray, base: float, data: pd.DataFrame, spec: dict, seed: int, space: str
) -> Figure:
    """shap's beeswarm; ordinal features coloured by order, nominal ones grey."""
    import matplotlib.pyplot as plt
    import shap

    colour = data.copy()
    for name, order in spec["ordinal"].items():
        colour[name] = colour[name].map({v: i for i, v in enumerate(order)})
    for name in spec["nominal"]:
        colour[name] = np.nan
    explanation = shap.Explanation(
        values, base_values=np.full(len(values), base),
        data=colour.to_numpy(dtype=float), feature_names=list(data.columns),
    )  # fmt: skip
    np.random.seed(seed)  # beeswarm jitters with the global generator
    with warnings.catch_warnings():  # an all-grey (nominal) row has no colour range
        warnings.simplefilter("ignore", RuntimeWarning)
        shap.plots.beeswarm(explanation, max_display=len(data.columns), show=False)
    plt.gca().set_xlabel(f"SHAP value ({space} of decline)")
    return plt.gcf()


def main() -> None:
    common.setup_matplotlib()
    params = common.load_params()["shap"]
    spec = load_spec()
    columns = feature_columns(spec)
    train, test = pd.read_csv(common.TRAIN_FILE), pd.read_csv(common.TEST_FILE)
    for path, frame in ((common.TRAIN_FILE, train), (common.TEST_FILE, test)):
        missing = sorted(set([ID, *columns]) - set(frame.columns))
        if missing:
            raise common.DataError(f"{path.name}: missing column(s) {missing}")
    everyone = pd.concat([train, test]).sort_values(ID, kind="mergesort").reset_index(drop=True)
    data = everyone[columns]
    model = load_model()

    start = time.perf_counter()
    values, base, explainer = explain_model(model, train[columns], data, params)
    common.log.info(
        "shap: %s, %d customers in %.1f s", explainer, len(data), time.perf_counter() - start
    )
    space, output = output_space(base + values.sum(axis=1), predict_declined(model, data))
    error = float(np.abs(base + values.sum(axis=1) - output).max())
    if not error <= params["additivity_tolerance"]:
        raise common.DataError(
            f"{common.MODEL_FILE.name}: SHAP values miss the model output by {error:.3g} "
            f"(tolerance {params['additivity_tolerance']})"
        )

    ids = everyone[ID].to_numpy()
    table = pd.DataFrame(values, columns=columns)
    table.insert(0, ID, ids)
    table[BASE], table[OUTPUT] = base, output
    common.write_csv(table, SHAP_VALUES)
    common.write_csv(everyone[[ID, *columns]], FEATURE_VALUES)
    common.write_csv(driver_table(ids, data, values, params["top_drivers"]), DRIVERS)
    ranking = importance(columns, values)
    common.write_json({
        "model": describe(model), "explainer": explainer, "output_space": space,
        "n_customers": len(data), "n_features": len(columns), "base_value": base,
        "global_importance": ranking,
        "additivity": {"max_abs_error": error, "tolerance": params["additivity_tolerance"],
                       "within_tolerance": True},
    }, common.METRICS_DIR / "shap.json")  # fmt: skip
    common.save_figure(plot_importance(ranking, space), PLOTS / "importance.png")
    common.save_figure(
        plot_beeswarm(values, base, data, spec, params["random_state"], space),
        PLOTS / "beeswarm.png",
    )


if __name__ == "__main__":
    common.run(main)
