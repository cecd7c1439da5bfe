"""Stage `shap`: SHAP values of every customer's P(declined), per original feature.

Logic: oneclick/explain/values.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import time

import pandas as pd

from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import ID
from oneclick.explain.values import (
    BASE,
    PLOTS,
    check_explained,
    driver_table,
    explain_parts,
    explanation_parts,
    plot_beeswarm,
    plot_importance,
    require_columns,
    shap_metrics,
)
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.persistence import load_model


def main() -> None:
    writers.setup_matplotlib()
    all_params = config.load_params()
    params, folds = all_params["shap"], all_params["train"]["cv_folds"]
    spec = load_spec()
    columns = feature_columns(spec)
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    require_columns({paths.TRAIN_FILE.name: train, paths.TEST_FILE.name: test}, columns)
    model = load_model()

    start = time.perf_counter()
    seed = all_params["train"]["random_state"]
    parts = explanation_parts(model, train, test, columns, folds, seed)
    table, summary = explain_parts(parts, columns, params)
    entry.log.info("shap: %d customers in %.1f s", len(table), time.perf_counter() - start)
    space, tolerance = summary["output_space"], params["additivity_tolerance"]
    scores = pd.read_csv(paths.SCORES_FILE).set_index(ID)["probability"]
    checks = check_explained(table, columns, space, scores, tolerance)

    everyone = pd.concat([train, test]).set_index(ID).loc[table[ID]].reset_index()
    ids, data, values = table[ID].to_numpy(), everyone[columns], table[columns].to_numpy()
    drivers = driver_table(ids, data, values, params["top_drivers"])
    metrics = shap_metrics(model, summary, table, columns, checks, tolerance)
    with writers.together():
        writers.write_csv(table, paths.SHAP_VALUES_FILE)
        writers.write_csv(everyone[[ID, *columns]], paths.SHAP_FEATURES_FILE)
        writers.write_csv(drivers, paths.SHAP_DRIVERS_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "shap.json")
        # one figure at a time: the beeswarm drawn while the other is open changes its pixels
        importance = plot_importance(metrics["global_importance"], space)
        writers.save_figure(importance, PLOTS / "importance.png")
        beeswarm = plot_beeswarm(
            values, table[BASE].to_numpy(), data, spec, params["random_state"], space
        )
        writers.save_figure(beeswarm, PLOTS / "beeswarm.png")
        config.check_unchanged("shap", all_params)


if __name__ == "__main__":
    entry.run(main)
