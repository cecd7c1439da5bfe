"""The `features` stage's work: engineered features, train/test split, phik analysis, feature spec.

The split comes first, so every choice that looks at the label (the phik-based multicollinearity
rule) uses the training part only; the test part stays unseen until `evaluate`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from oneclick.core import errors, params_schema
from oneclick.data.contract import FEATURES, GROUP, ID, LABEL, NOMINAL_FEATURES, ORDINAL_FEATURES
from oneclick.features.engineered import ENGINEERED, add_engineered
from oneclick.features.spec import feature_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure


KEY_COLUMNS = [ID, GROUP, LABEL]


def check_merged(merged: pd.DataFrame, name: str) -> None:
    missing = [c for c in [*KEY_COLUMNS, *FEATURES] if c not in merged]
    if missing:
        raise errors.DataError(f"{name}: missing column(s) {missing}")
    bad = merged.loc[~merged[LABEL].isin([0, 1]), ID].tolist()
    if bad:
        raise errors.DataError(f"{name}: column {LABEL!r}: not 0/1 for id(s) {bad[:10]}")
    for column in [GROUP, *FEATURES]:
        empty = merged.loc[merged[column].isna(), ID].tolist()
        if empty:
            raise errors.DataError(f"{name}: column {column!r}: empty for id(s) {empty[:10]}")
    for column, order in ORDINAL_FEATURES.items():
        unknown = merged.loc[~merged[column].isin(order), ID].tolist()
        if unknown:
            raise errors.DataError(
                f"{name}: column {column!r}: value not in {order} for id(s) {unknown[:10]}"
            )
    where = f"{name}: column {LABEL!r}"
    params_schema.check_classes(merged[LABEL].value_counts().to_dict(), where)
    # a stratified split puts at least one customer (group) of each class on either side
    fewest = int(merged.groupby(GROUP)[LABEL].max().value_counts().min())
    if fewest < 2:
        raise errors.DataError(
            f"{where}: {fewest} customer in the smaller class: at least 2 needed to split "
            "train and test"
        )


def split_train_test(
    merged: pd.DataFrame, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split over duplicate groups: a group never straddles train and test.

    Groups (not rows) are split, stratified by the group's label; almost all groups are single
    customers, so the row shares follow test_size and the class shares match closely.
    """
    groups = merged.groupby(GROUP, sort=True)[LABEL].max()
    train_groups, _ = train_test_split(
        groups.index.to_numpy(),
        test_size=test_size,
        stratify=groups.to_numpy(),
        random_state=random_state,
    )
    in_train = merged[GROUP].isin(train_groups)
    return merged[in_train].sort_values(ID), merged[~in_train].sort_values(ID)


