"""Stage `train`: one search over model families on the training part only, then the winner.

1. Per family, a randomized search (grid when small) over params train.search_space, scored by
   ROC-AUC on StratifiedGroupKFold folds of the training part (duplicate groups kept together).
2. Each family's best is re-scored by repeated CV on fresh fold seeds; with train.vote_top = k >= 2
   a soft vote of the k best families' pipelines is scored on the same folds and competes. The
   best mean wins, a tie goes to the simpler model (fresh folds damp the optimism of picking the
   maximum of many single-CV scores).
3. Calibration: CalibratedClassifierCV wraps the winner only if it lowers the CV score named
   by train.calibration.metric (log-loss or Brier; always for models without predict_proba,
   e.g. SVC). Both scores of every method go to metrics/train.json.
"""

from __future__ import annotations

import pandas as pd
from threadpoolctl import threadpool_limits

from oneclick.core import config, entry, paths, writers
from oneclick.features.spec import load_spec
from oneclick.model.training import nested_cv, plot_leaderboard, select_model


def main() -> None:
    writers.setup_matplotlib()
    params = config.load_params()["train"]
    spec = load_spec()
    train = pd.read_csv(paths.TRAIN_FILE)
    # one BLAS/OpenMP thread per process: parallelism comes from n_jobs worker processes, and
    # BLAS threads spinning on 2 busy cores cost ~2.5x the CPU time (measured)
    with threadpool_limits(limits=1):
        model, metrics = select_model(train, spec, params)
        if params["nested_folds"]:
            metrics["nested_cv"] = nested_cv(train, spec, params, params["nested_folds"])

    import joblib

    paths.MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, paths.MODEL_FILE)
    writers.write_json(metrics, paths.METRICS_DIR / "train.json")
    writers.save_figure(
        plot_leaderboard(metrics["leaderboard"]), paths.PLOTS_DIR / "train" / "leaderboard.png"
    )


if __name__ == "__main__":
    entry.run(main)
