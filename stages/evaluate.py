"""Stage `evaluate`: the protocol (the whole procedure refitted in R × K grouped folds of all
customers), the test part's sanity figures and plot data, honest probabilities for everyone.

Logic: oneclick/model/evaluation.py, oneclick/model/protocol.py.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from oneclick.core import config, entry, params_schema, paths, provenance, writers
from oneclick.data.contract import GROUP, ID, LABEL
from oneclick.features.spec import feature_columns, load_spec
from oneclick.model.evaluation import (
    fold_table,
    plot_tables,
    protocol_inputs,
    scores_frame,
    test_figures,
)
from oneclick.model.persistence import dump_model, load_model
from oneclick.model.pipelines import predict_declined
from oneclick.model.procedure import fit_procedure
from oneclick.model.protocol import protocol_folds, protocol_metrics, run_protocol, start_workers


def main() -> None:
    params = config.load_stage("evaluate")
    setting, procedure = params["evaluate"], params["train"]
    workers = start_workers(setting["n_jobs"])
    spec, model = load_spec(), load_model()
    provenance.check_records("evaluate", params, "train")  # the model: made with these params
    train, test = pd.read_csv(paths.TRAIN_FILE), pd.read_csv(paths.TEST_FILE)
    columns, y_test = feature_columns(spec), test[LABEL].to_numpy()

    test_proba = predict_declined(model, test[columns])
    samples, seed = setting["bootstrap_samples"], procedure["random_state"]
    metrics = {"test": test_figures(y_test, test_proba, setting["threshold"], samples, seed)}

    everyone = protocol_inputs(train, test)
    X, y, groups = everyone[columns], everyone[LABEL], everyone[GROUP]
    k, repeats = setting["protocol_folds"], setting["protocol_repeats"]
    where = f"{paths.TRAIN_FILE.name} + {paths.TEST_FILE.name}: column {LABEL}"
    params_schema.check_fit(procedure, y.value_counts().to_dict(), where, k)
    folds = protocol_folds(y.to_numpy(), groups.to_numpy(), repeats, k, setting["protocol_seed"])
    workers.join()
    fit = partial(fit_procedure, spec, procedure)
    scores, held_out, fold_models = run_protocol(fit, X, y, groups, folds, setting["n_jobs"])
    bins = setting["calibration_bins"]
    metrics["protocol"] = protocol = protocol_metrics(scores, y.to_numpy(), held_out, k, bins)

    test_scores = test[[ID, LABEL]].assign(probability=test_proba)  # for paired comparisons
    with writers.together():
        writers.write_bytes(dump_model(fold_models), paths.FOLD_MODELS_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "evaluate.json")
        for name, table in plot_tables(y_test, test_proba, setting["threshold"], bins).items():
            writers.write_csv(table, paths.PLOTS_DIR / "evaluate" / name)
        writers.write_csv(scores, paths.PLOTS_DIR / "evaluate" / "protocol_folds.csv")
        writers.write_csv(scores_frame(everyone, held_out), paths.SCORES_FILE)
        writers.write_csv(test_scores, paths.PREDICTIONS_DIR / "test.csv")
        writers.write_csv(fold_table(everyone, folds), paths.FOLDS_FILE)
        provenance.write_record("evaluate", params)
        config.check_unchanged("evaluate", params)
    entry.log.info(
        "evaluate: %d folds, ROC-AUC %.3f (SE %.3f), out-of-fold log-loss %.3f, Brier %.3f",
        protocol["folds"],
        protocol["roc_auc_mean"],
        protocol["roc_auc_se"],
        protocol["out_of_fold"]["log_loss"],
        protocol["out_of_fold"]["brier"],
    )


if __name__ == "__main__":
    entry.run(main)
