"""The stage entry points as DVC runs them (`python -m stages.X` in the project root), in a
sandbox copy of the code: they chain and check params before reading. That a rerun, in another
folder and with other n_jobs, gives the same bytes is tests/pipeline/test_determinism.py's forced
rerun of every stage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oneclick.data.contract import GROUP, ID
from tests.conftest import clone_project, code_sandbox
from tests.data.test_robustness import run_module
from tests.features.test_features import PARAMS as FEATURE_PARAMS
from tests.features.test_features import synthetic_merged
from tests.model.test_procedure import TRAIN_PARAMS

CHAIN = ("features", "train", "evaluate")
OUTPUTS = {
    "data/features/train.csv",
    "data/features/test.csv",
    "data/features/feature_spec.json",
    "metrics/features.json",
    "plots/features/phik.png",
    "models/model.skops",
    "metrics/train.json",
    "metrics/evaluate.json",
    "plots/evaluate/roc.csv",
    "plots/evaluate/precision_recall.csv",
    "plots/evaluate/calibration.csv",
    "plots/evaluate/confusion.csv",
    "data/predictions/scores.csv",
    "data/predictions/test.csv",
    "data/predictions/folds.csv",
    "models/folds.skops",
    "plots/evaluate/protocol_folds.csv",
}


def run_chain(root: Path) -> dict[str, bytes]:
    """features -> train -> evaluate on 300 synthetic customers in root; every file's bytes."""
    code_sandbox(root)
    params = {
        "features": FEATURE_PARAMS,
        "train": TRAIN_PARAMS,
        "evaluate": {
            "threshold": 0.5,
            "calibration_bins": 5,
            "bootstrap_samples": 200,
            "protocol_repeats": 2,
            "protocol_folds": 3,
            "protocol_seed": 0,
            "n_jobs": 1,
        },
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    merged = root / "data" / "merged" / "customers.csv"
    merged.parent.mkdir(parents=True)
    synthetic_merged(300, twins=10).to_csv(merged, index=False)
    for stage in CHAIN:
        run = run_module(f"stages.{stage}", [], root)
        assert run.code == 0, (stage, run.stderr)
    files = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


@pytest.mark.pipeline  # three stage runs as subprocesses in a sandbox project
def test_stage_mains_chain(tmp_path: Path) -> None:
    root = tmp_path / "a"
    first = run_chain(root)
    assert set(first) >= OUTPUTS
    metrics = json.loads(first["metrics/evaluate.json"])
    for key in ("roc_auc", "brier", "log_loss"):
        assert 0 <= metrics["test"][key] <= 1
    assert metrics["test"]["roc_auc"] > 0.75 and metrics["protocol"]["roc_auc_mean"] > 0.75
    assert metrics["protocol"]["folds"] == 6
    scores = pd.read_csv(root / "data/predictions/scores.csv")
    merged = pd.read_csv(root / "data/merged/customers.csv")
    test_ids = pd.read_csv(root / "data/features/test.csv")[ID]
    assert scores[ID].tolist() == sorted(merged[ID])
    assert set(scores.loc[scores["split"] == "test", ID]) == set(test_ids)
    assert scores["probability"].between(0, 1).all()
    split_of_group = scores.merge(merged[[ID, GROUP]]).groupby(GROUP)["split"].nunique()
    assert (split_of_group == 1).all()


BAD_PARAMS = [  # stage, block, key, value, the one error line
    ("features", "features", "test_size", 1.5, r"features\.test_size: 1\.5 is not allowed"),
    ("features", "features", "test_size", "0.25", r'features\.test_size: "0\.25" is not allowed'),
    ("evaluate", "evaluate", "threshold", "0,5", r'evaluate\.threshold: "0,5" is not allowed'),
    ("evaluate", "evaluate", "threshold", None, r"evaluate\.threshold: null is not allowed"),
    ("segment", "segment", "threshold", 7, r"segment\.threshold: 7 is not allowed"),
    ("segment", "campaign", "control_share", 1.5, r"campaign\.control_share: 1\.5 is not all"),
]


@pytest.mark.parametrize(("stage", "block", "key", "value", "message"), BAD_PARAMS)
def test_stage_refuses_bad_params_with_one_line_and_writes_nothing(
    reproduced_project: Path, tmp_path: Path, stage, block, key, value, message
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params[block][key] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    before = {p: p.read_bytes() for p in (repo / "metrics").glob("*.json")}
    run = run_module(f"stages.{stage}", [], repo)
    assert run.code == 2
    assert len(run.problems) == 1 and not run.stderr.startswith("INFO"), run.stderr
    assert re.match(rf"^error: params\.yaml: {message}", run.problems[0]), run.problems
    assert {p: p.read_bytes() for p in (repo / "metrics").glob("*.json")} == before


def test_predict_refuses_bad_segment_params_before_reading_the_model(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["segment"]["threshold"] = "0,7"
    (repo / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    (repo / "models" / "model.skops").unlink()  # reading it would be a different error
    out = tmp_path / "scores.csv"
    run = run_module("stages.predict", ["--input", "data/sample", "--output", str(out)], repo)
    assert run.code == 2
    assert run.problems == [
        'error: params.yaml: segment.threshold: "0,7" is not allowed; expected a number in (0, 1)'
    ]
    assert not out.exists()
