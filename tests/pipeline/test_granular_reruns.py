"""Integration: a params change reruns exactly the stages that declare it, and what follows.

Proved from DVC's own output in a copy of the reproduced sample project: `dvc status --json`
names the changed stages, and `dvc repro` prints "Running stage 'x'" for every stage it runs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import clone_project, dvc

DATA_STAGES = {"sample", "clean", "merge", "features"}


def ran(repro_output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", repro_output))


def changed(repo: Path) -> set[str]:
    return set(json.loads(dvc(["status", "--json"], repo).stdout))


def set_param(repo: Path, dotted: str, new: Callable[[Any], Any]) -> None:
    """Replace one params.yaml value by new(old) (comments are lost: fine in a throwaway copy)."""
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    *parents, last = dotted.split(".")
    block = params
    for part in parents:
        block = block[part]
    block[last] = new(block[last])
    text = yaml.safe_dump(params, sort_keys=False, allow_unicode=True)
    (repo / "params.yaml").write_text(text, encoding="utf-8")


def test_segment_threshold_reruns_segment_alone(reproduced_project: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    assert changed(repo) == set()
    set_param(repo, "segment.threshold", lambda old: 0.6 if old != 0.6 else 0.5)
    assert changed(repo) == {"segment"}
    start = time.perf_counter()
    output = dvc(["repro"], repo).stdout
    elapsed = time.perf_counter() - start
    assert ran(output) == {"segment"}, output
    assert "Stage 'shap' didn't change" in output and "Stage 'train' didn't change" in output
    assert elapsed < 60, f"segment alone took {elapsed:.1f} s"  # ~3 s when the machine is idle
    assert changed(repo) == set()


def test_train_param_leaves_data_stages_alone(reproduced_project: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    set_param(repo, "train.knn.n_neighbors", lambda old: old + 2)
    stale = changed(repo)
    assert "train" in stale and not stale & DATA_STAGES, stale
    planned = dvc(["repro", "--dry"], repo).stdout  # what a repro would run, without training
    assert "train" in ran(planned) and not ran(planned) & DATA_STAGES, planned
    for stage in DATA_STAGES:
        assert f"Stage '{stage}' didn't change" in planned
