"""Plots of the `segment` stage, labelled in report.language from the vocabulary: the net-profit
curve and the value curve with the segment marked, the strongest decline drivers, the segment's
profile vs the rest.

Every text a plot shows is TEXT (by `say`) or a vocabulary name; tests read each figure's texts
and check them for code names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oneclick.core import paths, writers
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import number, say

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = paths.PLOTS_DIR / "segment"
TEXT = {  # (ru, en)
    "curve_title": (
        "Кривая ценности: с кем связаться в первую очередь",
        "Value curve: whom to contact first",
    ),
    "by_risk": ("по ожидаемой прибыли под риском", "by expected profit at risk"),
    "random": ("в случайном порядке", "in random order"),
    "cut": ("сегмент: {n} клиентов, {share} прибыли под риском", "segment: {n} customers, {share}"
            " of profit at risk"),
    "contacted": ("доля клиентов, с кем связались, %", "share of customers contacted, %"),
    "reached": ("доля ожидаемой прибыли под риском, %", "share of expected profit at risk, %"),
    "segment": ("сегмент", "segment"),
    "rest": ("остальные клиенты", "other customers"),
    "vs": ("{name}: сегмент и остальные", "{name}: segment vs the rest"),
    "share": ("доля клиентов, %", "share of customers, %"),
    "drivers_title": ("Главная причина снижения у клиентов сегмента",
                      "Strongest decline driver of segment customers"),
    "customers": ("клиентов сегмента", "segment customers"),
    "net_title": ("Чистая прибыль кампании: сколько клиентов взять",
                  "Campaign net profit: how many customers to contact"),
    "net": ("ожидаемая чистая прибыль", "expected net profit"),
    "gain": ("ожидаемый выигрыш", "expected gain"),
    "cost": ("стоимость предложений", "cost of the offers"),
    "chosen": ("сегмент: {n} клиентов, {net} у.е.", "segment: {n} customers, {net} c.u."),
    "money": ("у.е. за {h} мес. (допущение об эффекте)", "c.u. over {h} months (assumed effect)"),
    "by_net": ("доля клиентов по убыванию чистой прибыли, %",
               "share of customers, by expected net profit, %"),
}  # fmt: skip


def plot_value_curve(curve: pd.DataFrame, segment: dict[str, Any], language: str) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 5))
    x, y = 100 * curve["share_contacted"], 100 * curve["share_profit_at_risk"]
    axis.plot(x, y, label=say(TEXT["by_risk"], language))
    axis.plot([0, 100], [0, 100], linestyle="--", color="grey", label=say(TEXT["random"], language))
    cut_x = 100 * segment["share_of_customers"]
    cut_y = 100 * segment["share_of_expected_profit_at_risk"]
    share = number(cut_y, 1, language) + "%"
    axis.axvline(cut_x, color="tab:red", linestyle=":", linewidth=1)
    axis.scatter([cut_x], [cut_y], color="tab:red", zorder=3,
                 label=say(TEXT["cut"], language, n=segment["size"], share=share))  # fmt: skip
    axis.set_xlabel(say(TEXT["contacted"], language))
    axis.set_ylabel(say(TEXT["reached"], language))
    axis.set_title(say(TEXT["curve_title"], language))
    axis.legend(loc="lower right")
    return figure


def plot_net_curve(curve: pd.DataFrame, m: dict[str, Any], language: str) -> Figure:
    """Cumulative expected gain, cost and net profit of contacting the top share of customers
    by expected net profit; the segment (before its control group is set aside) marked."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 5))
    x = 100 * curve["share_contacted"]
    for key, column in (("net", "expected_net_profit"), ("gain", "expected_gain"),
                        ("cost", "expected_cost")):  # fmt: skip
        axis.plot(x, curve[column], label=say(TEXT[key], language))
    segment = m["segment"]
    net = m["economics"]["segment_net_profit"]  # everyone contacted, as on the curve
    shown = number(net, 0, language)
    axis.scatter([100 * segment["share_of_customers"]], [net], color="tab:red", zorder=3,
                 label=say(TEXT["chosen"], language, n=segment["size"], net=shown))  # fmt: skip
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xlabel(say(TEXT["by_net"], language))
    axis.set_ylabel(say(TEXT["money"], language, h=f"{m['economics']['horizon_months']:g}"))
    axis.set_title(say(TEXT["net_title"], language))
    axis.legend(loc="upper left")
    return figure


def plot_drivers(counts: dict[str, int], language: str) -> Figure:
    """Customers per strongest decline driver, most common on top."""
    import matplotlib.pyplot as plt

    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[::-1]
    figure, axis = plt.subplots(figsize=(7, 0.4 * len(ranked) + 1.2))
    names = [vocab.title_name(feature, language) for feature, _ in ranked]
    axis.barh(names, [n for _, n in ranked], color="tab:red")
    axis.set_xlabel(say(TEXT["customers"], language))
    axis.set_title(say(TEXT["drivers_title"], language))
    return figure


def plot_profile(table: pd.DataFrame, mask: pd.Series, feature: str, language: str) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    column = table[feature]
    parts = ((~mask, say(TEXT["rest"], language)), (mask, say(TEXT["segment"], language)))
    if pd.api.types.is_numeric_dtype(column):
        shown = vocab.shown_number(feature, column.astype(float))
        bins = np.histogram_bin_edges(shown, bins=20)
        for part, label in parts:  # each group's bars add up to 100%: groups of any size compare
            weights = np.full(int(part.sum()), 100 / max(int(part.sum()), 1))
            # matplotlib's stubs say Sequence[float]; hist takes the ndarray of edges as it is
            axis.hist(shown[part], bins=bins, weights=weights, alpha=0.5, label=label)  # type: ignore[arg-type]
        axis.set_xlabel(vocab.label(feature, language))
        axis.set_ylabel(say(TEXT["share"], language))
    else:
        levels = sorted(column.dropna().unique())
        x = np.arange(len(levels))
        for offset, (part, label) in zip((-0.2, 0.2), parts, strict=True):
            shares = column[part].value_counts(normalize=True).reindex(levels, fill_value=0)
            axis.bar(x + offset, 100 * shares.to_numpy(), width=0.4, label=label)
        names = [vocab.category(level, language) for level in levels]
        axis.set_xticks(x, names, rotation=30, ha="right")
        axis.set_ylabel(say(TEXT["share"], language))
    name = vocab.title_name(feature, language)
    axis.set_title(say(TEXT["vs"], language, name=name))
    axis.legend()
    return figure


def save_plots(
    table: pd.DataFrame,
    mask: pd.Series,
    curves: tuple[pd.DataFrame, pd.DataFrame],
    metrics: dict,
    features: list[str],
    language: str,
) -> dict[str, Path]:
    """Write the segment's plots; {what: path} for the campaign page, in the page's order.
    curves: the value curve and the net-profit curve."""
    figures = {
        "net_profit_curve": plot_net_curve(curves[1], metrics, language),
        "value_curve": plot_value_curve(curves[0], metrics["segment"], language),
        "top_drivers": plot_drivers(metrics["top_decline_driver"], language),
        **{f"profile_{f}": plot_profile(table, mask, f, language) for f in features},
    }
    saved = {}
    for key, figure in figures.items():
        saved[key] = PLOTS / f"{key}.png"
        writers.save_figure(figure, saved[key])
    return saved
