"""Stage `evaluate`: test metrics and plot data for the saved model, and honest scores for all.

The test part is used here for the first time. Training customers get out-of-fold
probabilities (a clone of the chosen pipeline refit per fold), never in-sample ones, so every
probability in data/predictions/scores.csv comes from a model that did not see that customer.
"""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import (
    roc_auc_score,
)

from oneclick.core import config, entry, paths, writers
from oneclick.data.contract import GROUP, LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import (
    bootstrap_auc_interval,
    calibration_table,
    classification_metrics,
    confusion_table,
    out_of_fold,
    precision_recall_table,
    roc_table,
    scores_frame,
)
from oneclick.model.pipelines import load_model, predict_declined


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

    plots, bins = paths.PLOTS_DIR / "evaluate", params["evaluate"]["calibration_bins"]
    writers.write_json(metrics, paths.METRICS_DIR / "evaluate.json")
    writers.write_csv(roc_table(y_test, test_proba), plots / "roc.csv")
    writers.write_csv(precision_recall_table(y_test, test_proba), plots / "precision_recall.csv")
    writers.write_csv(calibration_table(y_test, test_proba, bins), plots / "calibration.csv")
    writers.write_csv(confusion_table(y_test, test_proba, threshold), plots / "confusion.csv")
    writers.write_csv(scores_frame(train, train_proba, test, test_proba), paths.SCORES_FILE)


if __name__ == "__main__":
    entry.run(main)