def phik_matrix(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """phik correlations of numeric (binned as interval) and categorical columns and the label."""
    import phik  # noqa: F401  (registers DataFrame.phik_matrix)

    columns = [*numeric, *categorical, LABEL]
    with warnings.catch_warnings():  # phik warns about (and leaves out) constant columns
        warnings.simplefilter("ignore")
        # njobs=1: on 2 cores phik's process pool costs more than it saves
        matrix = frame[columns].phik_matrix(interval_cols=numeric, verbose=False, njobs=1)
    values = matrix.reindex(index=columns, columns=columns).fillna(0.0).to_numpy(copy=True)
    np.fill_diagonal(values, 1.0)
    return pd.DataFrame(values, index=columns, columns=columns)


def top_pairs(matrix: pd.DataFrame, n: int) -> list[dict[str, Any]]:
    """The n strongest feature-feature pairs (label excluded), strongest first, ties by order."""
    features = [c for c in matrix.columns if c != LABEL]
    pairs = [
        {"a": a, "b": b, "phik": float(matrix.loc[a, b])}
        for i, a in enumerate(features)
        for b in features[i + 1 :]
    ]
    return sorted(pairs, key=lambda p: -p["phik"])[:n]  # sorted() is stable


def collinear_drops(matrix: pd.DataFrame, threshold: float) -> list[dict[str, Any]]:
    """Rule: walk feature pairs with phik >= threshold, strongest first; of each pair whose
    members are both still kept, drop the one less related to the label (on a tie, the one
    later in feature order). Returns one record per dropped feature."""
    target = matrix[LABEL]
    dropped: list[dict[str, Any]] = []
    gone: set[str] = set()
    for pair in top_pairs(matrix, len(matrix) ** 2):
        a, b = pair["a"], pair["b"]
        if pair["phik"] < threshold:
            break
        if a in gone or b in gone:
            continue
        drop, keep = (a, b) if target[a] < target[b] else (b, a)
        gone.add(drop)
        dropped.append({"dropped": drop, "reason": "collinear", "kept": keep, "phik": pair["phik"]})
    return dropped


def constant_drops(train: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    """Features with a single value on the training part carry no information: drop them."""
    return [{"dropped": c, "reason": "constant"} for c in features if train[c].nunique() < 2]


def make_spec(numeric: list[str], engineered: list[str], dropped: list[str]) -> dict[str, Any]:
    keep = [c for c in numeric if c not in dropped]
    return {
        "numeric": keep,
        # sorted: the spec's JSON has sorted keys, so column order survives a round trip
        "nominal": sorted(c for c in NOMINAL_FEATURES if c not in dropped),
        "ordinal": {c: ORDINAL_FEATURES[c] for c in sorted(ORDINAL_FEATURES) if c not in dropped},
        "engineered": {n: ENGINEERED[n][0] for n in engineered if n in keep},
    }


def plot_phik(matrix: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    size = 0.55 * len(matrix) + 2
    figure, axis = plt.subplots(figsize=(size, size * 0.85))
    image = axis.imshow(matrix.to_numpy(), cmap="Greens", vmin=0, vmax=1)
    axis.set_xticks(range(len(matrix)), matrix.columns, rotation=90)
    axis.set_yticks(range(len(matrix)), matrix.index)
    for (i, j), value in np.ndenumerate(matrix.to_numpy()):
        colour = "white" if value > 0.6 else "black"
        axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    axis.set_title("phik correlation (training part)")
    figure.colorbar(image, ax=axis, fraction=0.04)
    return figure


def build_features(
    merged: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, Any], pd.DataFrame]:
    """Merged customers -> (train, test, feature spec, metrics, phik matrix of the train part).

    train/test hold id, duplicate_group, declined and the spec's feature columns."""
    engineered = [name for name, on in params["engineered"].items() if on]
    merged = add_engineered(merged, engineered)
    categorical = [*NOMINAL_FEATURES, *ORDINAL_FEATURES]
    numeric = [c for c in [*FEATURES, *engineered] if c not in categorical]
    train, test = split_train_test(merged, params["test_size"], params["random_state"])

    matrix = phik_matrix(train, numeric, categorical)
    drops = constant_drops(train, [*numeric, *categorical])
    constant = [d["dropped"] for d in drops]
    kept = [c for c in matrix.columns if c not in constant]
    drops += collinear_drops(matrix.loc[kept, kept], params["collinearity_threshold"])
    spec = make_spec(numeric, engineered, [d["dropped"] for d in drops])
    columns = [*KEY_COLUMNS, *feature_columns(spec)]
    summary = {
        "n_train": len(train),
        "n_test": len(test),
        "declined_share_train": float(train[LABEL].mean()),
        "declined_share_test": float(test[LABEL].mean()),
        "n_features": len(columns) - len(KEY_COLUMNS),
        "engineered": engineered,
        "dropped": drops,
        "phik_top_pairs": top_pairs(matrix, params["phik_top_pairs"]),
        "phik_with_target": matrix[LABEL].drop(LABEL).to_dict(),
    }
    return train[columns], test[columns], spec, summary, matrix


def feature_figures(summary: dict[str, Any]) -> dict[str, int]:
    """metrics/features.json: the numbers worth diffing (the rest: reports/features.md)."""
    keys = ("n_train", "n_test", "n_features")
    return {**{k: summary[k] for k in keys}, "dropped_features": len(summary["dropped"])}


def features_markdown(summary: dict[str, Any]) -> str:
    """reports/features.md: the split, engineered and dropped features, the strongest phik."""
    lines = [
        "# Features",
        "",
        f"Training part {summary['n_train']} customers "
        f"({summary['declined_share_train']:.1%} declined), test part {summary['n_test']} "
        f"({summary['declined_share_test']:.1%}); {summary['n_features']} model features.",
        "",
        f"Engineered: {', '.join(summary['engineered']) or 'none'}.",
        "",
        "| dropped | reason | kept instead | phik |",
        "|---|---|---|---|",
        *(
            f"| {d['dropped']} | {d['reason']} | {d.get('kept', '')} | {d.get('phik', '')} |"
            for d in summary["dropped"]
        ),
        "",
        "Strongest feature pairs (phik, training part):",
        "",
        "| a | b | phik |",
        "|---|---|---|",
        *(f"| {p['a']} | {p['b']} | {p['phik']:.3f} |" for p in summary["phik_top_pairs"]),
        "",
        "phik with the target:",
        "",
        "| feature | phik |",
        "|---|---|",
        *(
            f"| {name} | {value:.3f} |"
            for name, value in sorted(summary["phik_with_target"].items(), key=lambda x: -x[1])
        ),
    ]
    return "\n".join(lines) + "\n"
