"""Stage `features`: train/test split, phik, collinearity rule, engineered features, spec.

Logic: oneclick/features/build.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd

from oneclick.core import config, entry, paths, writers
from oneclick.features.build import (
    build_features,
    check_merged,
    feature_figures,
    features_markdown,
    plot_phik,
)
from oneclick.features.spec import SPEC_FILE


def main() -> None:
    writers.setup_matplotlib()
    all_params = config.load_stage("features")
    params = all_params["features"]
    name = paths.shown(paths.MERGED_FILE)
    merged = pd.read_csv(paths.MERGED_FILE)
    check_merged(merged, name)
    train, test, spec, summary, matrix = build_features(merged, params)
    with writers.together():
        writers.write_csv(train, paths.TRAIN_FILE)
        writers.write_csv(test, paths.TEST_FILE)
        writers.write_json(spec, SPEC_FILE)
        writers.write_json(feature_figures(summary), paths.METRICS_DIR / "features.json")
        writers.write_text(features_markdown(summary), paths.REPORTS_DIR / "features.md")
        writers.save_figure(plot_phik(matrix), paths.PLOTS_DIR / "features" / "phik.png")
        config.check_unchanged("features", all_params)
    entry.log.info(
        "features: %d train / %d test rows, %d features, dropped %s",
        len(train),
        len(test),
        summary["n_features"],
        [d["dropped"] for d in summary["dropped"]],
    )


if __name__ == "__main__":
    entry.run(main)
