"""Stage `train`: the model search on the training part, calibration, models/model.skops.

Logic: oneclick/model/training.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd
from threadpoolctl import threadpool_limits

from oneclick.core import config, entry, paths, writers
from oneclick.features.spec import load_spec
from oneclick.model.persistence import dump_model
from oneclick.model.training import nested_cv, plot_leaderboard, select_model


def main() -> None:
    writers.setup_matplotlib()
    all_params = config.load_params()
    params = all_params["train"]
    spec = load_spec()
    train = pd.read_csv(paths.TRAIN_FILE)
    # one BLAS/OpenMP thread per process: parallelism comes from n_jobs worker processes, and
    # BLAS threads spinning on 2 busy cores cost ~2.5x the CPU time (measured)
    with threadpool_limits(limits=1):
        model, metrics = select_model(train, spec, params)
        if params["nested_folds"]:
            metrics["nested_cv"] = nested_cv(train, spec, params, params["nested_folds"])

    leaderboard = plot_leaderboard(metrics["leaderboard"])
    with writers.together():
        writers.write_bytes(dump_model(model), paths.MODEL_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "train.json")
        writers.save_figure(leaderboard, paths.PLOTS_DIR / "train" / "leaderboard.png")
        config.check_unchanged("train", all_params)


if __name__ == "__main__":
    entry.run(main)
