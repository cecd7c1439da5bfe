"""Stage `shap`: SHAP values of every customer's P(declined), per original feature.

Each customer is explained by the protocol's models that scored it (one per repeat), the mean
of which is the probability the segment uses. Logic: oneclick/explain/values.py.
"""

from __future__ import annotations

import time

import pandas as pd

from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import ID
from oneclick.explain.plots import PLOTS, plot_beeswarm, plot_importance
from oneclick.explain.values import (
    BASE,
    check_explained,
    driver_table,
    explain_parts,
    explanation_parts,
    importance,
    require_columns,
    shap_metrics,
)
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import protocol_inputs
from oneclick.model.persistence import load_model
from oneclick.text.formats import check_language


def main() -> None:
    writers.setup_matplotlib()
    all_params = config.load_params()
    params, repeats = all_params["shap"], all_params["evaluate"]["protocol_repeats"]
    language = check_language(all_params["report"]["language"])  # plot labels
    spec = load_spec()
    columns = feature_columns(spec)
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    require_columns({paths.TRAIN_FILE.name: train, paths.TEST_FILE.name: test}, columns)
    everyone, folds = protocol_inputs(train, test), pd.read_csv(paths.FOLDS_FILE)
    fold_models = load_model(paths.FOLD_MODELS_FILE)

    start = time.perf_counter()
    parts = explanation_parts(fold_models, everyone, folds, columns)
    table, summary = explain_parts(parts, columns, params, repeats)
    seconds = time.perf_counter() - start
    entry.log.info("shap: %d customers, %s, %.1f s", len(table), summary["explainer"], seconds)
    space, tolerance = summary["output_space"], params["additivity_tolerance"]
    scores = pd.read_csv(paths.SCORES_FILE).set_index(ID)["probability"]
    checks = check_explained(table, columns, space, scores, tolerance)

    everyone = everyone.set_index(ID).loc[table[ID]].reset_index()
    ids, data, values = table[ID].to_numpy(), everyone[columns], table[columns].to_numpy()
    drivers = driver_table(ids, data, values, params["top_drivers"])
    metrics = shap_metrics(checks)
    ranking = importance(columns, values)
    seed = params["random_state"]
    with writers.together():
        writers.write_csv(table, paths.SHAP_VALUES_FILE)
        writers.write_csv(everyone[[ID, *columns]], paths.SHAP_FEATURES_FILE)
        writers.write_csv(drivers, paths.SHAP_DRIVERS_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "shap.json")
        writers.write_csv(pd.DataFrame(ranking), paths.PLOTS_DIR / "shap_data" / "importance.csv")
        # one figure at a time: the beeswarm drawn while the other is open changes its pixels
        bars = plot_importance(ranking, space, language)
        writers.save_figure(bars, PLOTS / "importance.png")
        beeswarm = plot_beeswarm(values, table[BASE].to_numpy(), data, spec, seed, space, language)
        writers.save_figure(beeswarm, PLOTS / "beeswarm.png")
        config.check_unchanged("shap", all_params)


if __name__ == "__main__":
    entry.run(main)
