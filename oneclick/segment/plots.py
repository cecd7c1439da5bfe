"""Plots of the `segment` stage: the value curve and the segment's profile against the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oneclick.core import paths, writers

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = paths.PLOTS_DIR / "segment"


def plot_value_curve(curve: pd.DataFrame, segment: dict[str, Any]) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 5))
    axis.plot(curve["share_contacted"], curve["share_profit_at_risk"], label="by expected risk")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random order")
    axis.scatter(
        [segment["share_of_customers"]],
        [segment["share_of_expected_profit_at_risk"]],
        color="tab:red",
        zorder=3,
        label="the segment",
    )
    axis.set_xlabel("share of customers contacted")
    axis.set_ylabel("share of expected profit at risk reached")
    axis.set_title("Value curve")
    axis.legend(loc="lower right")
    return figure


def plot_profile(table: pd.DataFrame, mask: pd.Series, feature: str) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    column = table[feature]
    if pd.api.types.is_numeric_dtype(column):
        bins = np.histogram_bin_edges(column.astype(float), bins=20)
        for part, label in ((~mask, "rest"), (mask, "segment")):
            axis.hist(column[part], bins=bins, density=True, alpha=0.5, label=label)
        axis.set_ylabel("density")
    else:
        levels = sorted(column.dropna().unique())
        x = np.arange(len(levels))
        for offset, (part, label) in zip(
            (-0.2, 0.2), ((~mask, "rest"), (mask, "segment")), strict=True
        ):
            shares = column[part].value_counts(normalize=True).reindex(levels, fill_value=0)
            axis.bar(x + offset, shares.to_numpy(), width=0.4, label=label)
        axis.set_xticks(x, levels, rotation=30, ha="right")
        axis.set_ylabel("share")
    axis.set_title(f"{feature}: segment vs rest")
    axis.legend()
    return figure


def save_plots(
    table: pd.DataFrame, mask: pd.Series, curve: pd.DataFrame, metrics: dict, features: list[str]
) -> None:
    writers.save_figure(plot_value_curve(curve, metrics["segment"]), PLOTS / "value_curve.png")
    for feature in features:
        writers.save_figure(plot_profile(table, mask, feature), PLOTS / f"profile_{feature}.png")
