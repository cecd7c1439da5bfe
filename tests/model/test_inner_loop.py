"""The cheap inner loop of docs/performance.md: a model experiment judged by the protocol
without paying for SHAP (`dvc exp run evaluate -S train.<key>=<value>`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import clone_project, dvc, git


def test_an_evaluate_experiment_reruns_train_and_evaluate_only(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    result = dvc(["exp", "run", "evaluate", "-S", "train.knn.n_neighbors=25", "-n", "k25"], repo)
    assert set(re.findall(r"Running stage '(\w+)'", result.stdout)) == {"train", "evaluate"}
    # the protocol judged the change ...
    before = json.loads(git(["show", "HEAD:metrics/evaluate.json"], repo).stdout)["protocol"]
    after = json.loads((repo / "metrics" / "evaluate.json").read_text())["protocol"]
    assert after["roc_auc_mean"] != before["roc_auc_mean"]
    # ... and SHAP and the segment are left stale, for a full `dvc exp run` when it is kept
    stale = json.loads(dvc(["status", "--json"], repo).stdout)
    assert {"shap", "segment"} <= set(stale) and not {"train", "evaluate"} & set(stale)
