"""Stage `evaluate`: test-part metrics and plot data, honest probabilities for everyone.

Logic: oneclick/model/evaluation.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import roc_auc_score

from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import (
    bootstrap_auc_interval,
    classification_metrics,
    out_of_fold,
    plot_tables,
    scores_frame,
)
from oneclick.model.persistence import load_model
from oneclick.model.pipelines import predict_declined


def main() -> None:
    params = config.load_params()
    threshold = params["evaluate"]["threshold"]
    config.check_fraction("evaluate.threshold", threshold)
    spec, model = load_spec(), load_model()
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    columns = feature_columns(spec)
    y_test = test[LABEL].to_numpy()

    test_proba = predict_declined(model, test[columns])
    metrics = classification_metrics(y_test, test_proba, threshold)
    seed = params["train"]["random_state"]
    samples = params["evaluate"]["bootstrap_samples"]
    metrics["roc_auc_ci95"] = list(bootstrap_auc_interval(y_test, test_proba, samples, seed))
    train_proba = out_of_fold(
        model,
        train[columns],
        train[LABEL],
        train[GROUP],
        params["train"]["cv_folds"],
        seed,
    )
    metrics["train_out_of_fold_roc_auc"] = roc_auc_score(train[LABEL], train_proba)
    entry.log.info("evaluate: test ROC-AUC %.4f, F1 %.4f", metrics["roc_auc"], metrics["f1"])

    bins = params["evaluate"]["calibration_bins"]
    with writers.together():
        writers.write_json(metrics, paths.METRICS_DIR / "evaluate.json")
        for name, table in plot_tables(y_test, test_proba, threshold, bins).items():
            writers.write_csv(table, paths.PLOTS_DIR / "evaluate" / name)
        writers.write_csv(scores_frame(train, train_proba, test, test_proba), paths.SCORES_FILE)
        config.check_unchanged("evaluate", params)


if __name__ == "__main__":
    entry.run(main)
