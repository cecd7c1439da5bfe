"""The `merge` stage's work: the four clean tables -> one row per customer, and the EDA plots.

Columns: contract FEATURES, then NOT_FEATURES (target, its 0/1 label, profit, duplicate_group).
Plots under plots/eda compare the two target classes feature by feature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oneclick.core import errors
from oneclick.data.contract import (
    FEATURES,
    GROUP,
    ID,
    INPUT_FILES,
    LABEL,
    LABELS,
    MARKET_FILE,
    NOMINAL_FEATURES,
    NOT_FEATURES,
    NUMERIC_FEATURES,
    ORDINAL_FEATURES,
    TARGET,
    TARGET_NEGATIVE,
    TARGET_POSITIVE,
)
from oneclick.data.reading import TEXT_KINDS
from oneclick.data.wide import widen

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


COLOURS = {TARGET_POSITIVE: "tab:red", TARGET_NEGATIVE: "tab:blue"}
GRID_COLUMNS = 4
INTEGER_BINS_MAX = 40  # integer features with at most this many values get one bin per value


def merge_tables(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Clean tables (clean_tables) -> one row per customer, index id, sorted; target optional."""
    merged = widen(tables)
    customers = tables[MARKET_FILE.key][ID].nunique()
    if len(merged) != customers or merged.isna().any().any():
        raise errors.DataError(
            f"{MARKET_FILE.filename}: column {ID!r}: {customers} customers but {len(merged)} "
            "complete merged rows; the clean tables do not describe the same customers"
        )
    if TARGET in merged:
        merged[LABEL] = (merged[TARGET] == TARGET_POSITIVE).astype("int64")
    if GROUP not in merged:  # new data that skipped duplicate detection: everyone alone
        merged[GROUP] = merged.index
    return merged[FEATURES + [c for c in NOT_FEATURES if c in merged]]


def integer_bins(values: pd.Series) -> np.ndarray:
    """One bin per value for small-range integer features, else 30 shared bins."""
    low, high = values.min(), values.max()
    if pd.api.types.is_integer_dtype(values) and high - low <= INTEGER_BINS_MAX:
        return np.arange(low - 0.5, high + 1.5)
    return np.histogram_bin_edges(values, bins=30)


def plot_class_balance(merged: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    counts = merged[TARGET].value_counts().reindex([TARGET_NEGATIVE, TARGET_POSITIVE])
    figure, axis = plt.subplots(figsize=(5, 4))
    bars = axis.bar(counts.index, counts.to_numpy(), color=[COLOURS[c] for c in counts.index])
    labels = [f"{n} ({n / counts.sum():.1%})" for n in counts.to_numpy()]
    axis.bar_label(bars, labels=labels)
    axis.set_title(f"{LABELS[TARGET]}: баланс классов")
    axis.set_ylabel("покупателей")
    return figure


def plot_grid(
    merged: pd.DataFrame, features: list[str], draw: Callable[[Axes, str], None]
) -> Figure:
    """One subplot per feature, each drawn by draw(axis, feature) with both classes."""
    import matplotlib.pyplot as plt

    rows = -(-len(features) // GRID_COLUMNS)
    columns = min(GRID_COLUMNS, len(features))
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.4 * rows), squeeze=False)
    for axis, feature in zip(axes.flat, features, strict=False):
        draw(axis, feature)
        axis.set_title(LABELS[feature], fontsize=9)
    for axis in axes.flat[len(features) :]:
        axis.set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[c], alpha=0.6) for c in COLOURS]
    figure.legend(handles, list(COLOURS), loc="upper center", ncol=2, title=LABELS[TARGET])
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (3.4 * rows)))
    return figure


def plot_numeric(merged: pd.DataFrame) -> Figure:
    """Distribution of every numeric feature within each class (shares, so sizes compare)."""

    def draw(axis: Axes, feature: str) -> None:
        bins = integer_bins(merged[feature])
        for target, colour in COLOURS.items():
            values = merged.loc[merged[TARGET] == target, feature].to_numpy()
            counts, _ = np.histogram(values, bins=bins)
            axis.stairs(counts / max(len(values), 1), bins, fill=True, color=colour, alpha=0.45)
        axis.set_ylabel("доля класса", fontsize=8)

    return plot_grid(merged, NUMERIC_FEATURES, draw)


def plot_categorical(merged: pd.DataFrame) -> Figure:
    """Share of each category within each class."""
    features = [*NOMINAL_FEATURES, *ORDINAL_FEATURES]

    def draw(axis: Axes, feature: str) -> None:
        shares = pd.crosstab(merged[feature], merged[TARGET], normalize="columns")
        order = ORDINAL_FEATURES.get(feature) or sorted(shares.index, reverse=True)
        shares = shares.reindex(index=order, columns=list(COLOURS), fill_value=0)
        positions = np.arange(len(shares))
        for offset, (target, colour) in zip((-0.2, 0.2), COLOURS.items(), strict=True):
            axis.barh(positions + offset, shares[target], height=0.4, color=colour, alpha=0.6)
        axis.set_yticks(positions, [str(v) for v in shares.index], fontsize=8)
        axis.set_xlabel("доля класса", fontsize=8)

    return plot_grid(merged, features, draw)


def read_clean(directory: Path) -> dict[str, pd.DataFrame]:
    """The clean stage's tables (English names), text columns as categoricals like clean_tables."""
    errors.require(*(directory / spec.filename for spec in INPUT_FILES))
    tables = {}
    for spec in INPUT_FILES:
        text = {c.name: "category" for c in spec.columns if c.kind in TEXT_KINDS}
        tables[spec.key] = pd.read_csv(directory / spec.filename, dtype=text)
    return tables
