"""Stage `shap`: SHAP values of every customer's P(declined), per original feature.

Each customer is explained by the protocol's models that scored it (one per repeat), the mean
of which is the probability the segment uses. Logic: oneclick/explain/values.py. Values and
data only: the segment stage draws their labelled plots (oneclick/segment/shap_plots.py).
"""

from __future__ import annotations

import time

import pandas as pd

from oneclick.core import config, entry, paths, provenance, writers
from oneclick.data.contract import ID
from oneclick.explain.values import (
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


def main() -> None:
    all_params = config.load_stage("shap")
    params, repeats = all_params["shap"], all_params["evaluate"]["protocol_repeats"]
    provenance.check_records("shap", all_params, "evaluate")  # the fold models and their scores
    columns = feature_columns(load_spec())
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    require_columns({paths.TRAIN_FILE.name: train, paths.TEST_FILE.name: test}, columns)
    everyone, folds = protocol_inputs(train, test), pd.read_csv(paths.FOLDS_FILE)
    fold_models = load_model(paths.FOLD_MODELS_FILE)

    scores = pd.read_csv(paths.SCORES_FILE).set_index(ID)["probability"]
    read = scores >= params["read_probability"]  # who can enter the segment

    start = time.perf_counter()
    parts = explanation_parts(fold_models, everyone, folds, columns)
    table, summary = explain_parts(parts, columns, params, repeats, read)
    seconds = time.perf_counter() - start
    counts = (len(table), summary["read"], summary["explainer"], seconds)
    entry.log.info("shap: %d customers (%d read), %s, %.1f s", *counts)
    checks = check_explained(table, columns, scores, params["additivity_tolerance"])

    everyone = everyone.set_index(ID).loc[table[ID]].reset_index()
    ids, data, values = table[ID].to_numpy(), everyone[columns], table[columns].to_numpy()
    drivers = driver_table(ids, data, values, params["top_drivers"])
    metrics = shap_metrics(checks)
    ranking = importance(columns, values)
    with writers.together():
        writers.write_csv(table, paths.SHAP_VALUES_FILE)
        writers.write_csv(everyone[[ID, *columns]], paths.SHAP_FEATURES_FILE)
        writers.write_csv(drivers, paths.SHAP_DRIVERS_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "shap.json")
        provenance.write_record("shap", all_params)
        writers.write_csv(pd.DataFrame(ranking), paths.SHAP_IMPORTANCE_FILE)
        config.check_unchanged("shap", all_params)


if __name__ == "__main__":
    entry.run(main)
