"""The SHAP plots, labelled in report.language from the vocabulary: global importance (mean |SHAP|)
and shap's beeswarm of every customer. Drawn by the segment stage (the stage that renders text)
from the shap stage's data, so a label's wording never reruns the SHAP computation."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oneclick.core import paths, writers
from oneclick.data.contract import ID
from oneclick.features.spec import load_spec
from oneclick.text import vocabulary as vocab
from oneclick.text.formats import say

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS = paths.PLOTS_DIR / "shap"
BASE = "base_value"  # data/shap/values.csv: each customer's base value (oneclick/explain/values.py)
PLOT_TEXT = {  # (ru, en)
    "importance": ("Важность признаков для модели", "Global feature importance"),
    "mean_abs": (
        "среднее |SHAP| (вероятность снижения)",
        "mean |SHAP value| (probability of decline)",
    ),
    "value": ("SHAP (вероятность снижения)", "SHAP value (probability of decline)"),
    "feature_value": ("Значение признака", "Feature value"),
    "low": ("низкое", "Low"),
    "high": ("высокое", "High"),
}


def plot_importance(ranking: list[dict[str, Any]], language: str) -> Figure:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 0.35 * len(ranking) + 1.2))
    names = [vocab.title_name(r["feature"], language) for r in ranking]
    axis.barh(names[::-1], [r["mean_abs_shap"] for r in ranking][::-1])
    axis.set_xlabel(say(PLOT_TEXT["mean_abs"], language))
    axis.set_title(say(PLOT_TEXT["importance"], language))
    return figure


def plot_beeswarm(
    values: np.ndarray,
    base: np.ndarray,
    data: pd.DataFrame,
    spec: dict,
    seed: int,
    language: str,
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
        values,
        base_values=np.broadcast_to(base, len(values)),
        data=colour.to_numpy(dtype=float),
        feature_names=[vocab.title_name(c, language) for c in data.columns],
    )
    np.random.seed(seed)  # beeswarm jitters with the global generator
    with warnings.catch_warnings():  # an all-grey (nominal) row has no colour range
        warnings.simplefilter("ignore", RuntimeWarning)
        shap.plots.beeswarm(
            explanation,
            max_display=len(data.columns),
            show=False,
            color_bar_label=say(PLOT_TEXT["feature_value"], language),
        )
    figure = plt.gcf()
    figure.axes[0].set_xlabel(say(PLOT_TEXT["value"], language))
    # shap writes its colour bar's ends in English whatever the labels passed
    figure.axes[-1].set_yticklabels(
        [say(PLOT_TEXT["low"], language), say(PLOT_TEXT["high"], language)]
    )
    return figure


def save_plots(seed: int, language: str) -> None:
    """plots/shap/{importance,beeswarm}.png from the shap stage's data (data/shap, its importance
    ranking; values of P(declined)) and the feature spec (ordinal colours); `seed`: the
    beeswarm's jitter (shap.random_state)."""
    table = pd.read_csv(paths.SHAP_VALUES_FILE)
    data = pd.read_csv(paths.SHAP_FEATURES_FILE).set_index(ID).loc[table[ID]]
    columns = list(data.columns)
    values, base = table[columns].to_numpy(), table[BASE].to_numpy()
    ranking = pd.read_csv(paths.SHAP_IMPORTANCE_FILE).to_dict("records")  # largest first
    # one figure at a time: the beeswarm drawn while the other is open changes its pixels
    writers.save_figure(plot_importance(ranking, language), PLOTS / "importance.png")
    beeswarm = plot_beeswarm(values, base, data, load_spec(), seed, language)
    writers.save_figure(beeswarm, PLOTS / "beeswarm.png")
