"""The shap stage's work: SHAP values for every customer, per original feature, of the very
probability the segment uses (oneclick.explain.explainers runs the path explainer).

That probability is the mean of the customer's held-out probabilities over the protocol's
repeats (data/predictions/scores.csv), so each customer is explained by the models that scored
it, never by one that saw its label (a distance-weighted kNN simply returns a training label:
its explanation would say "I remember you"). Each model's background is its own training rows.
The explainer explains P(declined) itself (averaging over repeats needs the probability
space): base + sum(SHAP) must match each model's probability within tolerance, and the
explained probabilities must equal data/predictions/scores.csv.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oneclick.core import entry, errors, paths
from oneclick.data.contract import GROUP, ID, LABEL
from oneclick.explain.explainers import explain_model
from oneclick.model import cluster

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator


BASE, OUTPUT = "base_value", "model_output"
TOWARD = {True: "decline", False: "retention"}
PROGRESS_SECONDS = 5  # at most one progress line this often


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
    fold_models: list[BaseEstimator],
    everyone: pd.DataFrame,
    folds: pd.DataFrame,
    columns: list[str],
) -> list[tuple[str, BaseEstimator, pd.DataFrame, pd.DataFrame]]:
    """(name, model, background, customers) per protocol fold, in the evaluate stage's fold
    order: each customer is explained by every model that scored it (one per repeat), against
    that model's own training rows."""
    keys = folds[["repeat", "fold"]].drop_duplicates().sort_values(["repeat", "fold"])
    if len(keys) != len(fold_models):
        raise errors.DataError(
            f"{paths.FOLDS_FILE.name}: {len(keys)} folds, but {len(fold_models)} fold models"
        )
    parts = []
    for (r, f), model in zip(keys.itertuples(index=False), fold_models, strict=True):
        held = everyone[ID].isin(folds.loc[(folds["repeat"] == r) & (folds["fold"] == f), ID])
        name = f"repeat {r + 1}, fold {f + 1}"
        parts.append((name, model, everyone.loc[~held, columns], everyone[held]))
    return parts


def explain_parts(
    parts: list[tuple[str, BaseEstimator, pd.DataFrame, pd.DataFrame]],
    columns: list[str],
    params: dict[str, Any],
    repeats: int,
    read: pd.Series,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(table: id, SHAP per feature, base value, model output, sorted by id; summary: explainer,
    paths, customers read) for every part, each by its own model; a customer's row is the mean
    over the `repeats` models that scored it. SHAP values are linear in the model, so that mean
    explains the mean probability, the one the segment uses. Each part gets n_paths / repeats
    paths (and its own seed), so a customer gets n_paths in all, and if `read` (a bool per id)
    marks it n_paths_read, up to n_paths_close while its decline drivers are a close call:
    precision where an explanation is read (segment drivers, offers), the rest at what the
    global plots need."""
    tables, explainers = [], set()
    per_model = {  # antithetic pairs
        key: max(2, params[key] // repeats // 2 * 2)
        for key in ("n_paths", "n_paths_read", "n_paths_close")
    }
    # a customer's value is the mean of `repeats` models' values: its standard error is about
    # one model's over sqrt(repeats)
    per_model["close_call_z"] = params["close_call_z"] / np.sqrt(repeats)
    total, done = sum(len(rows) for *_, rows in parts), 0
    progress = entry.Progress(total, PROGRESS_SECONDS)
    # On this machine, n_jobs parts at a time (a part's values are its own rows' paths: the
    # same whatever runs beside it); on a Dask cluster, one part at a time over its workers.
    local = cluster.scheduler_address() is None

    def explain_part(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        _, part_model, background, rows = parts[i]
        part_params = {**params, **per_model, "random_state": params["random_state"] + i}
        if local:  # the parts share the threads: one part's rounds are too few to fill them
            part_params["n_jobs"] = 1
        marked = read.reindex(rows[ID]).fillna(False).to_numpy(bool)
        return explain_model(part_model, background, rows[columns], part_params, marked)

    with ThreadPoolExecutor(params["n_jobs"] if local else 1) as pool:
        for i, result in enumerate(pool.map(explain_part, range(len(parts)))):
            (name, *_, rows), (values, base, output, explainer) = parts[i], result
            entry.log.debug("shap: %s, %s, %d customers", name, explainer, len(rows))
            table = pd.DataFrame(values, columns=columns)
            table.insert(0, ID, rows[ID].to_numpy())
            table[BASE], table[OUTPUT] = base, output
            tables.append(table)
            explainers.add(explainer)
            done += len(rows)
            if (left := progress.left(done)) is not None:
                counts = (i + 1, len(parts), done, total, left)
                entry.log.info("shap: %d/%d models, %d/%d explanations, about %.0f s left", *counts)
    everything = pd.concat(tables)
    table = everything.groupby(ID, sort=True).mean().reset_index()
    return table, {
        "explainer": " / ".join(sorted(explainers)),
        "paths_per_model": per_model["n_paths"],
        "read": int(read.sum()),
    }


def check_explained(
    table: pd.DataFrame, columns: list[str], scores: pd.Series, tolerance: float
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
    gap = np.abs(table[OUTPUT].to_numpy() - scores.reindex(table[ID]).to_numpy()).max()
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


def shap_metrics(checks: dict[str, Any]) -> dict:
    """metrics/shap.json: numbers worth diffing only (how exactly the SHAP values add up to the
    scored probabilities); the ranking of features goes to plots/shap_data/importance.csv."""
    return {"additivity": checks}
