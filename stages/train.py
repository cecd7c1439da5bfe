"""Stage `train`: the training procedure fitted on the training part -> models/model.skops.

Logic: oneclick/model/training.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import pandas as pd
from threadpoolctl import threadpool_limits

from oneclick.core import config, entry, paths, provenance, writers
from oneclick.features.spec import load_spec
from oneclick.model.persistence import dump_model
from oneclick.model.training import train_model


def main() -> None:
    all_params = config.load_stage("train")
    params = all_params["train"]
    spec = load_spec()
    train = pd.read_csv(paths.TRAIN_FILE)
    # one BLAS thread: the same bits on any machine and thread count (and no spinning threads)
    with threadpool_limits(limits=1):
        model, metrics = train_model(train, spec, params)

    with writers.together():
        writers.write_bytes(dump_model(model), paths.MODEL_FILE)
        writers.write_json(metrics, paths.METRICS_DIR / "train.json")
        provenance.write_record("train", all_params)
        config.check_unchanged("train", all_params)
    entry.log.info("train: %d customers, meta weights %s", len(train), metrics["meta_weight"])


if __name__ == "__main__":
    entry.run(main)
