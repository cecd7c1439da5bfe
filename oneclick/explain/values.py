"""The shap stage's work: SHAP values for every customer, per original feature, of the very model
whose probability the segment uses (oneclick.explain.explainers picks and runs the explainer).

Test customers are explained with the final model. Training customers are explained with the
out-of-fold model that scored them in the evaluate stage: the final model has seen their labels,
and a distance-weighted kNN simply returns them, so its explanation of a training customer says
"I remember you" rather than why the customer is at risk. Each model's background is its own
training rows. The output space is detected, not assumed: base + sum(SHAP) is compared with
P(declined) and its log-odds and must match within tolerance, and the explained probabilities
must equal data/predictions/scores.csv.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oneclick.core import entry, errors, paths
from oneclick.data.contract import GROUP, ID, LABEL
from oneclick.explain.explainers import describe, explain_model, output_space
from oneclick.model.pipelines import out_of_fold_models, predict_declined

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator


BASE, OUTPUT = "base_value", "model_output"
TOWARD = {True: "decline", False: "retention"}


def driver_table(ids: np.ndarray, data: pd.DataFrame, values: np.ndarray, top: int) -> pd.DataFrame:
    """Each customer's `top` features by |SHAP| (ties: feature order), with value and direction."""
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
    customer, feature = np.repeat(np.arange(len(ids)), order.shape[1]), order.ravel()
    shap_value = values[customer, feature]
    return pd.DataFrame(
        {
            ID: ids[customer],
            "rank": np.tile(np.arange(1, order.shape[1] + 1), len(ids)),
            "feature": np.asarray(data.columns)[feature],
            "value": data.to_numpy(dtype=object)[customer, feature],
            "shap": shap_value,
            "direction": [TOWARD[bool(v > 0)] for v in shap_value],
        }
    )


def importance(features: list[str], values: np.ndarray) -> list[dict[str, Any]]:
    """Mean |SHAP| per feature, largest first (ties: feature order)."""
    mean_abs = np.abs(values).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [{"feature": features[j], "mean_abs_shap": float(mean_abs[j])} for j in order]


def explanation_parts(
    model: BaseEstimator,
    train: pd.DataFrame,
    test: pd.DataFrame,
    columns: list[str],
    folds: int,
    seed: int,
) -> list[tuple[str, BaseEstimator, pd.DataFrame, pd.DataFrame]]:
    """(name, model, background, customers) per explained part: the test part by the final
    model against all training rows; each training fold by the out-of-fold model that scored
    it in the evaluate stage (same folds), against that model's own training rows."""
    parts = [("final model", model, train[columns], test)]
    fold_models = out_of_fold_models(model, train[columns], train[LABEL], train[GROUP], folds, seed)
    for k, (fit, held, fold_model) in enumerate(fold_models, start=1):
        parts.append((f"fold {k}/{folds}", fold_model, train.iloc[fit][columns], train.iloc[held]))
    return parts


def explain_parts(
    parts: list[tuple[str, BaseEstimator, pd.DataFrame, pd.DataFrame]],
    columns: list[str],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(table: id, SHAP per feature, base value, model output, sorted by id; summary: explainer,
    output space, customers and base value per part) for every part, each by its own model."""
    tables, spaces, explainers, summary = [], set(), set(), {}
    for name, part_model, background, rows in parts:
        start = time.perf_counter()
        values, base, explainer = explain_model(part_model, background, rows[columns], params)
        space, output = output_space(
            base + values.sum(axis=1), predict_declined(part_model, rows[columns])
        )
        entry.log.info(
            "shap: %s, %s, %d customers in %.1f s",
            name,
            explainer,
            len(rows),
            time.perf_counter() - start,
        )
        table = pd.DataFrame(values, columns=columns)
        table.insert(0, ID, rows[ID].to_numpy())
        table[BASE], table[OUTPUT] = base, output
        tables.append(table)
        spaces.add(space)
        explainers.add(explainer)
        summary[name] = {"customers": len(rows), "base_value": base}
    if len(spaces) > 1:  # one model family throughout: a mix means a detection went wrong
        raise errors.DataError(f"{paths.MODEL_FILE.name}: SHAP output spaces differ {spaces}")
    table = pd.concat(tables).sort_values(ID, kind="mergesort").reset_index(drop=True)
    return table, {
        "explainer": " / ".join(sorted(explainers)),
        "output_space": spaces.pop(),
        "parts": summary,
    }


def check_explained(
    table: pd.DataFrame, columns: list[str], space: str, scores: pd.Series, tolerance: float
) -> dict[str, float]:
    """Base + sum(SHAP) must equal each explained model's output, and that output must be the
    probability the segment uses (scores: P(declined) by id, from data/predictions/scores.csv):
    {"max_abs_error", "max_abs_gap_to_scores"}; a miss beyond tolerance is an error."""
    error = float((table[BASE] + table[columns].sum(axis=1) - table[OUTPUT]).abs().max())
    if not error <= tolerance:
        raise errors.DataError(
            f"{paths.MODEL_FILE.name}: SHAP values miss the model output by {error:.3g} "
            f"(tolerance {tolerance})"
        )
    output = table[OUTPUT].to_numpy()
    probability = output if space == "probability" else 1 / (1 + np.exp(-output))
    gap = np.abs(probability - scores.reindex(table[ID]).to_numpy()).max()
    if not gap <= tolerance:  # NaN too: a customer without a score
        raise errors.DataError(
            f"{paths.SCORES_FILE.name}: probability differs from the explained models' by "
            f"{gap:.3g} (tolerance {tolerance}); rerun the evaluate stage"
        )
    return {"max_abs_error": error, "max_abs_gap_to_scores": float(gap)}


def require_columns(frames: dict[str, pd.DataFrame], columns: list[str]) -> None:
    """Each named frame (train/test part) must hold the keys and every model column."""
    for name, frame in frames.items():
        missing = sorted({ID, LABEL, GROUP, *columns} - set(frame.columns))
        if missing:
            raise errors.DataError(f"{name}: missing column(s) {missing}")


def shap_metrics(
    model: Any,
    summary: dict[str, Any],
    table: pd.DataFrame,
    columns: list[str],
    checks: dict[str, Any],
    tolerance: float,
) -> dict[str, Any]:
    """metrics/shap.json: the explainer used, global importance and the additivity checks."""
    return {
        "model": describe(model),
        **summary,
        "n_customers": len(table),
        "n_features": len(columns),
        "global_importance": importance(columns, table[columns].to_numpy()),
        "additivity": {**checks, "tolerance": tolerance, "within_tolerance": True},
    }
